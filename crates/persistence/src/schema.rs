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
