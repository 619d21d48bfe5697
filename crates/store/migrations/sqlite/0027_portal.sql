-- The customer portal (issue 13): what a customer without an account reported, and the
-- throttle of its look-ups and reports.
--
-- One row per request reported through the portal: the phone the customer gave (encrypted, with
-- its blind index and mask, like every phone), whether it was the phone on the customer's record
-- (the agent is told when not; the customer never is), and the device of the QR code if any.
CREATE TABLE portal_reports (
    id INTEGER PRIMARY KEY,
    service_request_id BIGINT NOT NULL UNIQUE REFERENCES service_requests(id),
    device_id BIGINT REFERENCES devices(id),
    contact_name_enc TEXT,
    contact_name_mask TEXT,
    contact_phone_enc TEXT NOT NULL,
    contact_phone_idx TEXT NOT NULL,
    contact_phone_mask TEXT NOT NULL,
    phone_on_record BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Attempts per (kind, subject) in a window, counted before the look-up is judged, as login
-- attempts are (D26): kind `track_source` (a client address), `track_number` (a request number
-- as typed), `report_source`. A successful look-up gives its attempt back.
CREATE TABLE portal_attempts (
    kind TEXT NOT NULL CHECK (kind IN ('track_source', 'track_number', 'report_source')),
    subject TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX portal_attempts_window ON portal_attempts(window_start);
