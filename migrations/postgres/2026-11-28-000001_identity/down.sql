DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE organizations;
