//! The audit log: who changed what in a workspace, when, and from which address.
//!
//! Every change is recorded by [`record`] in the same transaction as the change itself, so a
//! change never commits without its entry (nor an entry without its change).

mod event;
mod filter;
mod log_page;
mod record;
mod who;

pub use event::Event;
pub use filter::Filter;
pub use log_page::{
    ActorView, AuditError, Cursor, EventView, MAX_EXPORT, Page, PageSize, actors, export, page,
};
pub use record::record;
pub use who::{Actor, Who, masked_key};
