-- Telephony context, bridges module: an organization's phone numbers and bridges,
-- and the connection of a provider configuration to a number on a bridge.
--
-- A number row has one bridge_id column, so a number is on at most one bridge;
-- assignment is a conditional UPDATE (... WHERE bridge_id IS NULL OR bridge_id = <this
-- bridge>) whose affected row count the application checks inside its transaction.
-- provider_config_id is the connection of that number on its bridge; the CHECK keeps
-- connections only on numbers that are on a bridge.
--
-- The foreign keys to bridges and provider_configurations are NO ACTION (checked at
-- the end of each statement): the application clears numbers before deleting a bridge
-- and refuses to delete a connected configuration, and deleting an organization
-- cascades to all three tables in one statement.

CREATE TABLE bridges (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT      NOT NULL,
    slug            TEXT      NOT NULL,
    description     TEXT      NULL,
    status          TEXT      NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE', 'DRAFT')),
    region          TEXT      NULL CHECK (region IN ('IN', 'US', 'EU', 'AUS', 'UAE')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (organization_id, slug)
);

CREATE INDEX bridges_org_created_idx ON bridges (organization_id, created_at DESC, id DESC);

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

CREATE INDEX phone_numbers_org_created_idx
    ON phone_numbers (organization_id, created_at DESC, id DESC);

CREATE INDEX phone_numbers_bridge_idx ON phone_numbers (bridge_id);

CREATE INDEX phone_numbers_provider_config_idx ON phone_numbers (provider_config_id);
