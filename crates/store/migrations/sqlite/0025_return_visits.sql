-- Return visits (回访, issue 13): one is due when a request is resolved; the agent's record (or the
-- customer's own answer through a single-use survey link), each try to reach the customer, the
-- follow-ups a low score or "not solved" opens, and the supervisor's sampling check (质检抽查).
CREATE TABLE return_visits (
    id INTEGER PRIMARY KEY,
    service_request_id BIGINT REFERENCES service_requests(id),
    -- A visit after a complaint (the complaints table comes with 0026; no foreign key so the
    -- order of the migrations does not matter).
    complaint_id BIGINT,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    -- Whose work is visited back, for the results: the request's station, the engineer of its last
    -- completed visit, the device's product line.
    station_id BIGINT REFERENCES stations(id),
    engineer_id BIGINT REFERENCES users(id),
    product_line TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'unreachable', 'cancelled')),
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    satisfaction BIGINT CHECK (satisfaction BETWEEN 1 AND 5),
    attitude BIGINT CHECK (attitude BETWEEN 1 AND 5),
    skill BIGINT CHECK (skill BETWEEN 1 AND 5),
    timeliness BIGINT CHECK (timeliness BETWEEN 1 AND 5),
    solved BOOLEAN,
    comment TEXT NOT NULL DEFAULT '',
    -- agent (on the phone) or survey (the customer through the link)
    answered_via TEXT,
    recorded_by BIGINT REFERENCES users(id),
    recorded_at BIGINT,
    -- Only the SHA-256 digest of the survey link's secret is kept.
    survey_digest TEXT UNIQUE,
    survey_expires_at BIGINT,
    -- The supervisor's sampling check: sampled, verified, failed.
    check_state TEXT CHECK (check_state IN ('sampled', 'verified', 'failed')),
    check_note TEXT NOT NULL DEFAULT '',
    checked_by BIGINT REFERENCES users(id),
    checked_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- At most one open visit per request and per complaint: two instances resolving at once make one.
CREATE UNIQUE INDEX return_visits_open_request ON return_visits(service_request_id) WHERE status = 'open';
CREATE UNIQUE INDEX return_visits_open_complaint ON return_visits(complaint_id) WHERE status = 'open';
CREATE INDEX return_visits_status_due ON return_visits(status, due_at);
CREATE INDEX return_visits_recorded ON return_visits(recorded_at);

-- Every try to reach the customer, reached or not.
CREATE TABLE return_visit_attempts (
    id INTEGER PRIMARY KEY,
    return_visit_id BIGINT NOT NULL REFERENCES return_visits(id),
    at BIGINT NOT NULL,
    by_user BIGINT REFERENCES users(id),
    outcome TEXT NOT NULL CHECK (outcome IN ('reached', 'unreachable')),
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX return_visit_attempts_visit ON return_visit_attempts(return_visit_id);

-- 跟进: opened by a low score or "not solved", open until the customer is satisfied or a manager
-- closes it with a reason.
CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY,
    return_visit_id BIGINT NOT NULL REFERENCES return_visits(id),
    service_request_id BIGINT REFERENCES service_requests(id),
    complaint_id BIGINT,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    station_id BIGINT REFERENCES stations(id),
    reason TEXT NOT NULL CHECK (reason IN ('low_score', 'not_solved')),
    status TEXT NOT NULL CHECK (status IN ('open', 'satisfied', 'closed')),
    note TEXT NOT NULL DEFAULT '',
    closed_by BIGINT REFERENCES users(id),
    closed_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX follow_ups_request ON follow_ups(service_request_id, status);
CREATE INDEX follow_ups_status ON follow_ups(status, created_at);
