-- Machines that use credentials (contract section 11): scopes on API tokens, and
-- service accounts.
--
-- api_tokens.scopes: the token's scopes, names separated by single spaces; NULL
-- (every token issued before this migration, login tokens, tokens created without
-- scopes) means every scope except credentials:reveal.
--
-- A service account is a user that can never log in (its password hash is no hash;
-- login refuses users listed here) with a membership in one organization, which
-- holds its role. Deleting one sets deleted_at, removes the membership and revokes
-- its tokens, in one transaction; the row stays so that the audit trail can name it.

ALTER TABLE api_tokens ADD COLUMN scopes TEXT NULL;

CREATE TABLE service_accounts (
    id              BIGSERIAL PRIMARY KEY,
    organization_id BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         BIGINT    NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT      NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP NULL
);

CREATE INDEX service_accounts_organization_id_idx ON service_accounts (organization_id, id);
