-- An engineer's van as a warehouse (issue 12): a warehouse of the engineer's station that belongs to
-- the engineer; parts used on a visit are issued from it by its engineer (or the station's manager).
ALTER TABLE warehouses ADD COLUMN engineer_id BIGINT REFERENCES users(id);
CREATE INDEX warehouses_engineer ON warehouses(engineer_id) WHERE engineer_id IS NOT NULL;
