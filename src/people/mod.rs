//! Accounts and workspaces: the plain domain functions behind the pages. No HTTP here.

mod email_links;
mod error;
mod google;
mod invitations;
mod members;
mod notices;
mod password_reset;
mod security;
mod signin;
mod signup;
mod takeover;
mod workspace_admin;
mod workspaces;

pub use error::AccountError;
pub use google::{
    GoogleSignedIn, LinkedIdentity, remember_google_sign_in, sign_in_with_google,
    take_google_sign_in, unlink_identity,
};
pub use invitations::{
    INVITATION_TTL_SECS, LinkState, Post, accept_invitation, invitation_link, invite,
    open_invitations, resend_invitation, revoke_invitation, sign_up_by_invitation,
};
pub use members::{MemberChange, change_member, leave_workspace, members, workspace_after_leaving};
pub use password_reset::{request_password_reset, reset_link_is_live, reset_password};
pub use security::{PasswordChange, Security, change_password, end_session, security};
pub use signin::{SignedIn, sign_in, sign_out_everywhere};
pub use signup::{SignUp, SignedUp, Verification, resend_verification, sign_up, verify_email};
pub use takeover::TakenBack;
pub use workspace_admin::{delete_workspace, rename_workspace, set_plan};
pub use workspaces::{
    Dashboard, MemberContext, Progress, create_workspace, dashboard, member_context,
    switch_workspace, workspaces_of,
};
