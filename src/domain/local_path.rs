/// A path on this site, safe to redirect to: `next` never leads off-site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    pub fn parse(raw: &str) -> Option<Self> {
        let local = raw.starts_with('/')
            // `//host` and `/\host` are read by browsers as another site.
            && !raw.starts_with("//")
            && !raw.starts_with("/\\")
            && raw.len() <= 2048
            && !raw.chars().any(|c| c.is_control() || c == '\\' || c.is_whitespace());
        local.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_pass() {
        assert!(LocalPath::parse("/dashboard").is_some());
        assert!(LocalPath::parse("/settings/api-keys?x=1").is_some());
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "dashboard",
            "",
            "/a\r\nLocation: x",
            "javascript:alert(1)",
            "/\\/evil",
        ] {
            assert!(LocalPath::parse(bad).is_none(), "{bad:?} was accepted");
        }
    }
}
