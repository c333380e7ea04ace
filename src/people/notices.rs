//! Notices to an account about changes to how it is reached, sent once the change has
//! committed: the password changed, a Google account linked or unlinked. Each says what
//! happened, when and from where, and what to do if it was not the reader; none carries a
//! secret or a link that acts by itself.

use crate::domain::Email;
use crate::mail::{OutgoingEmail, Post, send_later};

fn notice(post: Post<'_>, to: &Email, subject: &str, what: &str, unexpected: &str) {
    let message = OutgoingEmail {
        to: to.clone(),
        subject: subject.to_owned(),
        body: format!(
            "{what}\n\nIf this was you, there is nothing to do.\n\n{unexpected}\n\n\
             The security page lists where your account is signed in: {}",
            post.url("/settings/security")
        ),
        link: None,
    };
    send_later(post.mailer, message, "account notice");
}

/// The password of `to`'s account was changed from `address`, or through a reset link.
pub fn password_changed(post: Post<'_>, to: &Email, address: Option<&str>) {
    let how = match address {
        Some(address) => format!("from the address {address}"),
        None => "through a reset link sent to this address".to_owned(),
    };
    notice(
        post,
        to,
        "Your Socializer password was changed",
        &format!(
            "The password of your Socializer account ({to}) was changed just now, {how}. Every \
             other session of the account was signed out."
        ),
        &format!(
            "If it was not you, choose a new password at once with \"Forgot your password?\": {}",
            post.url("/forgot-password")
        ),
    );
}

/// A Google account (`google_email`, as Google gave it) was linked to `to`'s account.
pub fn google_linked(post: Post<'_>, to: &Email, google_email: &str) {
    notice(
        post,
        to,
        "A Google account was linked to your Socializer account",
        &format!(
            "The Google account {google_email} can now sign in to your Socializer account \
             ({to})."
        ),
        "If it was not you, unlink it on the security page and change your password.",
    );
}

/// The Google sign-in of `to`'s account at `issuer` was unlinked.
pub fn google_unlinked(post: Post<'_>, to: &Email) {
    notice(
        post,
        to,
        "A Google account was unlinked from your Socializer account",
        &format!(
            "Signing in with Google no longer opens your Socializer account ({to}); your \
             password still does."
        ),
        "If it was not you, change your password: someone else is signed in to your account.",
    );
}
