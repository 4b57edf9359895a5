DROP INDEX api_tokens_parent_id_idx;
ALTER TABLE api_tokens DROP COLUMN parent_id;
ALTER TABLE api_tokens DROP COLUMN kind;
