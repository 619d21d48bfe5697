-- 三包配件申请 (issue 12): a station's application to headquarters for parts, approved by the
-- station's manager and, above a threshold, by headquarters; the final approval sends the parts
-- from the central warehouse (one transfer per line).

CREATE TABLE part_applications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    station_id BIGINT NOT NULL REFERENCES stations(id),
    -- Where the parts go: a warehouse of the station.
    warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
    work_order_id BIGINT REFERENCES work_orders(id),
    status TEXT NOT NULL CHECK (status IN ('submitted', 'station_approved', 'approved', 'rejected')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    reason TEXT NOT NULL DEFAULT '',
    -- The last decision's note (a rejection's reason).
    decision_note TEXT NOT NULL DEFAULT '',
    station_approved_by BIGINT REFERENCES users(id),
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    created_by BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX part_applications_station ON part_applications(station_id, status);
CREATE INDEX part_applications_open ON part_applications(status, id) WHERE status IN ('submitted', 'station_approved');

CREATE TABLE part_application_lines (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES part_applications(id),
    part_id BIGINT NOT NULL REFERENCES parts(id),
    -- Thousandths of the part's unit.
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    price_fen BIGINT NOT NULL,
    transfer_id BIGINT REFERENCES stock_transfers(id)
);
CREATE INDEX part_application_lines_application ON part_application_lines(application_id);
