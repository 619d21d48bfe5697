-- Warranty cards (三包卡, issue 12): what a station claims for warranty work, its audit, the parts
-- with their old and new serials, and the faulty parts that must come back to the central
-- warehouse before the claim is paid. Amounts are fen (分); instants UTC epoch milliseconds.

CREATE TABLE warranty_cards (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    -- One card per work order: a second filing is refused by this key, whichever instance races.
    work_order_id BIGINT NOT NULL UNIQUE REFERENCES work_orders(id),
    station_id BIGINT REFERENCES stations(id),
    device_id BIGINT NOT NULL REFERENCES devices(id),
    status TEXT NOT NULL CHECK (status IN ('submitted', 'returned', 'approved', 'rejected')),
    fault_code TEXT NOT NULL DEFAULT '',
    cause TEXT NOT NULL DEFAULT '',
    labour_minutes BIGINT NOT NULL DEFAULT 0 CHECK (labour_minutes >= 0),
    -- The audit's flags with their evidence (JSON array), recomputed at each submission.
    flags TEXT NOT NULL DEFAULT '[]',
    flag_count BIGINT NOT NULL DEFAULT 0,
    labour_fen BIGINT NOT NULL DEFAULT 0,
    parts_fen BIGINT NOT NULL DEFAULT 0,
    travel_fen BIGINT NOT NULL DEFAULT 0,
    total_fen BIGINT NOT NULL DEFAULT 0,
    -- The reason of the last return or rejection.
    reason TEXT NOT NULL DEFAULT '',
    submitted_at BIGINT NOT NULL,
    reviewed_at BIGINT,
    reviewed_by BIGINT REFERENCES users(id),
    created_by BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The audit queue: submitted cards, flagged first, oldest first.
CREATE INDEX warranty_cards_queue ON warranty_cards(status, flag_count, submitted_at);
CREATE INDEX warranty_cards_station ON warranty_cards(station_id, status);
CREATE INDEX warranty_cards_device ON warranty_cards(device_id);

-- The parts the card claims, copied from the work order and corrected on the card.
CREATE TABLE warranty_card_parts (
    id INTEGER PRIMARY KEY,
    card_id BIGINT NOT NULL REFERENCES warranty_cards(id),
    work_order_part_id BIGINT REFERENCES work_order_parts(id),
    part_id BIGINT REFERENCES parts(id),
    part_code TEXT NOT NULL,
    part_name TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    price_fen BIGINT NOT NULL DEFAULT 0,
    old_serial TEXT,
    new_serial TEXT,
    return_required BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX warranty_card_parts_card ON warranty_card_parts(card_id);
CREATE INDEX warranty_card_parts_old_serial ON warranty_card_parts(old_serial);
CREATE INDEX warranty_card_parts_new_serial ON warranty_card_parts(new_serial);

-- The card's timeline: filed, each decision with its reason, each correction.
CREATE TABLE warranty_card_events (
    id INTEGER PRIMARY KEY,
    card_id BIGINT NOT NULL REFERENCES warranty_cards(id),
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX warranty_card_events_card ON warranty_card_events(card_id, id);

-- A faulty part on its way back to the central warehouse, and what its inspection found.
CREATE TABLE faulty_returns (
    id INTEGER PRIMARY KEY,
    card_id BIGINT NOT NULL REFERENCES warranty_cards(id),
    card_part_id BIGINT NOT NULL UNIQUE REFERENCES warranty_card_parts(id),
    part_id BIGINT NOT NULL REFERENCES parts(id),
    serial TEXT,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    from_station_id BIGINT REFERENCES stations(id),
    to_warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
    status TEXT NOT NULL CHECK (status IN ('in_transit', 'received')),
    inspection TEXT CHECK (inspection IN ('confirmed_faulty', 'no_fault_found', 'user_damage')),
    note TEXT NOT NULL DEFAULT '',
    shipped_at BIGINT NOT NULL,
    received_at BIGINT,
    received_by BIGINT REFERENCES users(id)
);
CREATE INDEX faulty_returns_card ON faulty_returns(card_id);
CREATE INDEX faulty_returns_open ON faulty_returns(to_warehouse_id, shipped_at) WHERE status = 'in_transit';

-- Completed warranty work whose card is overdue and whose station was told: once per work order,
-- whichever instance's sweep gets there first.
CREATE TABLE warranty_card_reminders (
    work_order_id BIGINT PRIMARY KEY REFERENCES work_orders(id),
    fired_at BIGINT NOT NULL
);
-- The sweep's to-do list: completed work orders by completion.
CREATE INDEX work_orders_completed ON work_orders(completed_at) WHERE completed_at IS NOT NULL;

-- Whether the device was in warranty on the day its work order was completed (NULL: not judged,
-- no device or completed before this was recorded): warranty work wants a card.
ALTER TABLE work_orders ADD COLUMN under_warranty BOOLEAN;
-- Where visits in a region check in: the reference for a check-in far from its region.
CREATE INDEX work_orders_region_check_in ON work_orders(region_code, id) WHERE check_in_lat IS NOT NULL;
-- When a photo was taken, as the phone said (epoch ms): compared with the visit by the card's audit.
ALTER TABLE work_order_files ADD COLUMN taken_at BIGINT;
