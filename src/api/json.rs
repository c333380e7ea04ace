//! JSON request bodies: at most 64 KiB (413), malformed or with unknown fields a 400
//! `invalid_request` whose message names the problem.

use super::error::ApiError;
use actix_web::error::JsonPayloadError;
use actix_web::web;

pub const MAX_JSON_BYTES: usize = 64 * 1024;

pub fn config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BYTES)
        .error_handler(|err, _req| {
            match err {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ApiError::PayloadTooLarge,
                JsonPayloadError::ContentType => ApiError::InvalidRequest(
                    "Send the body as JSON (Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Deserialize(e) => {
                    ApiError::InvalidRequest(format!("Invalid JSON body: {e}"))
                }
                other => ApiError::InvalidRequest(format!("Invalid JSON body: {other}")),
            }
            .into()
        })
}

/// A count in a JSON body. JSON has one kind of number, so `24.0` is the whole number 24 as
/// much as `24` is (and JSON Schema's `integer` says so too); a fraction, a negative number or
/// one beyond `u32` is refused, naming `field`.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D, field: &str) -> Result<u32, D::Error> {
    use serde::Deserialize as _;
    let number = serde_json::Number::deserialize(d)?;
    as_whole(&number).ok_or_else(|| not_whole(field, &number))
}

/// [`whole_number`], for a field that may be absent or null.
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    d: D,
    field: &str,
) -> Result<Option<u32>, D::Error> {
    use serde::Deserialize as _;
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(number) => as_whole(&number)
            .map(Some)
            .ok_or_else(|| not_whole(field, &number)),
    }
}

fn not_whole<E: serde::de::Error>(field: &str, number: &serde_json::Number) -> E {
    E::custom(format!(
        "{field}: {number} is not a whole number from 0 to {}",
        u32::MAX
    ))
}

fn as_whole(number: &serde_json::Number) -> Option<u32> {
    if let Some(n) = number.as_u64() {
        return u32::try_from(n).ok();
    }
    let f = number.as_f64()?;
    (f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f)).then_some(f as u32)
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into())
}

/// A query string decoded strictly: bytes that are not UTF-8 once percent-decoded are a 400,
/// never quietly replaced (actix-web's own `Query` would store U+FFFD).
pub struct StrictQuery<T>(pub T);

impl<T> std::ops::Deref for StrictQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned> actix_web::FromRequest for StrictQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let raw = req.query_string().as_bytes();
        std::future::ready(if !crate::http::is_strict_utf8(raw) {
            Err(ApiError::InvalidRequest(
                "Invalid query: it is not valid UTF-8 once percent-decoded".into(),
            ))
        } else {
            serde_urlencoded::from_bytes(raw)
                .map(StrictQuery)
                .map_err(|e| ApiError::InvalidRequest(format!("Invalid query: {e}")))
        })
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| ApiError::InvalidRequest(format!("Invalid query: {err}")).into())
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[serde(deserialize_with = "n")]
        n: u32,
        #[serde(default, deserialize_with = "m")]
        m: Option<u32>,
    }

    fn n<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        super::whole_number(d, "n")
    }

    fn m<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        super::optional_whole_number(d, "m")
    }

    fn read(json: &str) -> Option<(u32, Option<u32>)> {
        serde_json::from_str::<Body>(json).ok().map(|b| (b.n, b.m))
    }

    #[test]
    fn whole_numbers_are_read_however_json_writes_them() {
        assert_eq!(read(r#"{"n": 24}"#), Some((24, None)));
        assert_eq!(read(r#"{"n": 24.0, "m": 1e2}"#), Some((24, Some(100))));
        assert_eq!(read(r#"{"n": 0, "m": null}"#), Some((0, None)));
        assert_eq!(read(r#"{"n": 4294967295}"#), Some((u32::MAX, None)));
        for bad in [
            r#"{"n": 1.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": -1.0}"#,
            r#"{"n": 4294967296}"#,
            r#"{"n": 1e400}"#,
            r#"{"n": "24"}"#,
            r#"{"n": 1, "m": 0.5}"#,
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }
}
