-- Field service (issue 11): work orders (派工单) with their timeline, the two tiers of dispatch,
-- station coverage, engineers' skills and leave, parts used and files of a visit.
-- Instants are UTC epoch milliseconds.

-- Which regions a station serves: GB/T 2260 codes at any level (a province, a city, a district).
CREATE TABLE station_coverage (
    station_id BIGINT NOT NULL REFERENCES stations(id),
    region_code TEXT NOT NULL,
    PRIMARY KEY (station_id, region_code)
);
CREATE INDEX station_coverage_region ON station_coverage(region_code);

-- The product lines an engineer is certified for.
CREATE TABLE user_skills (
    user_id BIGINT NOT NULL REFERENCES users(id),
    product_line TEXT NOT NULL,
    PRIMARY KEY (user_id, product_line)
);

-- Days an engineer is away (YYYY-MM-DD, the business day in Asia/Shanghai).
CREATE TABLE user_leave (
    user_id BIGINT NOT NULL REFERENCES users(id),
    day TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, day)
);

CREATE TABLE work_orders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    service_request_id BIGINT REFERENCES service_requests(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    device_id BIGINT REFERENCES devices(id),
    urgency TEXT NOT NULL,
    -- Where the visit is: the device's installation region, else the customer's.
    region_code TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    station_id BIGINT REFERENCES stations(id),
    engineer_id BIGINT REFERENCES users(id),
    -- The calendar the "arranged within" clock counts on (the station's, else headquarters').
    calendar_code TEXT NOT NULL,
    -- The "arranged" clock: from the request's registration (or the work order's creation) until an
    -- engineer accepts; due and warning instants on the calendar.
    arrange_from BIGINT NOT NULL,
    arrange_due_at BIGINT NOT NULL,
    arrange_warn_at BIGINT NOT NULL,
    arranged_at BIGINT,
    -- The deadline of the tier that holds it now (station: assign; engineer: accept).
    accept_due_at BIGINT,
    -- The stations and engineers that declined or let their deadline pass (JSON arrays of ids):
    -- the automatic re-dispatch passes over them.
    passed_stations TEXT NOT NULL DEFAULT '[]',
    passed_engineers TEXT NOT NULL DEFAULT '[]',
    -- The visit window agreed with the customer; "on site by the window" is due at its end.
    appointment_from BIGINT,
    appointment_to BIGINT,
    departed_at BIGINT,
    checked_in_at BIGINT,
    check_in_lat DOUBLE PRECISION,
    check_in_lng DOUBLE PRECISION,
    fault_code TEXT,
    cause TEXT,
    work_done TEXT,
    labour_minutes BIGINT,
    customer_confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    completed_at BIGINT,
    closed_at BIGINT,
    created_by BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX work_orders_request ON work_orders(service_request_id);
CREATE INDEX work_orders_customer ON work_orders(customer_id, created_at);
CREATE INDEX work_orders_device ON work_orders(device_id);
-- The boards: open work orders by station and by engineer, soonest due first.
CREATE INDEX work_orders_open_station ON work_orders(station_id, arrange_due_at, id)
    WHERE status NOT IN ('closed', 'cancelled');
CREATE INDEX work_orders_open_engineer ON work_orders(engineer_id, appointment_from, id)
    WHERE status NOT IN ('closed', 'cancelled');
-- The sweep: tiers whose deadline passed, clocks still running.
CREATE INDEX work_orders_accept_due ON work_orders(accept_due_at) WHERE status IN ('dispatched', 'assigned');
CREATE INDEX work_orders_arrange_open ON work_orders(arrange_warn_at) WHERE arranged_at IS NULL
    AND status NOT IN ('closed', 'cancelled');

-- The timeline of a work order: every step with who and when, notes, reschedulings, re-dispatches.
CREATE TABLE work_order_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_order_id BIGINT NOT NULL REFERENCES work_orders(id),
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    action TEXT,
    from_status TEXT,
    to_status TEXT,
    note TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX work_order_events_order ON work_order_events(work_order_id, id);

-- Parts used on a visit, as the engineer recorded them (the spare-parts issue turns them into stock
-- movements).
CREATE TABLE work_order_parts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_order_id BIGINT NOT NULL REFERENCES work_orders(id),
    part_code TEXT NOT NULL,
    part_name TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    old_serial TEXT,
    new_serial TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX work_order_parts_order ON work_order_parts(work_order_id);

-- Photos before and after, the customer's signature, the service report.
CREATE TABLE work_order_files (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_order_id BIGINT NOT NULL REFERENCES work_orders(id),
    purpose TEXT NOT NULL CHECK (purpose IN ('before', 'after', 'signature', 'report')),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BYTEA NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX work_order_files_order ON work_order_files(work_order_id, purpose);

-- One row per work order, clock and level that has fired: exactly once across instances.
CREATE TABLE work_order_alerts (
    work_order_id BIGINT NOT NULL REFERENCES work_orders(id),
    clock TEXT NOT NULL CHECK (clock IN ('arrange', 'on_site')),
    level TEXT NOT NULL CHECK (level IN ('warning', 'breach')),
    fired_at BIGINT NOT NULL,
    fired_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (work_order_id, clock, level)
);
