//! The platforms accounts connect to, by name. What each one is (endpoints, scopes, how its
//! profile is read) is described in `connect::providers`.

use super::KeyMode;

crate::named_enum! {
    #[derive(Hash)]
    pub enum Platform {
        X = "x",
        LinkedIn = "linkedin",
        /// Built in, served by Socializer itself: test-mode data.
        Sandbox = "sandbox",
    }
}

impl Platform {
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Sandbox => "Sandbox",
            Platform::X => "X",
            Platform::LinkedIn => "LinkedIn",
        }
    }

    /// Sandbox connections are test-mode data; the real platforms are live.
    pub fn mode(self) -> KeyMode {
        match self {
            Platform::Sandbox => KeyMode::Test,
            Platform::X | Platform::LinkedIn => KeyMode::Live,
        }
    }
}
