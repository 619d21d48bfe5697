-- Service desk: product models, customers (personal data encrypted), devices, service requests and their events.
-- *_enc columns hold AES-256-GCM ciphertext ("v<key version>:<base64>"); *_idx a keyed HMAC blind index;
-- *_mask what roles without the right to personal data see. No phone number is stored in clear.

CREATE TABLE product_models (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    product_line TEXT NOT NULL,
    warranty_months BIGINT NOT NULL DEFAULT 12,
    coverage TEXT NOT NULL DEFAULT '',
    first_maintenance_days BIGINT,
    first_maintenance_hours BIGINT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE customers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    name_enc TEXT NOT NULL,
    name_mask TEXT NOT NULL,
    phone_enc TEXT NOT NULL,
    phone_idx TEXT NOT NULL,
    phone_mask TEXT NOT NULL,
    credit_code TEXT,
    region_code TEXT NOT NULL,
    address_enc TEXT NOT NULL,
    tier TEXT NOT NULL DEFAULT 'standard',
    station_id BIGINT REFERENCES stations(id),
    created_by BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customers_phone_idx ON customers(phone_idx);
CREATE INDEX customers_station ON customers(station_id);
CREATE UNIQUE INDEX customers_credit_code ON customers(credit_code) WHERE credit_code IS NOT NULL;

-- Further people of a customer: the operator who uses the equipment (机手), other contacts.
CREATE TABLE customer_contacts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    name_enc TEXT NOT NULL,
    name_mask TEXT NOT NULL,
    phone_enc TEXT NOT NULL,
    phone_idx TEXT NOT NULL,
    phone_mask TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX customer_contacts_phone_idx ON customer_contacts(phone_idx);
CREATE INDEX customer_contacts_customer ON customer_contacts(customer_id);

CREATE TABLE devices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial_number TEXT NOT NULL,
    model_id BIGINT NOT NULL REFERENCES product_models(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    sale_date TEXT NOT NULL,
    install_region_code TEXT,
    install_address_enc TEXT,
    dealer_name TEXT,
    contract_until TEXT,
    station_id BIGINT REFERENCES stations(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT devices_serial_number_key UNIQUE (model_id, serial_number)
);
CREATE INDEX devices_serial ON devices(serial_number);
CREATE INDEX devices_customer ON devices(customer_id);

-- Per-day request numbers: INSERT … ON CONFLICT DO UPDATE … RETURNING, never "read the max, add one".
CREATE TABLE request_counters (
    day TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE service_requests (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    device_id BIGINT REFERENCES devices(id),
    request_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    urgency TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    fault_code TEXT,
    station_id BIGINT REFERENCES stations(id),
    assignee_id BIGINT REFERENCES users(id),
    created_by BIGINT,
    first_contact_resolution BOOLEAN NOT NULL DEFAULT FALSE,
    promised_reply_at BIGINT,
    calendar_code TEXT NOT NULL,
    policy_id BIGINT,
    response_target_min BIGINT NOT NULL,
    resolution_target_min BIGINT NOT NULL,
    -- Derived from the events by the SLA clock and cached for queues; recomputed on every change.
    response_due_at BIGINT,
    resolution_due_at BIGINT,
    response_state TEXT NOT NULL DEFAULT 'running',
    resolution_state TEXT NOT NULL DEFAULT 'running',
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX service_requests_customer ON service_requests(customer_id, created_at);
CREATE INDEX service_requests_device ON service_requests(device_id);
CREATE INDEX service_requests_station_status ON service_requests(station_id, status);
CREATE INDEX service_requests_status_due ON service_requests(status, resolution_due_at);
CREATE INDEX service_requests_assignee ON service_requests(assignee_id, status);

-- The timeline of a request: status changes (the SLA clocks are derived from these), notes, messages.
CREATE TABLE request_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES service_requests(id),
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
CREATE INDEX request_events_request ON request_events(request_id, id);
