-- Serialised parts (issue 12): where each serial is, one place at a time. In stock or in transit in
-- a warehouse, installed in a device by a work order, removed from one (the faulty part), scrapped.
-- Every change is a guarded UPDATE from the state and place it must be in.
CREATE TABLE part_serials (
    part_id BIGINT NOT NULL REFERENCES parts(id),
    serial TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_stock', 'in_transit', 'installed', 'removed', 'scrapped')),
    warehouse_id BIGINT REFERENCES warehouses(id),
    transfer_id BIGINT REFERENCES stock_transfers(id),
    device_id BIGINT REFERENCES devices(id),
    work_order_id BIGINT REFERENCES work_orders(id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (part_id, serial)
);
CREATE INDEX part_serials_place ON part_serials(warehouse_id, part_id, state);
CREATE INDEX part_serials_device ON part_serials(device_id) WHERE device_id IS NOT NULL;
