-- Back to the rule that a link exists only on a number that is on a bridge: import
-- links on numbers on no bridge are cleared, then the table is rebuilt with it.
UPDATE phone_numbers SET provider_config_id = NULL WHERE bridge_id IS NULL;

-- The table keeps its name throughout (renaming a new table into place would store
-- its definition under a quoted name, unlike the original): the current one moves
-- aside, the original definition is created again and the rows are copied back.
ALTER TABLE phone_numbers RENAME TO phone_numbers_import;

CREATE TABLE phone_numbers (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id    BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    number             TEXT      NOT NULL,
    active             BOOLEAN   NOT NULL,
    bridge_id          BIGINT    NULL REFERENCES bridges (id),
    provider_config_id BIGINT    NULL REFERENCES provider_configurations (id),
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    UNIQUE (organization_id, number),
    CHECK (provider_config_id IS NULL OR bridge_id IS NOT NULL)
);

INSERT INTO phone_numbers
    (id, organization_id, number, active, bridge_id, provider_config_id, created_at, updated_at)
SELECT id, organization_id, number, active, bridge_id, provider_config_id, created_at, updated_at
FROM phone_numbers_import;

-- AUTOINCREMENT never reuses an id: the table continues its old sequence (the copy
-- alone would restart it after the largest id still present).
DELETE FROM sqlite_sequence WHERE name = 'phone_numbers';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'phone_numbers', seq FROM sqlite_sequence WHERE name = 'phone_numbers_import';

-- Its indexes go with it; they are created again below.
DROP TABLE phone_numbers_import;

CREATE INDEX phone_numbers_org_created_idx
    ON phone_numbers (organization_id, created_at DESC, id DESC);

CREATE INDEX phone_numbers_bridge_idx ON phone_numbers (bridge_id);

CREATE INDEX phone_numbers_provider_config_idx ON phone_numbers (provider_config_id);
