-- 三包 entitlement (issue 12): a device's warranty restarts on an exchange for a new unit, and can
-- be void with a reason (tampering, damage by the user …).
ALTER TABLE devices ADD COLUMN exchanged_on TEXT;
ALTER TABLE devices ADD COLUMN warranty_void_reason TEXT;
