-- The keyed audit chain (docs/DECISIONS.md D30) and the fingerprints of the keys (D32).

-- The keyed audit chain (D30): entries from `keyed_from` on are linked with
-- HMAC-SHA-256 under the audit key, kept outside the database; the entries already written keep
-- their plain SHA-256 links, so an existing chain stays verifiable across the upgrade.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT NOT NULL DEFAULT 1;
UPDATE audit_head SET keyed_from = seq + 1;

-- TRUNCATE fires no row trigger: refuse it with a statement trigger of its own.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- What identifies each key the data was written with (`data.1`, `index`, `audit`): HMAC-SHA-256
-- under the key of a fixed text, never the key. A server refuses a key file that does not match.
-- `retired_at_ms`: the key left the key file after it encrypted nothing any more.
CREATE TABLE key_fingerprints (
    name TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    retired_at_ms BIGINT
);
