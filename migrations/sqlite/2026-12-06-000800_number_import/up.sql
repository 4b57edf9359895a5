-- Number import (contract sections 11 and 16): a number's provider_config_id is its
-- link to a provider configuration, set by a connection on a bridge or by an import
-- (which links the numbers it creates, on no bridge). The rule that a link exists
-- only on a number that is on a bridge goes; what it protected stays true in the
-- application: a configuration with connections (linked numbers that are on a
-- bridge) cannot be deleted, and deleting a configuration first clears the links of
-- its numbers that are on no bridge, in the same transaction, so an import link
-- never blocks a delete. The foreign key stays NO ACTION: a connection made by a
-- concurrent request makes the delete fail (and run again) instead of being
-- silently cleared.
--
-- SQLite cannot drop a CHECK: the table is rebuilt (create the new table, copy the
-- rows with their ids, drop the old one, rename, recreate the indexes). No table
-- refers to phone_numbers, so dropping it with foreign keys on deletes nothing
-- else; the copied rows satisfy the new table's foreign keys as they did the old.
CREATE TABLE phone_numbers_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id    BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    number             TEXT      NOT NULL,
    active             BOOLEAN   NOT NULL,
    bridge_id          BIGINT    NULL REFERENCES bridges (id),
    provider_config_id BIGINT    NULL REFERENCES provider_configurations (id),
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    UNIQUE (organization_id, number)
);

INSERT INTO phone_numbers_new
    (id, organization_id, number, active, bridge_id, provider_config_id, created_at, updated_at)
SELECT id, organization_id, number, active, bridge_id, provider_config_id, created_at, updated_at
FROM phone_numbers;

-- AUTOINCREMENT never reuses an id: the new table continues the old one's sequence
-- (the copy alone would restart it after the largest id still present).
DELETE FROM sqlite_sequence WHERE name = 'phone_numbers_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'phone_numbers_new', seq FROM sqlite_sequence WHERE name = 'phone_numbers';

DROP TABLE phone_numbers;

ALTER TABLE phone_numbers_new RENAME TO phone_numbers;

CREATE INDEX phone_numbers_org_created_idx
    ON phone_numbers (organization_id, created_at DESC, id DESC);

CREATE INDEX phone_numbers_bridge_idx ON phone_numbers (bridge_id);

CREATE INDEX phone_numbers_provider_config_idx ON phone_numbers (provider_config_id);
