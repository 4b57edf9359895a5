ALTER TABLE provider_configurations DROP COLUMN verification_checked_at;
ALTER TABLE provider_configurations DROP COLUMN verification_status;
DROP TABLE audit_events;
DROP TABLE idempotency_keys;
