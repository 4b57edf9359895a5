-- Rate-limit buckets shared by every replica (SWITCHBOARD__RATE_LIMIT__STORE =
-- "postgres"): one row per bucket, its theoretical arrival time (TAT) in
-- microseconds since the Unix epoch on the database server's clock, and the TAT
-- before the last step (so that the one upsert of a check can return it).
--
-- UNLOGGED: buckets need no durability. A crash empties the table, which only
-- refills every bucket; in exchange writes skip the WAL. Not replicated to standbys.
-- Rows whose TAT has passed are full buckets; replicas delete them once a minute.

CREATE UNLOGGED TABLE rate_limit_buckets (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL,
    previous_tat BIGINT NULL
) WITH (fillfactor = 70);
