-- Identity context: organizations, users, memberships with roles, API tokens.
-- Ids are BIGSERIAL; times are naive UTC timestamps (microseconds) written by the
-- application.

CREATE TABLE organizations (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT      NOT NULL,
    domain_handle TEXT      NOT NULL UNIQUE,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT      NOT NULL UNIQUE,
    password_hash TEXT      NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    id              BIGSERIAL PRIMARY KEY,
    organization_id BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT      NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (organization_id, user_id)
);

CREATE INDEX memberships_user_id_idx ON memberships (user_id);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT      NOT NULL,
    token_hash   TEXT      NOT NULL UNIQUE,
    prefix       TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    expires_at   TIMESTAMP NULL,
    revoked_at   TIMESTAMP NULL
);

CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id, created_at DESC);
