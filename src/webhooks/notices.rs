//! The email to a workspace's owners and admins when an endpoint has failed every delivery for
//! five days and is turned off: their systems have stopped hearing from Socializer.

use crate::db::webhooks::StoredEndpoint;
use crate::domain::Email;
use crate::mail::{OutgoingEmail, Post, send_later};

pub fn endpoint_disabled(
    post: Post<'_>,
    managers: &[Email],
    workspace: &str,
    endpoint: &StoredEndpoint,
) {
    for to in managers {
        let message = OutgoingEmail {
            to: to.clone(),
            subject: format!(
                "A webhook of \u{201c}{}\u{201d} was turned off",
                crate::mail::subject_cut(workspace)
            ),
            body: format!(
                "Every delivery to the webhook endpoint {} of the workspace \"{workspace}\" on \
                 Socializer has failed for five days, so it has been turned off and receives \
                 nothing more.\n\n\
                 You hear of it as an owner or admin of the workspace. See what the receiver \
                 answered, fix it, and turn the endpoint on again: {}",
                endpoint.url,
                post.url(&format!("/settings/webhooks/{}", endpoint.id)),
            ),
            link: None,
        };
        send_later(post.mailer, message, "webhook disabled notice");
    }
}
