-- Stocktake (盘点, issue 12): a count sheet per warehouse with the expected quantity of each part
-- when it was made and what was counted; the approved differences are ledger rows that name their
-- sheet (a surplus as a receipt, a shortage as scrap).

CREATE TABLE stocktakes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
    status TEXT NOT NULL CHECK (status IN ('counting', 'submitted', 'approved', 'rejected')),
    note TEXT NOT NULL DEFAULT '',
    decision_note TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    submitted_by BIGINT REFERENCES users(id),
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stocktakes_warehouse ON stocktakes(warehouse_id, id);

CREATE TABLE stocktake_lines (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stocktake_id BIGINT NOT NULL REFERENCES stocktakes(id),
    part_id BIGINT NOT NULL REFERENCES parts(id),
    -- On hand when the sheet was made, and as counted (thousandths).
    expected BIGINT NOT NULL,
    counted BIGINT CHECK (counted >= 0),
    movement_id BIGINT REFERENCES stock_movements(id),
    UNIQUE (stocktake_id, part_id)
);

ALTER TABLE stock_movements ADD COLUMN stocktake_id BIGINT REFERENCES stocktakes(id);
