-- Staged rotation (contract section 12; issue 14).
--
-- A configuration's credential versions: the CURRENT version stays where it always
-- was, the configuration's own sealed blob, and provider_configurations.credential_version
-- says which version it is (rows that existed before this migration are version 1,
-- current, as migration 000300 set them, +1 per change of a secret since). PENDING
-- and PREVIOUS versions are rows of credential_versions. A RETIRED version has no
-- row: retiring erases it (the row is deleted; see docs/operations.md for what each
-- backend does with the deleted bytes). The CHECK names every stage of the model.
--
-- At most one pending and one previous version per configuration, and at most one
-- pending rotation: partial unique indexes, enforced by the database itself.
CREATE TABLE credential_versions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id     BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider_config_id  BIGINT    NOT NULL REFERENCES provider_configurations (id) ON DELETE CASCADE,
    version             BIGINT    NOT NULL,
    stage               TEXT      NOT NULL
        CHECK (stage IN ('pending', 'current', 'previous', 'retired')),
    sealed_secret       BLOB      NOT NULL,
    key_id              BIGINT    NOT NULL,
    secret_last4        TEXT      NOT NULL,
    auth_token_last4    TEXT      NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    expires_at          TIMESTAMP NULL,
    UNIQUE (provider_config_id, version)
);
CREATE UNIQUE INDEX credential_versions_one_pending
    ON credential_versions (provider_config_id) WHERE stage = 'pending';
CREATE UNIQUE INDEX credential_versions_one_previous
    ON credential_versions (provider_config_id) WHERE stage = 'previous';
CREATE INDEX credential_versions_expires_idx ON credential_versions (expires_at);
CREATE INDEX credential_versions_key_id_idx ON credential_versions (key_id);

-- One row per rotation: pending until promoted or cancelled. verification_status
-- and verified_at hold the provider's last verdict on its version.
CREATE TABLE credential_rotations (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id      BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider_config_id   BIGINT    NOT NULL REFERENCES provider_configurations (id) ON DELETE CASCADE,
    status               TEXT      NOT NULL
        CHECK (status IN ('pending', 'promoted', 'cancelled')),
    version              BIGINT    NOT NULL,
    secret_last4         TEXT      NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    verification_status  TEXT      NULL,
    verified_at          TIMESTAMP NULL,
    promoted_at          TIMESTAMP NULL,
    cancelled_at         TIMESTAMP NULL,
    previous_expires_at  TIMESTAMP NULL
);
CREATE UNIQUE INDEX credential_rotations_one_pending
    ON credential_rotations (provider_config_id) WHERE status = 'pending';
CREATE INDEX credential_rotations_config_idx
    ON credential_rotations (provider_config_id, created_at, id);
