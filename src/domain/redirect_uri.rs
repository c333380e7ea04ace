use super::Invalid;
use url::{Host, Url};

/// The longest `redirect_uri` accepted anywhere.
pub const MAX_REDIRECT_URI_BYTES: usize = 2048;

/// Where a platform sends the user back: an absolute http(s) URL without a fragment or
/// credentials, whose origin can be stated exactly (a plain DNS name or an IP address), so that
/// it can go into a Content-Security-Policy without adding anything to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    url: Url,
}

impl RedirectUri {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid::new(
                "redirect_uri",
                format!(
                    "redirect_uri must be an absolute http:// or https:// URL of at most \
                     {MAX_REDIRECT_URI_BYTES} bytes, with a plain host name and no fragment"
                ),
            )
        };
        // `url` would quietly drop tabs and newlines; platforms compare redirect URIs byte for
        // byte, so what is kept must be exactly what was given.
        // Only the characters a URI may hold (RFC 3986), so the URI is as long in every form it
        // travels in (given, parsed, sent to the platform) as it was when checked; anything else
        // must arrive percent-encoded, and international host names in their `xn--` form.
        if raw.is_empty() || raw.len() > MAX_REDIRECT_URI_BYTES || !raw.bytes().all(is_uri_byte) {
            return Err(bad());
        }
        let url = Url::parse(raw).map_err(|_| bad())?;
        // Written as the URL parser writes it (an empty path may be left out): what the consent
        // page shows is then exactly where the code goes, with no `https:///x`, `0x7f.1` or
        // `%6d%79.app` standing for another address.
        let canonical = url.as_str();
        if raw != canonical && format!("{raw}/") != canonical {
            return Err(Invalid::new(
                "redirect_uri",
                format!("redirect_uri must be written in its canonical form: {canonical}"),
            ));
        }
        let exact_host = match url.host() {
            Some(Host::Domain(name)) => is_dns_name(name),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => true,
            None => false,
        };
        if !matches!(url.scheme(), "http" | "https")
            || !exact_host
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(bad());
        }
        Ok(Self {
            raw: raw.to_owned(),
            url,
        })
    }

    /// Exactly as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// `scheme://host[:port]`, serialised from the parsed URL, never copied from the input.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// The parsed URL, e.g. to append `code` and `state` to.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// The characters RFC 3986 allows in a URI: unreserved, reserved, and `%` for escapes.
fn is_uri_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b)
}

/// Letters, digits and hyphens in dot-separated labels (international names arrive here in
/// their `xn--` form). Refuses `*`, `;` and anything else a policy header would read as syntax.
fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls_pass_and_keep_their_bytes() {
        for good in [
            "https://my.app/cb",
            "http://127.0.0.1:9000/callback?x=1",
            "https://[::1]:8443/cb",
            "https://xn--bcher-kva.example/cb?q=%C3%A9",
            "https://my.app",
        ] {
            let uri = RedirectUri::parse(good).unwrap();
            assert_eq!(uri.as_str(), good);
        }
        assert_eq!(
            RedirectUri::parse("https://xn--bcher-kva.example:8443/cb")
                .unwrap()
                .origin(),
            "https://xn--bcher-kva.example:8443"
        );
    }

    #[test]
    fn origins_that_cannot_be_stated_exactly_are_refused() {
        let long = format!("https://a.example/{}", "x".repeat(MAX_REDIRECT_URI_BYTES));
        for bad in [
            "https://*.evil.com/cb",
            "https://a.com;frame-ancestors*/cb",
            "https://a.com/cb#frag",
            "https://user:pw@a.com/cb",
            "javascript:alert(1)",
            "ftp://a.com/",
            "https://a.com/\tcb",
            "https://a.com/cb\n",
            "https://bücher.example/cb",
            "https://a.com/é",
            "https://a.com/\"<>",
            "https:///x",
            "https://0x7f.1/cb",
            "https://%6d%79.app/",
            "https:evil.example/@my.app/cb",
            "https:/my.app/cb",
            "HTTPS://My.App/cb",
            "/relative",
            "",
            long.as_str(),
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
