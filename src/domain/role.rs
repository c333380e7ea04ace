crate::named_enum! {
    /// A member's role in a workspace.
    pub enum Role {
        Owner = "owner",
        Admin = "admin",
        Member = "member",
    }
}

impl Role {
    /// Owners and admins manage keys and members.
    pub fn can_manage(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}
