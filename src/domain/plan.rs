//! A workspace's plan, which sets its API rate limit.

crate::named_enum! {
    /// `free` unless an operator changed it.
    pub enum Plan {
        Free = "free",
        Paid = "paid",
    }
}
