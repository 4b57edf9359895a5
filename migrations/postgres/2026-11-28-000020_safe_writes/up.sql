-- Safe writes and traceability: idempotency keys, the audit trail, and the stored
-- outcome of credential verification. Times are naive UTC timestamps (microseconds)
-- written by the application.

-- One row per (organization, token, key): the first request claims it (state
-- in_flight), its answer is stored with it (state done). request_hash is the SHA-256
-- of method, path, query and canonical body. Rows expire after 24 hours.
CREATE TABLE idempotency_keys (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    token_id         BIGINT    NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    idempotency_key  TEXT      NOT NULL,
    request_hash     TEXT      NOT NULL,
    state            TEXT      NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status  INTEGER   NULL,
    response_headers TEXT      NULL,
    response_body    TEXT      NULL,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL,
    UNIQUE (organization_id, token_id, idempotency_key)
);

CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- Append-only trail of changes to provider configurations. No foreign keys: events
-- outlive the configuration (and the user or token) they name. changes is JSON:
-- field names, the credential's old and new last4, never a value.
CREATE TABLE audit_events (
    id                 BIGSERIAL PRIMARY KEY,
    organization_id    BIGINT    NOT NULL,
    provider_config_id BIGINT    NULL,
    user_id            BIGINT    NULL,
    token_id           BIGINT    NULL,
    request_id         TEXT      NULL,
    action             TEXT      NOT NULL,
    changes            TEXT      NOT NULL,
    created_at         TIMESTAMP NOT NULL
);

CREATE INDEX audit_events_org_created_idx
    ON audit_events (organization_id, created_at DESC, id DESC);

CREATE INDEX audit_events_config_created_idx
    ON audit_events (organization_id, provider_config_id, created_at DESC, id DESC);

-- The last verification of a configuration's credentials (NULL: never verified, or
-- the credentials changed since).
ALTER TABLE provider_configurations ADD COLUMN verification_status TEXT NULL;
ALTER TABLE provider_configurations ADD COLUMN verification_checked_at TIMESTAMP NULL;
