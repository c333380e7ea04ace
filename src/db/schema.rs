// The same tables on SQLite and PostgreSQL; see the two migration folders.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        email_verified_at -> Nullable<BigInt>,
        created_at -> BigInt,
        time_zone -> Nullable<Text>,
    }
}

diesel::table! {
    workspaces (id) {
        id -> Text,
        name -> Text,
        plan -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    memberships (workspace_id, user_id) {
        workspace_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        absolute_expires_at -> BigInt,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        window_start -> BigInt,
        failures -> Integer,
    }
}

diesel::table! {
    identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Text,
        email -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    google_sign_ins (state_digest) {
        state_digest -> Text,
        browser_digest -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        next_path -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        workspace_id -> Text,
        email -> Text,
        role -> Text,
        token_digest -> Text,
        invited_by -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        accepted_at -> Nullable<BigInt>,
        accepted_by -> Nullable<Text>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        id -> Text,
        workspace_id -> Text,
        occurred_at -> BigInt,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        actor_name -> Text,
        action -> Text,
        subject -> Text,
        detail -> Nullable<Text>,
        address -> Nullable<Text>,
    }
}

diesel::joinable!(invitations -> users (invited_by));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(identities -> users (user_id));
diesel::joinable!(memberships -> workspaces (workspace_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    workspace_keys,
    connected_accounts,
    oauth_states,
    sandbox_grants,
    users,
    workspaces,
    memberships,
    sessions,
    email_tokens,
    identities,
    google_sign_ins,
    login_throttle,
    invitations,
    audit_events,
    posts,
    post_targets,
    post_attempts,
    idempotency_keys,
    webhook_endpoints,
    webhook_events,
    webhook_deliveries,
    webhook_attempts,
);

diesel::table! {
    api_keys (id) {
        id -> Text,
        workspace_id -> Text,
        created_by -> Nullable<Text>,
        label -> Text,
        mode -> Text,
        scopes -> Text,
        digest -> Text,
        last4 -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        last_used_ip -> Nullable<Text>,
        created_by_key -> Nullable<Text>,
        replaced_by -> Nullable<Text>,
    }
}

diesel::joinable!(api_keys -> workspaces (workspace_id));
diesel::joinable!(api_keys -> users (created_by));

diesel::table! {
    workspace_keys (workspace_id) {
        workspace_id -> Text,
        root_key_id -> Text,
        wrapped_key -> Binary,
        created_at -> BigInt,
        rotated_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    connected_accounts (id) {
        id -> Text,
        workspace_id -> Text,
        platform -> Text,
        mode -> Text,
        platform_account_id -> Text,
        handle -> Text,
        display_name -> Text,
        status -> Text,
        access_token -> Nullable<Binary>,
        refresh_token -> Nullable<Binary>,
        token_expires_at -> Nullable<BigInt>,
        connected_by -> Nullable<Text>,
        connected_at -> BigInt,
        updated_at -> BigInt,
        refresh_lease -> Nullable<Text>,
        refresh_lease_until -> Nullable<BigInt>,
        refresh_failures -> Integer,
        next_refresh_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_states (state_digest) {
        state_digest -> Text,
        workspace_id -> Text,
        user_id -> Nullable<Text>,
        platform -> Text,
        redirect_uri -> Text,
        pkce_verifier -> Nullable<Binary>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sandbox_grants (code_digest) {
        code_digest -> Text,
        account_name -> Text,
        redirect_uri -> Text,
        expires_at -> BigInt,
        state_digest -> Text,
    }
}

diesel::table! {
    posts (id) {
        id -> Text,
        workspace_id -> Text,
        mode -> Text,
        author_user_id -> Nullable<Text>,
        author_key_id -> Nullable<Text>,
        text -> Text,
        publish_at -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        canceled_at -> Nullable<BigInt>,
        deleted_at -> Nullable<BigInt>,
        state -> Text,
    }
}

diesel::table! {
    post_targets (id) {
        id -> Text,
        workspace_id -> Text,
        post_id -> Text,
        account_id -> Text,
        platform -> Text,
        text -> Nullable<Text>,
        state -> Text,
        due_at -> BigInt,
        lease_until -> Nullable<BigInt>,
        platform_post_id -> Nullable<Text>,
        url -> Nullable<Text>,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        updated_at -> BigInt,
        lease -> Nullable<Text>,
        text_digest -> Text,
    }
}

diesel::table! {
    post_attempts (id) {
        id -> Text,
        workspace_id -> Text,
        target_id -> Text,
        started_at -> BigInt,
        finished_at -> Nullable<BigInt>,
        outcome -> Text,
        status_code -> Nullable<Integer>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (workspace_id, key) {
        workspace_id -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(post_targets -> posts (post_id));
diesel::joinable!(post_attempts -> post_targets (target_id));

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        workspace_id -> Text,
        url -> Text,
        description -> Text,
        event_types -> Text,
        state -> Text,
        disabled_reason -> Nullable<Text>,
        secret -> Binary,
        previous_secret -> Nullable<Binary>,
        previous_secret_until -> Nullable<BigInt>,
        failing_since -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Text,
        workspace_id -> Text,
        event_type -> Text,
        mode -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        workspace_id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        state -> Text,
        attempts -> Integer,
        due_at -> BigInt,
        lease -> Nullable<Text>,
        lease_until -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        workspace_id -> Text,
        delivery_id -> Text,
        number -> Integer,
        started_at -> BigInt,
        duration_ms -> BigInt,
        status_code -> Nullable<Integer>,
        answer -> Text,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
