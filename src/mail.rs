//! Outgoing email: over SMTP when `SOCIALIZER_SMTP_URL` is set, otherwise written as `.eml`
//! files to the outbox folder with the link logged, for development.

use crate::config::MailSetting;
use crate::domain::Email;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot use the SMTP URL")]
    Setting(#[source] lettre::transport::smtp::Error),
    #[error("cannot build the email")]
    Address(#[source] lettre::address::AddressError),
    #[error("cannot build the email")]
    Build(#[source] lettre::error::Error),
    #[error("cannot write to the outbox")]
    Outbox(#[source] std::io::Error),
    #[error("SMTP delivery failed")]
    Smtp(#[source] lettre::transport::smtp::Error),
}

/// Where mail goes out from, and the service's own address for the links it carries.
#[derive(Clone, Copy)]
pub struct Post<'a> {
    pub mailer: &'a Mailer,
    pub public_url: &'a url::Url,
}

impl Post<'_> {
    /// `PUBLIC_URL/path`, for a link in a message.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

/// Sends `message` after the answer has gone: how long the mail server takes must not show in
/// how long the answer took (it would tell whether an address has an account). A failure is the
/// operator's to fix and is logged, never the asker's.
pub fn send_later(mailer: &Mailer, message: OutgoingEmail, what: &'static str) {
    let mailer = mailer.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(message).await {
            log::error!("{what} email not sent: {}", crate::logging::Chain(&e));
        }
    });
}

/// The longest part of a name chosen by a person (a workspace's) that a subject line carries:
/// quoted by the caller and kept short enough not to read as the message itself.
const SUBJECT_NAME_CHARS: usize = 40;

pub fn subject_cut(name: &str) -> String {
    if name.chars().count() <= SUBJECT_NAME_CHARS {
        return name.to_owned();
    }
    let cut: String = name.chars().take(SUBJECT_NAME_CHARS - 1).collect();
    format!("{}\u{2026}", cut.trim_end())
}

/// One message, plain text, with at most one link that matters.
pub struct OutgoingEmail {
    pub to: Email,
    pub subject: String,
    pub body: String,
    /// Logged in development (outbox) mode so the link can be followed without a mail client.
    pub link: Option<String>,
}

#[derive(Clone)]
enum Transport {
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// `public_host` names the sender domain (`no-reply@host`).
    pub fn new(setting: &MailSetting, public_host: &str) -> Result<Self, MailError> {
        let transport = match setting {
            MailSetting::Outbox(dir) => Transport::Outbox(dir.clone()),
            MailSetting::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(MailError::Setting)?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
        };
        let domain =
            if public_host.contains('.') && public_host.parse::<std::net::IpAddr>().is_err() {
                public_host
            } else {
                "localhost"
            };
        let from = format!("Socializer <no-reply@{domain}>")
            .parse()
            .map_err(MailError::Address)?;
        Ok(Self { transport, from })
    }

    pub async fn send(&self, email: OutgoingEmail) -> Result<(), MailError> {
        let to: Mailbox = email.to.as_str().parse().map_err(MailError::Address)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .body(email.body)
            .map_err(MailError::Build)?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await.map_err(MailError::Smtp)?;
            }
            Transport::Outbox(dir) => {
                let path = write_to_outbox(dir, &message.formatted())
                    .await
                    .map_err(MailError::Outbox)?;
                match &email.link {
                    Some(link) => log::info!(
                        "email \"{}\" written to {}; link: {link}",
                        email.subject,
                        path.display()
                    ),
                    None => log::info!("email \"{}\" written to {}", email.subject, path.display()),
                }
            }
        }
        Ok(())
    }
}

/// Writes the message whole or not at all (a temporary file renamed into place).
async fn write_to_outbox(dir: &std::path::Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let dir = dir.to_owned();
    let bytes = bytes.to_owned();
    tokio::task::spawn_blocking(move || {
        crate::private_files::dir(&dir)?;
        let name = format!(
            "{}-{}",
            crate::domain::now(),
            hex::encode(crate::crypto::random_bytes::<6>())
        );
        let temp = dir.join(format!(".{name}.tmp"));
        let path = dir.join(format!("{name}.eml"));
        // Private from its first byte: the message carries a live verification link.
        let mut file = crate::private_files::create_new(&temp)?;
        std::io::Write::write_all(&mut file, &bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)?;
        Ok(path)
    })
    .await
    .map_err(std::io::Error::other)?
}
