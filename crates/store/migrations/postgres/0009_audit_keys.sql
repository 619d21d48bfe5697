-- The keyed audit chain (docs/DECISIONS.md D30): entries from `keyed_from` on are linked with
-- HMAC-SHA-256 under the audit key, kept outside the database; the entries already written keep
-- their plain SHA-256 links, so an existing chain stays verifiable across the upgrade.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT NOT NULL DEFAULT 1;
UPDATE audit_head SET keyed_from = seq + 1;

-- TRUNCATE fires no row trigger: refuse it with a statement trigger of its own.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
