-- Return and exchange authorisation (退换货, issue 12) on a request: the remedy, the rule that opens
-- it, the inspection, the refund or the replacement serial, and who decided.
CREATE TABLE return_authorisations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    service_request_id BIGINT NOT NULL REFERENCES service_requests(id),
    device_id BIGINT NOT NULL REFERENCES devices(id),
    station_id BIGINT REFERENCES stations(id),
    kind TEXT NOT NULL CHECK (kind IN ('return', 'exchange')),
    -- The article of 《部分商品修理更换退货责任规定》 that opens the remedy (第八条 …).
    article TEXT NOT NULL,
    reason TEXT NOT NULL,
    inspection TEXT NOT NULL,
    refund_fen BIGINT NOT NULL DEFAULT 0 CHECK (refund_fen >= 0),
    replacement_serial TEXT,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected')),
    decision_note TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    created_by BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX return_authorisations_request ON return_authorisations(service_request_id);
CREATE INDEX return_authorisations_device ON return_authorisations(device_id);
