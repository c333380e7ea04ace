//! Limits that a stranger cannot use up for someone else: invitations are counted per address
//! and inviting workspace, reset links per address asked for and client address. And what a
//! stranger writes into a workspace's name reaches a subject line quoted and cut.

use crate::harness::{Browser, TestApp, mailed_link, unique_email};
use crate::invitations::invite;
use reqwest::StatusCode;

#[actix_web::test]
async fn a_stranger_s_invitations_never_use_up_an_employer_s() {
    let app = TestApp::spawn().await;
    let hire = unique_email("new.hire");
    let stranger = app.browser();
    stranger
        .sign_up(&unique_email("stranger"), "Strangers")
        .await;
    let employer = app.browser();
    employer
        .sign_up(&unique_email("employer"), "Employer")
        .await;

    let mut statuses = Vec::new();
    for _ in 0..6 {
        // Each sent again, as a stranger flooding one inbox would.
        let sent = invite(&stranger, &hire, "member").await.status();
        statuses.push(sent);
        app.db.execute_as_admin(&format!(
            "UPDATE invitations SET revoked_at = 1 WHERE email = '{hire}' AND revoked_at IS NULL"
        ));
    }
    assert_eq!(
        statuses,
        [
            vec![StatusCode::SEE_OTHER; 5],
            vec![StatusCode::TOO_MANY_REQUESTS]
        ]
        .concat()
    );
    assert_eq!(
        invite(&employer, &hire, "admin").await.status(),
        StatusCode::SEE_OTHER,
        "the employer's own count is untouched"
    );
}

#[actix_web::test]
async fn a_stranger_s_reset_requests_never_use_up_the_owner_s() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SOCIALIZER_TRUST_FORWARDED_FOR".into(), "true".into());
    })
    .await;
    let owner_email = unique_email("owner");
    app.browser().sign_up(&owner_email, "Owned").await;
    let ask = |from: &'static str| {
        let app_base = app.base.clone();
        let email = owner_email.clone();
        async move {
            let browser = Browser::new(&app_base);
            let token = browser.csrf("/forgot-password").await;
            browser
                .client
                .post(format!("{app_base}/forgot-password"))
                .header("X-Forwarded-For", from)
                .form(&[("email", email.as_str()), ("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(ask("203.0.113.66").await);
    }
    assert_eq!(statuses[..5], [StatusCode::SEE_OTHER; 5]);
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
    // The owner, from their own address, still gets their link.
    assert_eq!(ask("198.51.100.20").await, StatusCode::SEE_OTHER);
    let link = mailed_link(&app.mail, &owner_email, "/reset-password").await;
    assert!(link.starts_with("/reset-password?token="));
}

#[actix_web::test]
async fn an_invitation_s_subject_quotes_and_cuts_the_workspace_s_name() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    let name = "Claim your prize now at evil.example and enter your password there right away";
    owner.sign_up(&unique_email("spammer"), name).await;
    let invited = unique_email("target");
    assert_eq!(
        invite(&owner, &invited, "member").await.status(),
        StatusCode::SEE_OTHER
    );
    mailed_link(&app.mail, &invited, "/invitation").await;
    let subject = std::fs::read_dir(&app.mail)
        .unwrap()
        .flatten()
        // The headers as written: quoted-printable is the body's encoding, and decoding it over
        // a header would join an encoded word ending a line ("…?=") with the next.
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .filter(|m| m.contains(&invited))
        .find_map(|m| {
            // The header, unfolded: continuation lines start with white space.
            let mut lines = m.lines().skip_while(|l| !l.starts_with("Subject:"));
            let first = lines.next()?.to_owned();
            let rest: String = lines
                .take_while(|l| l.starts_with(' ') || l.starts_with('\t'))
                .collect();
            Some(decoded_subject(&format!("{first}{rest}")))
        })
        .expect("a subject");
    assert!(
        subject.contains(" invited you to \u{201c}Claim your prize"),
        "quoted: {subject}"
    );
    assert!(subject.contains("\u{2026}\u{201d}"), "cut: {subject}");
    assert!(!subject.contains("right away"), "{subject}");
    assert!(subject.len() < 120, "{subject}");
}

/// A `Subject:` line with its RFC 2047 encoded words (`=?utf-8?b?…?=`) decoded.
fn decoded_subject(line: &str) -> String {
    use base64::Engine as _;
    line.trim_start_matches("Subject:")
        .split_whitespace()
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            match lower
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
            {
                Some(_) => {
                    let encoded = &word["=?utf-8?b?".len()..word.len() - 2];
                    String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(encoded)
                            .expect("base64"),
                    )
                    .expect("UTF-8")
                }
                None => format!(" {word} "),
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
