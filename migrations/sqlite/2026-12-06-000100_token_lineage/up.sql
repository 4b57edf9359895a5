-- Token lineage (red-team finding L5): what issued a token, and the token that
-- minted it. A token minted with POST /auth/tokens/ by another token never outlives
-- it and is revoked with it; a user holds at most 200 live tokens, and a login past
-- that revokes the user's oldest login token (kind 'login').
--
-- kind: 'login' (POST /auth/login/), 'api' (POST /auth/tokens/, parent_id set), or
-- 'admin' (switchboard-admin token create, the development bootstrap). Tokens issued
-- before this migration keep 'api' without a parent, except those named 'login',
-- which only logins created.

ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api'
    CHECK (kind IN ('login', 'api', 'admin'));
ALTER TABLE api_tokens ADD COLUMN parent_id BIGINT NULL REFERENCES api_tokens (id);

UPDATE api_tokens SET kind = 'login' WHERE name = 'login';

CREATE INDEX api_tokens_parent_id_idx ON api_tokens (parent_id);
