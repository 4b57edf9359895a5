//! The portable Diesel schema shared by SQLite and PostgreSQL.
//!
//! Only types that work through the `MultiConnection` enum appear here: ids are
//! `BigInt` (SQLite's `INTEGER PRIMARY KEY` is 64-bit), times are naive UTC
//! `Timestamp`, JSON is `Text`, the sealed credential is `Binary`. This module knows
//! nothing of the domain types.

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        domain_handle -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    memberships (id) {
        id -> BigInt,
        organization_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        scopes -> Nullable<Text>,
    }
}

diesel::table! {
    telephony_providers (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Text,
        icon -> Text,
        account_sid_label -> Text,
        account_sid_pattern -> Text,
        account_sid_hint -> Text,
        auth_token_label -> Text,
        auth_token_pattern -> Text,
        auth_token_hint -> Text,
        position -> Integer,
        fields -> Text,
    }
}

diesel::table! {
    provider_configurations (id) {
        id -> BigInt,
        uid -> Text,
        organization_id -> BigInt,
        provider_id -> BigInt,
        name -> Text,
        account_sid -> Text,
        account_sid_key -> Text,
        auth_token_ciphertext -> Binary,
        auth_token_key_id -> BigInt,
        auth_token_last4 -> Text,
        active -> Bool,
        base_url -> Nullable<Text>,
        sip_url -> Nullable<Text>,
        meta_json -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        verification_status -> Nullable<Text>,
        verification_checked_at -> Nullable<Timestamp>,
        public_fields -> Text,
        secret_last4 -> Text,
        credential_version -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        organization_id -> BigInt,
        token_id -> BigInt,
        idempotency_key -> Text,
        request_hash -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        organization_id -> BigInt,
        provider_config_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        token_id -> Nullable<BigInt>,
        request_id -> Nullable<Text>,
        action -> Text,
        changes -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(provider_configurations -> organizations (organization_id));
diesel::joinable!(provider_configurations -> telephony_providers (provider_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    memberships,
    api_tokens,
    telephony_providers,
    provider_configurations,
    idempotency_keys,
    audit_events,
);

// Bridges module of the telephony context (migration 2026-11-28-000010_bridges).

diesel::table! {
    bridges (id) {
        id -> BigInt,
        organization_id -> BigInt,
        name -> Text,
        slug -> Text,
        description -> Nullable<Text>,
        status -> Text,
        region -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    phone_numbers (id) {
        id -> BigInt,
        organization_id -> BigInt,
        number -> Text,
        active -> Bool,
        bridge_id -> Nullable<BigInt>,
        provider_config_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(bridges -> organizations (organization_id));
diesel::joinable!(phone_numbers -> bridges (bridge_id));
diesel::joinable!(phone_numbers -> provider_configurations (provider_config_id));

// Pairs only: the tables above already appear together with each other.
diesel::allow_tables_to_appear_in_same_query!(bridges, phone_numbers);
diesel::allow_tables_to_appear_in_same_query!(bridges, provider_configurations);
diesel::allow_tables_to_appear_in_same_query!(phone_numbers, provider_configurations);

// Service accounts (migration 2026-12-06-000500_scopes_and_service_accounts; the
// same migration adds api_tokens.scopes).

diesel::table! {
    service_accounts (id) {
        id -> BigInt,
        organization_id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(service_accounts -> organizations (organization_id));
diesel::joinable!(service_accounts -> users (user_id));

// Pairs only, as above.
diesel::allow_tables_to_appear_in_same_query!(service_accounts, organizations);
diesel::allow_tables_to_appear_in_same_query!(service_accounts, users);
diesel::allow_tables_to_appear_in_same_query!(service_accounts, memberships);
diesel::allow_tables_to_appear_in_same_query!(service_accounts, api_tokens);
// Change events and webhooks (migration 2026-12-06-000600_events_and_webhooks).

diesel::table! {
    events (id) {
        id -> BigInt,
        uid -> Text,
        organization_id -> BigInt,
        event_type -> Text,
        body -> Text,
        position -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        uid -> Text,
        organization_id -> BigInt,
        url -> Text,
        description -> Text,
        event_types -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret_ciphertext -> Binary,
        secret_key_id -> BigInt,
        previous_secret_ciphertext -> Nullable<Binary>,
        previous_secret_key_id -> Nullable<BigInt>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        claimed_until -> Nullable<Timestamp>,
        claimed_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        organization_id -> BigInt,
        event_id -> BigInt,
        endpoint_id -> BigInt,
        status -> Text,
        attempts -> Integer,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        last_attempt_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(
    events,
    webhook_endpoints,
    webhook_deliveries,
    organizations
);

// Staged rotation (migration 2026-12-06-000700_staged_rotation).

diesel::table! {
    credential_versions (id) {
        id -> BigInt,
        organization_id -> BigInt,
        provider_config_id -> BigInt,
        version -> BigInt,
        stage -> Text,
        sealed_secret -> Binary,
        key_id -> BigInt,
        secret_last4 -> Text,
        auth_token_last4 -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    credential_rotations (id) {
        id -> BigInt,
        organization_id -> BigInt,
        provider_config_id -> BigInt,
        status -> Text,
        version -> BigInt,
        secret_last4 -> Text,
        created_at -> Timestamp,
        verification_status -> Nullable<Text>,
        verified_at -> Nullable<Timestamp>,
        promoted_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        previous_expires_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(credential_versions -> provider_configurations (provider_config_id));
diesel::joinable!(credential_rotations -> provider_configurations (provider_config_id));
diesel::allow_tables_to_appear_in_same_query!(credential_versions, provider_configurations);
diesel::allow_tables_to_appear_in_same_query!(credential_rotations, provider_configurations);
diesel::allow_tables_to_appear_in_same_query!(credential_versions, credential_rotations);
