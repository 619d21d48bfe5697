-- First maintenance (首保), scheduled maintenance and inspections (issue 11): plans per product model
-- or per device, and the items they fall due with, each turned into a work order ahead of time.

CREATE TABLE maintenance_plans (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Exactly one of the two: every device of a model, or one device.
    model_id BIGINT REFERENCES product_models(id),
    device_id BIGINT REFERENCES devices(id),
    -- maintenance (保养, the first one is 首保) or inspection (例行检查)
    kind TEXT NOT NULL CHECK (kind IN ('maintenance', 'inspection')),
    first_after_days BIGINT NOT NULL,
    -- Then every so many days; NULL: once only.
    every_days BIGINT,
    -- The work order is created this many days before the due day.
    lead_days BIGINT NOT NULL,
    -- Items due before this day are not generated (a new plan does not flood the past).
    starts_on TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    CHECK ((model_id IS NULL) <> (device_id IS NULL))
);

-- One row per plan, device and due day: its key is what makes an item, and its work order, come
-- into being exactly once whichever instance sweeps first.
CREATE TABLE maintenance_due (
    plan_id BIGINT NOT NULL REFERENCES maintenance_plans(id),
    device_id BIGINT NOT NULL REFERENCES devices(id),
    due_on TEXT NOT NULL,
    -- 0 for the first (首保), then 1, 2, …
    seq BIGINT NOT NULL,
    work_order_id BIGINT REFERENCES work_orders(id),
    created_by_instance TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (plan_id, device_id, due_on)
);
CREATE INDEX maintenance_due_on ON maintenance_due(due_on);
CREATE INDEX maintenance_due_work_order ON maintenance_due(work_order_id);

-- When a device's first maintenance was done (the work order of its first item completed).
ALTER TABLE devices ADD COLUMN first_maintenance_at BIGINT;
