-- Product recalls (产品召回, issue 12): a campaign over a model's serial range, and each of its
-- devices tracked to completion with the work order made for it.

CREATE TABLE recalls (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    model_id BIGINT NOT NULL REFERENCES product_models(id),
    serial_from TEXT NOT NULL,
    serial_to TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    device_count BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE recall_devices (
    recall_id BIGINT NOT NULL REFERENCES recalls(id),
    device_id BIGINT NOT NULL REFERENCES devices(id),
    -- The station that serves the device (its own, else its customer's) when the recall began.
    station_id BIGINT REFERENCES stations(id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'contacted', 'scheduled', 'done', 'unreachable')),
    work_order_id BIGINT REFERENCES work_orders(id),
    note TEXT NOT NULL DEFAULT '',
    updated_by BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (recall_id, device_id)
);
CREATE INDEX recall_devices_work_order ON recall_devices(work_order_id) WHERE work_order_id IS NOT NULL;
-- Range selection reads a model's devices by serial through devices_serial_number_key.
