//! The readable output of the client commands: short summaries and aligned tables.
//!
//! Everything shown comes from the server and, through it, from the platforms (a display name
//! is whatever its owner typed), so control characters are replaced before they can reach the
//! terminal and move its cursor or rewrite what it shows.

use super::answers::{Account, Key, Member, Post, Status, Target};

pub fn status(status: &Status) -> String {
    let key = &status.key;
    let limit = &status.rate_limit;
    let rows = [
        (
            "Workspace",
            format!(
                "{} ({}), {} plan",
                clean(&status.workspace.name),
                clean(&status.workspace.id),
                clean(&status.workspace.plan)
            ),
        ),
        (
            "Key",
            format!(
                "\"{}\" ({}), {}, ending in {}",
                clean(&key.label),
                clean(&key.id),
                clean(&key.mode),
                clean(&key.last4)
            ),
        ),
        ("Scopes", scopes(&key.scopes)),
        (
            "Rate limit",
            format!(
                "{} of {} requests left this minute, resets in {} s",
                limit.remaining, limit.limit, limit.reset
            ),
        ),
    ];
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(name, value)| format!("{name:<width$}  {value}\n"))
        .collect()
}

pub fn accounts(accounts: &[Account]) -> String {
    if accounts.is_empty() {
        return "No connected accounts. Start one with `socializer connect PLATFORM`.\n".into();
    }
    table(
        &[
            "ID",
            "PLATFORM",
            "HANDLE",
            "NAME",
            "STATUS",
            "CONNECTED (UTC)",
            "TOKEN EXPIRES (UTC)",
        ],
        accounts
            .iter()
            .map(|a| {
                vec![
                    clean(&a.id),
                    clean(&a.platform),
                    clean(&a.handle),
                    clean(&a.display_name),
                    clean(&a.status),
                    when(&a.connected_at),
                    a.token_expires_at.as_deref().map_or("-".into(), when),
                ]
            })
            .collect(),
    )
}

pub fn keys(keys: &[Key]) -> String {
    if keys.is_empty() {
        return "No API keys. Create one with `socializer keys create --label LABEL`.\n".into();
    }
    table(
        &[
            "ID",
            "LABEL",
            "MODE",
            "KEY",
            "SCOPES",
            "STATE",
            "CREATED (UTC)",
            "LAST USED (UTC)",
            "EXPIRES (UTC)",
        ],
        keys.iter()
            .map(|k| {
                vec![
                    clean(&k.id),
                    clean(&k.label),
                    clean(&k.mode),
                    masked(&k.mode, &k.last4),
                    scopes(&k.scopes),
                    clean(&k.state),
                    when(&k.created_at),
                    k.last_used_at.as_deref().map_or("never".into(), when),
                    k.expires_at.as_deref().map_or("never".into(), when),
                ]
            })
            .collect(),
    )
}

pub fn members(members: &[Member]) -> String {
    table(
        &["ID", "EMAIL", "ROLE", "JOINED (UTC)"],
        members
            .iter()
            .map(|m| {
                vec![
                    clean(&m.user_id),
                    clean(&m.email),
                    clean(&m.role),
                    when(&m.joined_at),
                ]
            })
            .collect(),
    )
}

/// What `keys create` says about the new key, besides the key itself.
pub fn created(key: &Key) -> String {
    format!(
        "Created key \"{}\" ({}): {}, {}, expires {}.\nCopy it now: it is shown this once and \
         cannot be shown again.\n",
        clean(&key.label),
        clean(&key.id),
        clean(&key.mode),
        scopes(&key.scopes),
        key.expires_at.as_deref().map_or("never".into(), when)
    )
}

/// A key as the settings page shows it: its prefix and last 4 characters.
fn masked(mode: &str, last4: &str) -> String {
    format!("sk_{}_…{}", clean(mode), clean(last4))
}

fn scopes(scopes: &[String]) -> String {
    if scopes.is_empty() {
        "full access".into()
    } else {
        clean(&scopes.join(" "))
    }
}

/// How an account of a post is named: "@ada on x".
fn target_name(target: &Target) -> String {
    format!(
        "{} on {}",
        clean(target.handle.as_deref().unwrap_or(&target.account_id)),
        clean(&target.platform)
    )
}

/// A post in a few lines: its id and state, then each account's state, link or error.
pub fn post(post: &Post) -> String {
    let mut out = format!(
        "{}  {}  {} UTC\n",
        clean(&post.id),
        clean(&post.state),
        when(&post.publish_at)
    );
    for target in &post.targets {
        out.push_str(&format!(
            "  {}: {}",
            target_name(target),
            clean(&target.state)
        ));
        if let Some(url) = &target.url {
            out.push_str(&format!("  {}", clean(url)));
        }
        if let Some(error) = &target.error {
            out.push_str(&format!(
                "  ({}: {})",
                clean(&error.code),
                clean(&error.message)
            ));
        }
        out.push('\n');
    }
    out
}

/// A post with its text and every attempt.
pub fn post_details(post_view: &Post) -> String {
    let mut out = post(post_view);
    out.push_str(&format!("\n{}\n", clean(&post_view.text)));
    for target in &post_view.targets {
        if target.attempts.is_empty() {
            continue;
        }
        out.push_str(&format!("\nAttempts for {}:\n", target_name(target)));
        for attempt in &target.attempts {
            out.push_str(&format!(
                "  {} UTC  {}{}{}\n",
                when(&attempt.started_at),
                clean(&attempt.outcome),
                attempt
                    .status_code
                    .map(|s| format!(" (HTTP {s})"))
                    .unwrap_or_default(),
                attempt
                    .detail
                    .as_deref()
                    .map(|d| format!(": {}", clean(d)))
                    .unwrap_or_default()
            ));
        }
    }
    out
}

pub fn posts(posts: &[Post]) -> String {
    if posts.is_empty() {
        return "No posts. Write one with `socializer post TEXT --account ID`.\n".into();
    }
    table(
        &["ID", "STATE", "WHEN (UTC)", "ACCOUNTS", "TEXT"],
        posts
            .iter()
            .map(|p| {
                let text = clean(&p.text.replace('\n', " "));
                let short: String = text.chars().take(40).collect();
                vec![
                    clean(&p.id),
                    clean(&p.state),
                    when(&p.publish_at),
                    p.targets
                        .iter()
                        .map(|t| format!("{}:{}", clean(&t.platform), clean(&t.state)))
                        .collect::<Vec<_>>()
                        .join(" "),
                    if short.chars().count() < text.chars().count() {
                        format!("{short}…")
                    } else {
                        short
                    },
                ]
            })
            .collect(),
    )
}

/// An RFC 3339 time from the API as `2026-11-22 21:33`; anything else as it came.
fn when(raw: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(raw, &Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => clean(raw),
    }
}

/// Control characters (escape sequences, carriage returns, tabs) become `?`.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Left-aligned columns two spaces apart, sized to their widest cell.
fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (cell, width) in cells.iter().zip(&widths) {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(headers.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_whatever_the_width_of_the_characters_bytes() {
        let out = table(
            &["A", "B"],
            vec![
                vec!["é".into(), "x".into()],
                vec!["long cell".into(), "y".into()],
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "A          B");
        assert_eq!(lines[1], "é          x");
        assert_eq!(lines[2], "long cell  y");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(clean("ok\u{1b}[2J\r\tname"), "ok?[2J??name");
    }

    #[test]
    fn times_show_in_utc_to_the_minute() {
        assert_eq!(when("2026-11-22T21:33:05Z"), "2026-11-22 21:33");
        assert_eq!(when("2026-11-22T23:33:05+02:00"), "2026-11-22 21:33");
        assert_eq!(when("soon"), "soon");
    }
}
