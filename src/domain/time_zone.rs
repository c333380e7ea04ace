//! A person's time zone: an IANA name, checked against the time zone database built into the
//! binary (jiff's bundled copy, so the host's `/usr/share/zoneinfo` does not matter). Times are
//! stored in UTC; a zone only turns what a person types into UTC and UTC into what they read.

use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        let zone = jiff::tz::db().get(raw).map_err(|_| {
            Invalid::new(
                "time_zone",
                format!(
                    "{raw:?} is not a time zone name such as Europe/Paris or America/New_York."
                ),
            )
        })?;
        Ok(Self {
            name: raw.to_owned(),
            zone,
        })
    }

    /// UTC, for people who have not chosen a zone.
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Every zone the database knows, sorted, for a picker.
    pub fn all() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
        names.sort();
        names
    }

    /// A local date and time in this zone (`YYYY-MM-DDTHH:MM` as a form's `datetime-local` sends
    /// it, or `YYYY-MM-DD HH:MM`) as Unix seconds. A time that a clock change skips or repeats
    /// is read as the clocks would show it just after the change (jiff's "compatible" rule).
    pub fn to_unix(&self, local: &str) -> Result<i64, Invalid> {
        let bad = || {
            Invalid::new(
                "publish_at",
                format!("{local:?} is not a date and time like 2026-12-24 09:00."),
            )
        };
        let normalized = local.trim().replacen(' ', "T", 1);
        let civil: jiff::civil::DateTime = normalized.parse().map_err(|_| bad())?;
        let zoned = civil.to_zoned(self.zone.clone()).map_err(|_| bad())?;
        Ok(zoned.timestamp().as_second())
    }

    /// Unix seconds as this zone's local `YYYY-MM-DDTHH:MM` (a `datetime-local` field's value).
    pub fn local_input(&self, unix: i64) -> String {
        self.format(unix, "%Y-%m-%dT%H:%M")
    }

    /// Unix seconds as this zone reads them: "2026-12-24 09:00 CET".
    pub fn show(&self, unix: i64) -> String {
        self.format(unix, "%Y-%m-%d %H:%M %Z")
    }

    fn format(&self, unix: i64, pattern: &str) -> String {
        jiff::Timestamp::from_second(unix)
            .map(|t| t.to_zoned(self.zone.clone()).strftime(pattern).to_string())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_become_utc_in_the_named_zone() {
        let paris = TimeZoneName::parse("Europe/Paris").unwrap();
        // 09:00 in Paris in winter is 08:00 UTC; in summer 07:00 UTC.
        assert_eq!(paris.to_unix("2026-12-24T09:00").unwrap(), 1_798_099_200);
        assert_eq!(paris.to_unix("2026-07-01 09:00").unwrap(), 1_782_889_200);
        assert_eq!(paris.local_input(1_798_099_200), "2026-12-24T09:00");
        assert_eq!(
            TimeZoneName::utc().show(1_798_099_200),
            "2026-12-24 08:00 UTC"
        );
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
        assert!(TimeZoneName::parse("").is_err());
        assert!(paris.to_unix("tomorrow").is_err());
        assert!(paris.to_unix("2026-02-30T09:00").is_err());
        assert!(TimeZoneName::all().iter().any(|n| n == "America/New_York"));
    }
}
