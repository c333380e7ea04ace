//! Live or test: which data a key, an account or a flow belongs to.

/// What every live key starts with.
pub const LIVE_PREFIX: &str = "sk_live_";
/// What every test key starts with.
pub const TEST_PREFIX: &str = "sk_test_";

crate::named_enum! {
    /// Live keys see live data; test keys only test-mode data.
    pub enum KeyMode {
        Live = "live",
        Test = "test",
    }
}

impl KeyMode {
    pub fn prefix(self) -> &'static str {
        match self {
            KeyMode::Live => LIVE_PREFIX,
            KeyMode::Test => TEST_PREFIX,
        }
    }
}
