//! The notice that a key was made, to each owner and admin of its workspace (GitHub's habit
//! with deploy keys): a key is a way into the workspace, and those who answer for it hear of
//! every new one. Sent once the key has committed; it names the key by label and masked key,
//! never its secret.

use super::KeyView;
use crate::domain::Email;
use crate::mail::{OutgoingEmail, Post, send_later};

/// Tells `managers` of `workspace` that `key` was made by `made_by`.
pub fn key_made(post: Post<'_>, managers: &[Email], workspace: &str, key: &KeyView, made_by: &str) {
    let scopes = if key.scopes.is_full_access() {
        "full access".to_owned()
    } else {
        key.scopes.names().join(", ")
    };
    for to in managers {
        let message = OutgoingEmail {
            to: to.clone(),
            subject: format!(
                "A new {} API key in \u{201c}{}\u{201d}",
                key.mode,
                crate::mail::subject_cut(workspace)
            ),
            body: format!(
                "{made_by} made a new API key in the workspace \"{workspace}\" on Socializer:\n\n\
                 Label: {}\nKey: {}\nScopes: {scopes}\n\n\
                 You hear of it as an owner or admin of the workspace. If nobody should have \
                 made it, revoke it on the keys page: {}",
                key.label,
                key.masked(),
                post.url(&format!("/settings/api-keys/{}", key.id)),
            ),
            link: None,
        };
        send_later(post.mailer, message, "new key notice");
    }
}
