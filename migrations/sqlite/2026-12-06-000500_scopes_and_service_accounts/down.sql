DROP INDEX service_accounts_organization_id_idx;
DROP TABLE service_accounts;
ALTER TABLE api_tokens DROP COLUMN scopes;
