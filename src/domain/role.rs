crate::named_enum! {
    /// A member's role in a workspace.
    pub enum Role {
        Owner = "owner",
        Admin = "admin",
        Member = "member",
    }
}

/// Something a member may or may not do in a workspace. Pages and the API both ask
/// [`Role::may`], so the table of powers lives in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the workspace, its members and connected accounts; connect and disconnect accounts.
    UseWorkspace,
    /// Create, roll and revoke API keys.
    ManageKeys,
    /// Invite someone to join with `role`.
    Invite {
        role: Role,
    },
    /// Change the role of a member who holds `holds` to `to`, or remove them (`to: None`).
    ManageMember {
        holds: Role,
        to: Option<Role>,
    },
    /// Read the audit log.
    SeeAudit,
    /// Add, change, remove and test webhook endpoints, and see their deliveries.
    ManageWebhooks,
    /// Publish, and edit, cancel, retry or delete posts: one's own (`own`), or anyone's.
    ManagePosts {
        own: bool,
    },
    RenameWorkspace,
    DeleteWorkspace,
}

impl Action {
    /// The powers as the members page explains them, each answered by [`Role::may`] so that
    /// the explanation cannot drift from what is enforced.
    pub const EXPLAINED: [(&'static str, Action); 12] = [
        (
            "See the workspace and its members; connect and disconnect accounts",
            Action::UseWorkspace,
        ),
        (
            "Publish, and edit, cancel, retry or delete one's own posts",
            Action::ManagePosts { own: true },
        ),
        (
            "Edit, cancel, retry or delete anyone's posts",
            Action::ManagePosts { own: false },
        ),
        (
            "Create, roll, rename and revoke API keys",
            Action::ManageKeys,
        ),
        ("Read the audit log", Action::SeeAudit),
        (
            "Manage webhooks and see their deliveries",
            Action::ManageWebhooks,
        ),
        (
            "Invite members and admins",
            Action::Invite { role: Role::Admin },
        ),
        (
            "Change a member's role, remove members and admins",
            Action::ManageMember {
                holds: Role::Member,
                to: Some(Role::Admin),
            },
        ),
        ("Invite owners", Action::Invite { role: Role::Owner }),
        (
            "Make someone an owner, or change or remove an owner",
            Action::ManageMember {
                holds: Role::Owner,
                to: None,
            },
        ),
        ("Rename the workspace", Action::RenameWorkspace),
        ("Delete the workspace", Action::DeleteWorkspace),
    ];
}

impl Role {
    /// Whether this role may do `action`: everyone uses the workspace; owners and admins manage
    /// keys, invitations and members below owner; only owners make or remove owners, rename or
    /// delete the workspace.
    pub fn may(self, action: Action) -> bool {
        let owner_only = match action {
            Action::UseWorkspace => return true,
            Action::ManagePosts { own: true } => return true,
            Action::ManageKeys
            | Action::SeeAudit
            | Action::ManageWebhooks
            | Action::ManagePosts { own: false } => false,
            Action::Invite { role } => role == Role::Owner,
            Action::ManageMember { holds, to } => holds == Role::Owner || to == Some(Role::Owner),
            Action::RenameWorkspace | Action::DeleteWorkspace => true,
        };
        match self {
            Role::Owner => true,
            Role::Admin => !owner_only,
            Role::Member => false,
        }
    }

    /// Owners and admins manage keys and members.
    pub fn can_manage(self) -> bool {
        self.may(Action::ManageKeys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_powers() {
        use Role::{Admin, Member, Owner};
        let table: &[(Action, [bool; 3])] = &[
            (Action::UseWorkspace, [true, true, true]),
            (Action::ManageKeys, [true, true, false]),
            (Action::SeeAudit, [true, true, false]),
            (Action::ManageWebhooks, [true, true, false]),
            (Action::ManagePosts { own: true }, [true, true, true]),
            (Action::ManagePosts { own: false }, [true, true, false]),
            (Action::Invite { role: Member }, [true, true, false]),
            (Action::Invite { role: Admin }, [true, true, false]),
            (Action::Invite { role: Owner }, [true, false, false]),
            (
                Action::ManageMember {
                    holds: Member,
                    to: Some(Admin),
                },
                [true, true, false],
            ),
            (
                Action::ManageMember {
                    holds: Admin,
                    to: Some(Member),
                },
                [true, true, false],
            ),
            (
                Action::ManageMember {
                    holds: Member,
                    to: None,
                },
                [true, true, false],
            ),
            (
                Action::ManageMember {
                    holds: Admin,
                    to: None,
                },
                [true, true, false],
            ),
            (
                Action::ManageMember {
                    holds: Admin,
                    to: Some(Owner),
                },
                [true, false, false],
            ),
            (
                Action::ManageMember {
                    holds: Owner,
                    to: Some(Admin),
                },
                [true, false, false],
            ),
            (
                Action::ManageMember {
                    holds: Owner,
                    to: None,
                },
                [true, false, false],
            ),
            (Action::RenameWorkspace, [true, false, false]),
            (Action::DeleteWorkspace, [true, false, false]),
        ];
        for (action, expected) in table {
            for (role, may) in [Owner, Admin, Member].into_iter().zip(expected) {
                assert_eq!(role.may(*action), *may, "{role} {action:?}");
            }
        }
    }
}
