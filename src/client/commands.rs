//! One function per client command: resolve the target, call the API, print the answer.

use super::ClientError;
use super::answers::{Account, ConnectStart, Key, List, Member, Post, Status};
use super::api::{Answer, Api};
use super::prompt;
use super::render::{self, clean};
use super::settings::{self, ClientKey, Saved, Source};
use crate::cli::{
    ClientCommand, ConnectArgs, CreateKeyArgs, KeysCommand, LoginArgs, PostArgs, PostsArgs,
    PostsCommand, Target,
};
use std::io::Write as _;

pub async fn run(command: ClientCommand) -> Result<(), ClientError> {
    match command {
        ClientCommand::Login(args) => login(args).await,
        ClientCommand::Status(args) => {
            let answer = api(&args.target)?.get(&["status"]).await?;
            show(&answer, args.json, |a| {
                Ok(render::status(&a.parse::<Status>()?))
            })
        }
        ClientCommand::Accounts(args) => {
            let answer = api(&args.target)?.get(&["accounts"]).await?;
            show(&answer, args.json, |a| {
                Ok(render::accounts(&a.parse::<List<Account>>()?.data))
            })
        }
        ClientCommand::Connect(args) => connect(args).await,
        ClientCommand::Disconnect(args) => {
            api(&args.target)?.delete(&["accounts", &args.id]).await?;
            out(&format!("Disconnected account {}.\n", clean(&args.id)))
        }
        ClientCommand::Keys(args) => {
            let api = api(&args.target)?;
            match args.command {
                KeysCommand::List { json } => {
                    let answer = api.get(&["api-keys"]).await?;
                    show(&answer, json, |a| {
                        Ok(render::keys(&a.parse::<List<Key>>()?.data))
                    })
                }
                KeysCommand::Create(create) => create_key(&api, create).await,
                KeysCommand::Revoke { id } => {
                    api.delete(&["api-keys", &id]).await?;
                    out(&format!("Revoked key {}.\n", clean(&id)))
                }
                KeysCommand::Roll {
                    id,
                    grace_hours,
                    json,
                } => {
                    let body = serde_json::json!({ "grace_hours": grace_hours });
                    let answer = api.post(&["api-keys", &id, "roll"], &body).await?;
                    print_new_key(&answer, json)
                }
            }
        }
        ClientCommand::Members(args) => {
            let answer = api(&args.target)?.get(&["members"]).await?;
            show(&answer, args.json, |a| {
                Ok(render::members(&a.parse::<List<Member>>()?.data))
            })
        }
        ClientCommand::Post(args) => post(args).await,
        ClientCommand::Posts(args) => posts(args).await,
        ClientCommand::Logout => logout(),
    }
}

/// How long `post` waits for the outcome of a post published now.
const WAIT_FOR_OUTCOME: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads `post`'s `--at` (with `--tz`) as the RFC 3339 time the API takes.
fn publish_at(at: &str, tz: Option<&str>) -> Result<String, ClientError> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(at, &Rfc3339) {
        if tz.is_some() {
            return Err(ClientError::Usage(
                "--tz applies to a \"YYYY-MM-DD HH:MM\" --at; this one carries its own offset"
                    .into(),
            ));
        }
        return t
            .format(&Rfc3339)
            .map_err(|e| ClientError::Usage(format!("--at: {e}")));
    }
    let zone = match tz {
        Some(name) => crate::domain::TimeZoneName::parse(name)
            .map_err(|e| ClientError::Usage(format!("--tz: {}", e.message)))?,
        None => crate::domain::TimeZoneName::utc(),
    };
    let unix = zone.to_unix(at).map_err(|_| {
        ClientError::Usage(format!(
            "--at: {:?} is neither RFC 3339 (2026-12-24T09:00:00+01:00) nor \"YYYY-MM-DD HH:MM\"",
            clean(at)
        ))
    })?;
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or_else(|| ClientError::Usage("--at is out of range".into()))
}

async fn post(args: PostArgs) -> Result<(), ClientError> {
    let text = if args.text == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            ClientError::Local(format!("cannot read the text from standard input: {e}"))
        })?;
        text.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        args.text
    };
    let mut body = serde_json::json!({ "text": text, "account_ids": args.accounts });
    if let Some(at) = &args.at {
        body["publish_at"] = publish_at(at, args.tz.as_deref())?.into();
    } else if args.tz.is_some() {
        return Err(ClientError::Usage("--tz applies to --at".into()));
    }
    let api = api(&args.target)?;
    let answer = api.post(&["posts"], &body).await?;
    if args.json {
        return out_json(&answer);
    }
    let mut current: Post = answer.parse()?;
    if args.at.is_none() {
        let deadline = std::time::Instant::now() + WAIT_FOR_OUTCOME;
        while current.targets.iter().any(|t| t.is_pending()) && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            current = api.get(&["posts", &current.id]).await?.parse()?;
        }
    }
    out(&render::post(&current))?;
    let ended_badly = current
        .targets
        .iter()
        .filter(|t| matches!(t.state.as_str(), "failed" | "unknown"))
        .count();
    if ended_badly > 0 {
        return Err(ClientError::Unexpected(format!(
            "{ended_badly} of {} accounts did not publish; `socializer posts show {}` has the details",
            current.targets.len(),
            clean(&current.id)
        )));
    }
    if current.targets.iter().any(|t| t.is_pending()) && args.at.is_none() {
        eprintln!(
            "Still on its way; `socializer posts show {}` follows it.",
            clean(&current.id)
        );
    }
    Ok(())
}

async fn posts(args: PostsArgs) -> Result<(), ClientError> {
    let api = api(&args.target)?;
    match args.command {
        None => {
            let mut query = Vec::new();
            if let Some(state) = args.state.as_deref() {
                query.push(("state", state));
            }
            let answer = api.get_query(&["posts"], &query).await?;
            show(&answer, args.json, |a| {
                Ok(render::posts(&a.parse::<List<Post>>()?.data))
            })
        }
        Some(PostsCommand::Show { id }) => {
            let answer = api.get(&["posts", &id]).await?;
            show(&answer, args.json, |a| {
                Ok(render::post_details(&a.parse()?))
            })
        }
        Some(PostsCommand::Cancel { id }) => {
            let answer = api
                .post(&["posts", &id, "cancel"], &serde_json::json!({}))
                .await?;
            show(&answer, args.json, |a| Ok(render::post(&a.parse()?)))
        }
    }
}

/// Removes the saved key from the config file (the URL stays).
fn logout() -> Result<(), ClientError> {
    let mut saved = settings::load()?;
    if saved.api_key.take().is_none() {
        return out("No key was saved.\n");
    }
    let path = settings::save(&saved)?;
    out(&format!(
        "Logged out: the saved key was removed from {}.\n",
        path.display()
    ))?;
    eprintln!("The key itself still works until it is revoked on the server.");
    Ok(())
}

/// The API as a command's flags, variables and saved settings name it.
fn api(target: &Target) -> Result<Api, ClientError> {
    let (url, key) = settings::resolve(target.api_key.as_deref(), target.api_url.as_deref())?;
    Api::new(url, key)
}

/// Checks the key with the server first, and saves nothing unless it is accepted.
async fn login(args: LoginArgs) -> Result<(), ClientError> {
    let url = settings::login_url(args.api_url.as_deref())?;
    let key = match &args.api_key {
        Some(raw) => ClientKey::parse(raw, Source::Flag("api-key"))?,
        None => ClientKey::parse(&prompt::read_key()?, Source::Prompt)?,
    };
    let api = Api::new(url.clone(), key.clone())?;
    let status: Status = api.get(&["status"]).await?.parse()?;
    let path = settings::save(&Saved {
        api_url: Some(url.as_str().to_owned()),
        api_key: Some(key.expose().to_owned()),
    })?;
    out(&format!(
        "Logged in to {} ({}) with key \"{}\" ({}, ending in {}).\nSaved to {}.\n",
        clean(&status.workspace.name),
        clean(&status.workspace.id),
        clean(&status.key.label),
        clean(&status.key.mode),
        clean(&status.key.last4),
        path.display()
    ))?;
    if std::env::var_os(settings::KEY_VARIABLE).is_some_and(|v| !v.is_empty()) {
        eprintln!(
            "note: {} is set in this shell and is used instead of the saved key",
            settings::KEY_VARIABLE
        );
    }
    Ok(())
}

async fn connect(args: ConnectArgs) -> Result<(), ClientError> {
    let answer = api(&args.target)?.get(&["connect", &args.platform]).await?;
    if args.json {
        return out_json(&answer);
    }
    let start: ConnectStart = answer.parse()?;
    out(&format!("{}\n", clean(&start.auth_url)))?;
    eprintln!(
        "Open this URL in a browser and approve. The platform sends you back to Socializer, \
         which finishes the connection; then `socializer accounts` lists it. The link works \
         once, within 10 minutes."
    );
    Ok(())
}

async fn create_key(api: &Api, args: CreateKeyArgs) -> Result<(), ClientError> {
    let mut body = serde_json::json!({ "label": args.label, "scopes": args.scopes });
    if let Some(mode) = args.mode {
        body["mode"] = mode.as_str().into();
    }
    if let Some(days) = args.expires_in_days {
        body["expires_in_days"] = days.into();
    }
    let answer = api.post(&["api-keys"], &body).await?;
    print_new_key(&answer, args.json)
}

/// A key just made (created or rolled): alone on standard output, so that a script can capture
/// it, with what it is on standard error.
fn print_new_key(answer: &Answer, json: bool) -> Result<(), ClientError> {
    if json {
        return out_json(answer);
    }
    let key: Key = answer.parse()?;
    let plaintext = key.plaintext.as_deref().ok_or_else(|| {
        ClientError::Unexpected("the server created the key but did not show it".into())
    })?;
    // The key alone on standard output, so that a script can capture it.
    out(&format!("{}\n", clean(plaintext)))?;
    eprint!("{}", render::created(&key));
    Ok(())
}

/// The answer exactly as the API sent it (`--json`), or `readable` of it.
fn show(
    answer: &Answer,
    json: bool,
    readable: impl FnOnce(&Answer) -> Result<String, ClientError>,
) -> Result<(), ClientError> {
    if json {
        out_json(answer)
    } else {
        out(&readable(answer)?)
    }
}

fn out_json(answer: &Answer) -> Result<(), ClientError> {
    out(&answer.body)?;
    if answer.body.ends_with('\n') {
        Ok(())
    } else {
        out("\n")
    }
}

/// Writes to standard output; a reader that went away (`| head`) is not an error.
fn out(text: &str) -> Result<(), ClientError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(ClientError::Local(format!("cannot write the output: {e}"))),
    }
}
