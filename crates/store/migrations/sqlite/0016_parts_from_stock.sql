-- A part used on a visit taken from a warehouse's stock (the engineer's van or the station's
-- shelf): the warehouse and the ledger row of its issue.
ALTER TABLE work_order_parts ADD COLUMN warehouse_id BIGINT REFERENCES warehouses(id);
ALTER TABLE work_order_parts ADD COLUMN movement_id BIGINT REFERENCES stock_movements(id);
