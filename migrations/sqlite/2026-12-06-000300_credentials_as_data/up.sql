-- Credential fields as data (contract section 10). The catalog's fields live in the
-- data file compiled into the binary; `fields` holds the copy `migrate` writes (JSON
-- array, as GET /telephony/providers/ shows it). A configuration keeps its
-- identifier in account_sid/account_sid_key (duplicates compare without case) and
-- gains its other public fields (public_fields, a JSON object by catalog name), the
-- last four of each sealed secret (secret_last4, a JSON object whose keys are also
-- the names the sealed blob is bound to) and its credential version (1 here, +1 on
-- every change of a secret). Rows written before keep their format-1 blob (one
-- auth_token) until `switchboard-admin keys rewrap` moves them to format 2; their
-- identifier and primary secret are named here after the provider's catalog entry.

ALTER TABLE telephony_providers ADD COLUMN fields TEXT NOT NULL DEFAULT '[]';

ALTER TABLE provider_configurations ADD COLUMN public_fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE provider_configurations ADD COLUMN secret_last4 TEXT NOT NULL DEFAULT '{}';
ALTER TABLE provider_configurations ADD COLUMN credential_version BIGINT NOT NULL DEFAULT 1;

UPDATE provider_configurations SET
    public_fields = json_object(
        CASE (SELECT p.slug FROM telephony_providers p
              WHERE p.id = provider_configurations.provider_id)
            WHEN 'plivo' THEN 'auth_id'
            WHEN 'vonage' THEN 'api_key'
            WHEN 'telnyx' THEN 'account_id'
            WHEN 'livekit' THEN 'api_key'
            WHEN 'vapi' THEN 'org_id'
            WHEN 'sip' THEN 'username'
            ELSE 'account_sid'
        END,
        account_sid),
    secret_last4 = json_object(
        CASE (SELECT p.slug FROM telephony_providers p
              WHERE p.id = provider_configurations.provider_id)
            WHEN 'vonage' THEN 'api_secret'
            WHEN 'telnyx' THEN 'api_key'
            WHEN 'exotel' THEN 'api_token'
            WHEN 'livekit' THEN 'api_secret'
            WHEN 'vapi' THEN 'api_key'
            WHEN 'sip' THEN 'password'
            ELSE 'auth_token'
        END,
        auth_token_last4);
