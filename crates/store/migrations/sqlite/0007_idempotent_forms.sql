-- Web forms are idempotent too (a double-clicked "register" creates one request): their answer is
-- a redirect, so the stored answer keeps its Location.
ALTER TABLE idempotency_keys ADD COLUMN location TEXT;
-- Keys are forgotten after a day (housekeeping); this finds them.
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
