//! A readable name for the device behind a `User-Agent`, for the list of sessions. Only the
//! browser family and the operating system: enough to recognise one's own devices, nothing a
//! version number would add. woothee reads the header; this names what it found.

use woothee::parser::Parser;
use woothee::woothee::VALUE_UNKNOWN;

/// `Firefox on Linux`, `Safari on iOS`, `curl`, or `Unknown device`.
pub fn device_name(user_agent: &str) -> String {
    let Some(found) = Parser::new().parse(user_agent) else {
        return "Unknown device".to_owned();
    };
    let known = |value: &str| (!value.is_empty() && value != VALUE_UNKNOWN).then_some(());
    let browser = known(found.name).map(|()| browser_name(found.name, user_agent));
    let system = known(found.os).map(|()| system_family(found.os));
    match (browser, system) {
        (Some(browser), Some(system)) if browser != system => format!("{browser} on {system}"),
        (Some(name), _) | (None, Some(name)) => name.to_owned(),
        (None, None) => "Unknown device".to_owned(),
    }
}

/// woothee names command-line tools "HTTP Library"; the tool's own name says more, when it is
/// a plain word (never characters that could disguise it).
fn browser_name<'a>(name: &'a str, user_agent: &'a str) -> &'a str {
    let plain = |tool: &&str| {
        !tool.is_empty()
            && tool
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match user_agent.split(['/', ' ']).next().filter(plain) {
        Some(tool) if name == "HTTP Library" => tool,
        _ => name,
    }
}

/// One name per family: "Windows 10" and "Windows 8.1" are both Windows, an iPhone runs iOS.
fn system_family(os: &str) -> &str {
    match os {
        os if os.starts_with("Windows") => "Windows",
        "Mac OSX" | "Mac OS Classic" => "macOS",
        "iPhone" | "iPad" | "iPod" | "iOS" => "iOS",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::device_name;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        for (agent, name) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
                "Chrome on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            ("curl/8.5.0", "curl"),
            ("", "Unknown device"),
            ("\u{202e}odd", "Unknown device"),
        ] {
            assert_eq!(device_name(agent), name, "{agent}");
        }
    }
}
