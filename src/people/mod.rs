//! Accounts and workspaces: the plain domain functions behind the pages. No HTTP here.

mod error;
mod signin;
mod signup;
mod workspaces;

pub use error::AccountError;
pub use signin::{SignedIn, sign_in, sign_out_everywhere};
pub use signup::{SignUp, SignedUp, sign_up, verify_email};
pub use workspaces::{
    Dashboard, MemberContext, create_workspace, dashboard, member_context, switch_workspace,
};
