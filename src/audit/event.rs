//! What can happen in a workspace, by its one spelling (stored, and sent in the API).

crate::named_enum! {
    /// What happened.
    pub enum Event {
        KeyCreated = "key.created",
        KeyRolled = "key.rolled",
        KeyRevoked = "key.revoked",
        KeyExpiryShortened = "key.expiry_shortened",
        KeyRenamed = "key.renamed",
        MemberInvited = "member.invited",
        InvitationResent = "invitation.resent",
        InvitationRevoked = "invitation.revoked",
        MemberJoined = "member.joined",
        MemberRoleChanged = "member.role_changed",
        MemberRemoved = "member.removed",
        MemberLeft = "member.left",
        AccountConnected = "account.connected",
        AccountDisconnected = "account.disconnected",
        AccountExpired = "account.expired",
        AccountRevoked = "account.revoked",
        WorkspaceRenamed = "workspace.renamed",
        WorkspaceDeleted = "workspace.deleted",
        PlanChanged = "workspace.plan_changed",
        PostCreated = "post.created",
        PostEdited = "post.edited",
        PostCanceled = "post.canceled",
        PostDeleted = "post.deleted",
        PostRetried = "post.retried",
        WebhookCreated = "webhook.created",
        WebhookChanged = "webhook.changed",
        WebhookDeleted = "webhook.deleted",
        WebhookSecretRolled = "webhook.secret_rolled",
    }
}

impl Event {
    /// The event in words, for the settings page.
    pub fn describe(self) -> &'static str {
        match self {
            Event::KeyCreated => "created API key",
            Event::KeyRolled => "rolled API key",
            Event::KeyRevoked => "revoked API key",
            Event::KeyExpiryShortened => "brought forward the expiry of API key",
            Event::KeyRenamed => "renamed API key",
            Event::MemberInvited => "invited",
            Event::InvitationResent => "resent the invitation of",
            Event::InvitationRevoked => "revoked the invitation of",
            Event::MemberJoined => "joined",
            Event::MemberRoleChanged => "changed the role of",
            Event::MemberRemoved => "removed",
            Event::MemberLeft => "left",
            Event::AccountConnected => "connected",
            Event::AccountDisconnected => "disconnected",
            Event::AccountExpired => "found expired:",
            Event::AccountRevoked => "found revoked at the platform:",
            Event::WorkspaceRenamed => "renamed the workspace",
            Event::WorkspaceDeleted => "deleted the workspace",
            Event::PlanChanged => "changed the plan",
            Event::PostCreated => "wrote post",
            Event::PostEdited => "edited post",
            Event::PostCanceled => "canceled post",
            Event::PostDeleted => "deleted post",
            Event::PostRetried => "retried post",
            Event::WebhookCreated => "added webhook",
            Event::WebhookChanged => "changed webhook",
            Event::WebhookDeleted => "removed webhook",
            Event::WebhookSecretRolled => "rolled the secret of webhook",
        }
    }
}
