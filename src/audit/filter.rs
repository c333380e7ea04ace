//! Which entries of the log a reader asks for: who made them, which action, and between which
//! days. Parsed once from the query string, so a filtered view is an address that can be
//! bookmarked and shared.

use super::Event;
use crate::db::audit_events::EventFilter;
use crate::domain::Invalid;

/// A query parameter's value, trimmed; absent when empty.
fn present(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|v| !v.is_empty())
}

/// A filter as parsed; empty keeps every entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The actor's name as the log records it (an email, a masked key, "operator", …).
    pub actor: Option<String>,
    pub action: Option<Event>,
    /// First day kept, `YYYY-MM-DD` (UTC).
    pub from: Option<time::Date>,
    /// Last day kept, `YYYY-MM-DD` (UTC), whole.
    pub to: Option<time::Date>,
}

const DAY: time::format_description::well_known::Iso8601<
    { time::format_description::well_known::iso8601::Config::DEFAULT.encode() },
> = time::format_description::well_known::Iso8601::DEFAULT;

impl Filter {
    /// Parses the query string's `actor`, `action`, `from` and `to`; empty values are absent.
    pub fn parse(
        actor: Option<&str>,
        action: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Self, Invalid> {
        let action = match present(action) {
            None => None,
            Some(raw) => Some(Event::parse(raw).ok_or_else(|| {
                Invalid::new("action", format!("{raw:?} is not an action of the log."))
            })?),
        };
        let day = |field: &'static str, raw: Option<&str>| match present(raw) {
            None => Ok(None),
            Some(raw) => time::Date::parse(raw, &DAY).map(Some).map_err(|_| {
                Invalid::new(field, "Give the day as YYYY-MM-DD, for example 2026-12-07.")
            }),
        };
        let (from, to) = (day("from", from)?, day("to", to)?);
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(Invalid::new("to", "The last day comes before the first."));
        }
        Ok(Self {
            actor: present(actor).map(str::to_owned),
            action,
            from,
            to,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The filter as query parameters (`actor=…&action=…`), each value encoded, for links that
    /// keep it.
    pub fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(actor) = &self.actor {
            query.append_pair("actor", actor);
        }
        if let Some(action) = self.action {
            query.append_pair("action", action.as_str());
        }
        if let Some(from) = self.from {
            query.append_pair("from", &from.to_string());
        }
        if let Some(to) = self.to {
            query.append_pair("to", &to.to_string());
        }
        query.finish()
    }

    pub(super) fn stored(&self) -> EventFilter {
        let midnight = |day: time::Date| day.midnight().assume_utc().unix_timestamp();
        EventFilter {
            actor: self.actor.clone(),
            action: self.action.map(|a| a.as_str().to_owned()),
            since: self.from.map(midnight),
            until: self.to.and_then(|day| day.next_day()).map(midnight),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_reads_back_from_its_own_query() {
        let filter = Filter::parse(
            Some("ada@example.com"),
            Some("key.created"),
            Some("2026-12-01"),
            Some("2026-12-07"),
        )
        .unwrap();
        let query = filter.query();
        let pairs: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        let again = Filter::parse(
            pairs.get("actor").map(String::as_str),
            pairs.get("action").map(String::as_str),
            pairs.get("from").map(String::as_str),
            pairs.get("to").map(String::as_str),
        )
        .unwrap();
        assert_eq!(again, filter);
        let stored = filter.stored();
        assert_eq!(stored.since, Some(1_796_083_200), "2026-12-01 00:00 UTC");
        assert_eq!(
            stored.until,
            Some(1_796_688_000),
            "the last day whole: 2026-12-08 00:00"
        );
    }

    #[test]
    fn bad_days_and_actions_are_refused() {
        for (action, from, to) in [
            (Some("key.eaten"), None, None),
            (None, Some("2026-13-01"), None),
            (None, Some("yesterday"), None),
            (None, Some("2026-12-07"), Some("2026-12-01")),
        ] {
            assert!(
                Filter::parse(None, action, from, to).is_err(),
                "{action:?} {from:?} {to:?}"
            );
        }
        assert!(
            Filter::parse(Some(" "), Some(""), None, None)
                .unwrap()
                .is_empty()
        );
    }
}
