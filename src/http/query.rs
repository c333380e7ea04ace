//! Percent-encoded text as both surfaces refuse it: bytes that are not UTF-8 once decoded.

/// True when every key and value decodes to valid UTF-8.
pub fn is_strict_utf8(encoded: &[u8]) -> bool {
    encoded.split(|b| *b == b'&').all(|pair| {
        let spaced: Vec<u8> = pair
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&spaced)
            .decode_utf8()
            .is_ok()
    })
}
