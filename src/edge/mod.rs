//! What every request meets before its surface does, answered in the surface's own format (the
//! JSON envelope under `/v1`, a page elsewhere): the size of its headers, the methods served at
//! all, how long its body may take and how many requests one client may have in progress. The
//! top layer with `app`: it knows both surfaces, and neither knows it.

pub mod limits;
pub mod slow_clients;
