-- Spare parts (issue 12): the catalog, each warehouse's figures per part, and the ledger of
-- movements those figures are the sum of. Quantities are integer thousandths of the part's unit.

CREATE TABLE parts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    specification TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL,
    -- Counted in whole units unless divisible (metres of cable, litres of oil).
    divisible BOOLEAN NOT NULL DEFAULT FALSE,
    -- Price per unit in fen (分).
    price_fen BIGINT NOT NULL DEFAULT 0 CHECK (price_fen >= 0),
    serialised BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The product models a part fits.
CREATE TABLE part_models (
    part_id BIGINT NOT NULL REFERENCES parts(id),
    model_id BIGINT NOT NULL REFERENCES product_models(id),
    PRIMARY KEY (part_id, model_id)
);

-- One row per warehouse and part: the figures every movement updates in the same transaction,
-- under the guard that none goes negative and no more is reserved than is on hand. The CHECKs
-- are the database's own backstop for that guard.
CREATE TABLE stock_levels (
    warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
    part_id BIGINT NOT NULL REFERENCES parts(id),
    on_hand BIGINT NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    in_transit BIGINT NOT NULL DEFAULT 0 CHECK (in_transit >= 0),
    -- Below this available quantity the part is low in this warehouse (NULL: no threshold).
    low_threshold BIGINT,
    PRIMARY KEY (warehouse_id, part_id)
);

-- Goods on their way between two warehouses.
CREATE TABLE stock_transfers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part_id BIGINT NOT NULL REFERENCES parts(id),
    from_warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
    to_warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    status TEXT NOT NULL CHECK (status IN ('in_transit', 'received')),
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    received_at BIGINT
);
CREATE INDEX stock_transfers_open ON stock_transfers(to_warehouse_id) WHERE status = 'in_transit';

-- The ledger: every change of a warehouse's figures, with its deltas. on_hand, reserved and
-- in_transit of stock_levels are the sums of these deltas.
CREATE TABLE stock_movements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('receipt', 'reserve', 'release', 'issue', 'return', 'transfer_out',
        'transfer_in', 'scrap')),
    warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
    part_id BIGINT NOT NULL REFERENCES parts(id),
    on_hand_delta BIGINT NOT NULL,
    reserved_delta BIGINT NOT NULL,
    in_transit_delta BIGINT NOT NULL,
    work_order_id BIGINT REFERENCES work_orders(id),
    transfer_id BIGINT REFERENCES stock_transfers(id),
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX stock_movements_level ON stock_movements(warehouse_id, part_id, id);
CREATE INDEX stock_movements_work_order ON stock_movements(work_order_id);
