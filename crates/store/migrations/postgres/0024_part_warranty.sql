-- A part installed under warranty carries its own warranty (issue 12), by the part's policy: the
-- device's remaining period ('device'), a fresh period of warranty_months from the installation
-- ('fresh'), or none ('none'). The last covered day is recorded on the part used.
ALTER TABLE parts ADD COLUMN warranty_policy TEXT NOT NULL DEFAULT 'device'
    CHECK (warranty_policy IN ('device', 'fresh', 'none'));
ALTER TABLE parts ADD COLUMN warranty_months BIGINT NOT NULL DEFAULT 0 CHECK (warranty_months >= 0);
ALTER TABLE work_order_parts ADD COLUMN warranty_until TEXT;
