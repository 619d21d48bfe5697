-- Complaints (投诉) and suggestions (建议), issue 13.
CREATE TABLE complaints (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    service_request_id BIGINT REFERENCES service_requests(id),
    -- Whom and what it concerns: the station (also its scope), a staff member, a product model.
    station_id BIGINT REFERENCES stations(id),
    staff_id BIGINT REFERENCES users(id),
    model_id BIGINT REFERENCES product_models(id),
    product_line TEXT,
    severity TEXT NOT NULL CHECK (severity IN ('major', 'serious', 'ordinary')),
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    -- When it happened, as the customer tells it.
    occurred_at BIGINT,
    status TEXT NOT NULL CHECK (status IN ('open', 'contacted', 'investigating', 'resolved', 'closed')),
    repeat_of BIGINT REFERENCES complaints(id),
    -- 0 the desk, 1 the service department's head, 2 management, 3 the general manager.
    level BIGINT NOT NULL DEFAULT 0,
    contact_due_at BIGINT NOT NULL,
    solution_due_at BIGINT NOT NULL,
    contacted_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    -- A major complaint: reported to management at registration, again if not acknowledged by
    -- ack_due_at (reminded_at set by the one instance that does it).
    ack_due_at BIGINT,
    acknowledged_at BIGINT,
    acknowledged_by BIGINT REFERENCES users(id),
    reminded_at BIGINT,
    root_cause TEXT,
    measure TEXT NOT NULL DEFAULT '',
    measure_owner_id BIGINT REFERENCES users(id),
    measure_due TEXT,
    customer_ack BOOLEAN NOT NULL DEFAULT FALSE,
    close_reason TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX complaints_customer ON complaints(customer_id, category, created_at);
CREATE INDEX complaints_status ON complaints(status, solution_due_at);
CREATE INDEX complaints_station ON complaints(station_id);
CREATE INDEX complaints_ack ON complaints(ack_due_at) WHERE acknowledged_at IS NULL AND reminded_at IS NULL;

-- The timeline of a complaint; told_customer marks what the customer was told.
CREATE TABLE complaint_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    told_customer BOOLEAN NOT NULL DEFAULT FALSE,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX complaint_events_complaint ON complaint_events(complaint_id, at);

CREATE TABLE suggestions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_id BIGINT REFERENCES customers(id),
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    -- product, service, sales, other: the department it is passed to.
    department TEXT,
    status TEXT NOT NULL CHECK (status IN ('received', 'routed', 'under_study', 'adopted', 'declined')),
    evaluation_note TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    answered_at BIGINT,
    created_by BIGINT REFERENCES users(id),
    decided_by BIGINT REFERENCES users(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX suggestions_created ON suggestions(created_at);
CREATE INDEX suggestions_customer ON suggestions(customer_id);
