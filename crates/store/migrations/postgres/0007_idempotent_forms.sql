-- Web forms are idempotent too (a double-clicked "register" creates one request): their answer is
-- a redirect, so the stored answer keeps its Location, and the headers a replay must carry again
-- (ETag, Retry-After, HX-*) as a JSON list of [name, value].
ALTER TABLE idempotency_keys ADD COLUMN location TEXT;
ALTER TABLE idempotency_keys ADD COLUMN headers TEXT;
-- Keys are forgotten after a day (housekeeping); this finds them.
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
