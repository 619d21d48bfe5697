-- SLA alerts that fire once, notifications into an in-app inbox through a durable outbox, and a job
-- queue with leases. Instants are UTC epoch milliseconds.

-- Work to do later or elsewhere (e.g. recomputing SLA due times after a calendar edit). A worker
-- claims due rows with a lease (`UPDATE … RETURNING`; `FOR UPDATE SKIP LOCKED` on PostgreSQL); a
-- lease that runs out (the worker died) makes the job claimable again.
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    -- JSON
    payload TEXT NOT NULL DEFAULT '{}',
    locked_until BIGINT,
    locked_by TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs(done_at, run_at);

-- One row per request, clock and level that has fired. The primary key is what makes a warning
-- or a breach fire exactly once, whichever instance sweeps first.
CREATE TABLE sla_alerts (
    request_id BIGINT NOT NULL REFERENCES service_requests(id),
    clock TEXT NOT NULL CHECK (clock IN ('response', 'resolution')),
    level TEXT NOT NULL CHECK (level IN ('warning', 'breach')),
    fired_at BIGINT NOT NULL,
    -- Which instance fired it, for diagnosis.
    fired_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (request_id, clock, level)
);

-- A person's in-app inbox. A notification shows from deliver_after on (non-urgent ones are held
-- until the recipient's calendar opens).
CREATE TABLE notifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    link TEXT,
    urgent BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    deliver_after BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, read_at);

-- What still has to be delivered on which channel ('inbox' now; 'email', 'sms', 'wecom' later),
-- written in the transaction that creates the notification.
CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel TEXT NOT NULL,
    notification_id BIGINT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    deliver_after BIGINT NOT NULL,
    dispatched_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    locked_by TEXT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox(dispatched_at, deliver_after);

-- When 80 % of a running clock's target is reached, cached beside the due times so the sweep
-- finds requests about to be at risk by index-friendly comparison. NULL unless running and not
-- yet at risk.
ALTER TABLE service_requests ADD COLUMN response_warn_at BIGINT;
ALTER TABLE service_requests ADD COLUMN resolution_warn_at BIGINT;
