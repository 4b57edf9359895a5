-- Rate-limit buckets shared by replicas live in Redis or PostgreSQL only; a SQLite
-- deployment is one process and keeps its buckets in memory. The table exists so
-- that both backends have the same migrations (nothing writes it on SQLite).

CREATE TABLE rate_limit_buckets (
    key TEXT PRIMARY KEY NOT NULL,
    tat BIGINT NOT NULL,
    previous_tat BIGINT NULL
);
