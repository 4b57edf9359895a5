-- GET one configuration: the token with its membership, then the row
-- (PostgreSQL: both in one read-only transaction).
-- On PostgreSQL the server opens a transaction with one multi-statement string
-- ("BEGIN ...; SET LOCAL statement_timeout = ...", one round trip); pgbench cannot
-- prepare it, so its two statements run as a pipeline (\startpipeline ... \endpipeline:
-- one round trip too), which report.py compares as that one string.
\set id random(:id_min, :id_max)
\startpipeline
BEGIN READ ONLY;
SET LOCAL statement_timeout = 5000;
\endpipeline
SELECT "api_tokens"."id", "users"."id", "api_tokens"."expires_at", "api_tokens"."last_used_at", "api_tokens"."scopes", "service_accounts"."id", "memberships"."organization_id", "memberships"."role" FROM (((("api_tokens" INNER JOIN "users" ON ("api_tokens"."user_id" = "users"."id")) LEFT OUTER JOIN "service_accounts" ON ("service_accounts"."user_id" = "users"."id")) LEFT OUTER JOIN "organizations" ON ("organizations"."domain_handle" = :handle)) LEFT OUTER JOIN "memberships" ON (("memberships"."organization_id" = "organizations"."id") AND ("memberships"."user_id" = "users"."id"))) WHERE ((("api_tokens"."token_hash" = :token_hash) AND ("api_tokens"."revoked_at" IS NULL)) AND ("service_accounts"."deleted_at" IS NULL)) LIMIT :one;
SELECT "provider_configurations"."id", "provider_configurations"."uid", "provider_configurations"."organization_id", "provider_configurations"."provider_id", "provider_configurations"."name", "provider_configurations"."account_sid", "provider_configurations"."account_sid_key", "provider_configurations"."auth_token_ciphertext", "provider_configurations"."auth_token_key_id", "provider_configurations"."auth_token_last4", "provider_configurations"."active", "provider_configurations"."base_url", "provider_configurations"."sip_url", "provider_configurations"."meta_json", "provider_configurations"."version", "provider_configurations"."created_at", "provider_configurations"."updated_at", "provider_configurations"."verification_status", "provider_configurations"."verification_checked_at", "provider_configurations"."public_fields", "provider_configurations"."secret_last4", "provider_configurations"."credential_version" FROM "provider_configurations" WHERE (("provider_configurations"."id" = :id) AND ("provider_configurations"."organization_id" = :org_id)) LIMIT :one;
COMMIT;
