-- Change events and webhooks (contract section 13, issue 14).
--
-- events: one row per change, written in the transaction of the change. On SQLite
-- one writer holds the write lock for a whole transaction, so ids are assigned in
-- commit order and `position` stays 0 (PostgreSQL records the transaction id there;
-- see its migration). `body` is the
-- JSON delivered to endpoints (never a secret).
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_org_position_idx ON events (organization_id, position, id);
CREATE INDEX events_created_at_idx ON events (created_at);

-- webhook_endpoints: the signing secret is sealed with the keyring (bound to the
-- organization, this table, the row's uid and the field); after a rotation the
-- previous secret still signs until previous_secret_expires_at.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    event_types TEXT NOT NULL DEFAULT '[]',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT NULL,
    secret_ciphertext BLOB NOT NULL,
    secret_key_id BIGINT NOT NULL,
    previous_secret_ciphertext BLOB NULL,
    previous_secret_key_id BIGINT NULL,
    previous_secret_expires_at TIMESTAMP NULL,
    claimed_until TIMESTAMP NULL,
    claimed_by TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (organization_id, id);

-- webhook_deliveries: one per (event, endpoint). status: pending (not yet tried),
-- failed (tried, another attempt at next_attempt_at), succeeded, dead (no attempt
-- left, or the endpoint answered 410).
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER NULL,
    last_error TEXT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (endpoint_id, status, next_attempt_at);
CREATE INDEX webhook_deliveries_status_idx ON webhook_deliveries (status, next_attempt_at);
