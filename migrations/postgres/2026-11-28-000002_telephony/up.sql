-- Telephony context: the provider catalog (data, seeded here, in display order) and
-- the organizations' provider configurations. Credentials are stored sealed
-- (format byte, key id, nonce, ciphertext and tag); auth_token_key_id repeats the key
-- id of the blob so that key rotation can find rows without decrypting them.
-- account_sid_key is the lowercased account SID: duplicates compare without case.

CREATE TABLE telephony_providers (
    id                  BIGSERIAL PRIMARY KEY,
    slug                TEXT    NOT NULL UNIQUE,
    name                TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    icon                TEXT    NOT NULL,
    account_sid_label   TEXT    NOT NULL,
    account_sid_pattern TEXT    NOT NULL,
    account_sid_hint    TEXT    NOT NULL,
    auth_token_label    TEXT    NOT NULL,
    auth_token_pattern  TEXT    NOT NULL,
    auth_token_hint     TEXT    NOT NULL,
    position            INTEGER NOT NULL UNIQUE
);

INSERT INTO telephony_providers
    (slug, name, description, icon,
     account_sid_label, account_sid_pattern, account_sid_hint,
     auth_token_label, auth_token_pattern, auth_token_hint, position)
VALUES
    ('twilio',
     'Twilio',
     'Cloud communications platform with programmable voice, messaging and SIP trunking.',
     'https://assets.switchboard.dev/providers/twilio.svg',
     'Account SID',
     '^AC[0-9a-fA-F]{32}$',
     'AC followed by 32 hexadecimal characters',
     'Auth Token',
     '^[0-9a-fA-F]{32}$',
     '32 hexadecimal characters',
     1);

INSERT INTO telephony_providers
    (slug, name, description, icon,
     account_sid_label, account_sid_pattern, account_sid_hint,
     auth_token_label, auth_token_pattern, auth_token_hint, position)
VALUES
    ('plivo',
     'Plivo',
     'Cloud communications platform offering voice and messaging APIs.',
     'https://assets.switchboard.dev/providers/plivo.svg',
     'Auth ID',
     '^(MA|SA)[A-Z0-9]{18}$',
     'MA or SA followed by 18 uppercase letters or digits',
     'Auth Token',
     '^[A-Za-z0-9]{40}$',
     '40 letters or digits',
     2);

INSERT INTO telephony_providers
    (slug, name, description, icon,
     account_sid_label, account_sid_pattern, account_sid_hint,
     auth_token_label, auth_token_pattern, auth_token_hint, position)
VALUES
    ('vonage',
     'Vonage',
     'Vonage communications APIs (formerly Nexmo) for voice and messaging.',
     'https://assets.switchboard.dev/providers/vonage.svg',
     'API Key',
     '^[0-9a-f]{8}$',
     '8 lowercase hexadecimal characters',
     'API Secret',
     '^[A-Za-z0-9]{16}$',
     '16 letters or digits',
     3);

INSERT INTO telephony_providers
    (slug, name, description, icon,
     account_sid_label, account_sid_pattern, account_sid_hint,
     auth_token_label, auth_token_pattern, auth_token_hint, position)
VALUES
    ('telnyx',
     'Telnyx',
     'Global carrier and communications platform for voice, messaging and SIP trunking.',
     'https://assets.switchboard.dev/providers/telnyx.svg',
     'Account ID',
     '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
     'a UUID (the Telnyx account id)',
     'API Key',
     '^KEY[0-9A-Za-z_-]{20,128}$',
     'KEY followed by 20 to 128 letters, digits, hyphens or underscores (a Telnyx API v2 key)',
     4);

INSERT INTO telephony_providers
    (slug, name, description, icon,
     account_sid_label, account_sid_pattern, account_sid_hint,
     auth_token_label, auth_token_pattern, auth_token_hint, position)
VALUES
    ('exotel',
     'Exotel',
     'Cloud telephony platform for businesses in India, Southeast Asia and the Middle East.',
     'https://assets.switchboard.dev/providers/exotel.svg',
     'Account SID',
     '^[a-z0-9][a-z0-9-]{1,62}$',
     '2 to 63 lowercase letters, digits or hyphens (the Exotel account SID)',
     'API Token',
     '^[A-Za-z0-9]{20,64}$',
     '20 to 64 letters or digits (the Exotel API token)',
     5);

INSERT INTO telephony_providers
    (slug, name, description, icon,
     account_sid_label, account_sid_pattern, account_sid_hint,
     auth_token_label, auth_token_pattern, auth_token_hint, position)
VALUES
    ('livekit',
     'LiveKit',
     'Open-source realtime voice and video platform with SIP telephony.',
     'https://assets.switchboard.dev/providers/livekit.svg',
     'API Key',
     '^API[A-Za-z0-9]{8,32}$',
     'API followed by 8 to 32 letters or digits',
     'API Secret',
     '^[ -~]{1,256}$',
     '1 to 256 printable characters',
     6);

INSERT INTO telephony_providers
    (slug, name, description, icon,
     account_sid_label, account_sid_pattern, account_sid_hint,
     auth_token_label, auth_token_pattern, auth_token_hint, position)
VALUES
    ('vapi',
     'Vapi',
     'Voice AI platform for building and running phone agents.',
     'https://assets.switchboard.dev/providers/vapi.svg',
     'Organization ID',
     '^[ -~]{1,256}$',
     '1 to 256 printable characters',
     'API Key',
     '^[ -~]{1,256}$',
     '1 to 256 printable characters',
     7);

INSERT INTO telephony_providers
    (slug, name, description, icon,
     account_sid_label, account_sid_pattern, account_sid_hint,
     auth_token_label, auth_token_pattern, auth_token_hint, position)
VALUES
    ('sip',
     'SIP trunk',
     'Any SIP trunk that authenticates with a username and a password.',
     'https://assets.switchboard.dev/providers/sip.svg',
     'Username',
     '^[ -~]{1,256}$',
     '1 to 256 printable characters',
     'Password',
     '^[ -~]{1,256}$',
     '1 to 256 printable characters',
     8);

CREATE TABLE provider_configurations (
    id                    BIGSERIAL PRIMARY KEY,
    uid                   TEXT      NOT NULL UNIQUE,
    organization_id       BIGINT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider_id           BIGINT    NOT NULL REFERENCES telephony_providers (id),
    name                  TEXT      NOT NULL,
    account_sid           TEXT      NOT NULL,
    account_sid_key       TEXT      NOT NULL,
    auth_token_ciphertext BYTEA     NOT NULL,
    auth_token_key_id     BIGINT    NOT NULL,
    auth_token_last4      TEXT      NOT NULL,
    active                BOOLEAN   NOT NULL,
    base_url              TEXT      NULL,
    sip_url               TEXT      NULL,
    meta_json             TEXT      NOT NULL,
    version               BIGINT    NOT NULL,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    UNIQUE (organization_id, provider_id, account_sid_key)
);

CREATE INDEX provider_configurations_org_created_idx
    ON provider_configurations (organization_id, created_at DESC, id DESC);

CREATE INDEX provider_configurations_key_id_idx
    ON provider_configurations (auth_token_key_id);
