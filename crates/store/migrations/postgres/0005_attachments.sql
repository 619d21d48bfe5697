-- Photos and documents on a request's timeline. The content is kept in the database (one backup
-- holds everything); the type is what the bytes say, not what the name says.
CREATE TABLE attachments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES service_requests(id),
    event_id BIGINT REFERENCES request_events(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BYTEA NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_request ON attachments(request_id);
