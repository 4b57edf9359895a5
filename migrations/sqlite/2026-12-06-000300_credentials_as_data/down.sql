-- Rows written in format 2 (several secrets in one blob) do not open in the
-- previous release: run this only before any such row exists.
ALTER TABLE provider_configurations DROP COLUMN credential_version;
ALTER TABLE provider_configurations DROP COLUMN secret_last4;
ALTER TABLE provider_configurations DROP COLUMN public_fields;
ALTER TABLE telephony_providers DROP COLUMN fields;
