-- Lists stay bounded as one customer's history grows (issue 10).

-- The screen pop's open requests and history of a customer, newest first: one partial index each,
-- so `customer_id = ? AND <open | closed> ORDER BY created_at DESC LIMIT n` reads n index entries,
-- never the customer's other requests (before, the history of a customer with thousands of open
-- requests walked all of them to find the closed ones). station_id rides along so that a station's
-- scope is checked in the index.
CREATE INDEX service_requests_customer_open ON service_requests(customer_id, created_at, station_id)
    WHERE status NOT IN ('closed', 'cancelled');
CREATE INDEX service_requests_customer_closed ON service_requests(customer_id, created_at, station_id)
    WHERE status IN ('closed', 'cancelled');

-- Whether a customer has a request at one of a station's stations (the customer scope, D25), without
-- walking the customer's requests; it also serves every other look-up by customer.
DROP INDEX service_requests_customer;
CREATE INDEX service_requests_customer_station ON service_requests(customer_id, station_id);

-- The queues: open requests in queue order (soonest resolution due first, none last, then id) with
-- every column a queue filters on (INCLUDE: carried, not ordered by).
-- A page reads its rows in order and stops at the page's end instead of sorting every open request
-- (before: a scan of the whole table); a count reads the open requests' index entries, never the
-- closed history.
CREATE INDEX service_requests_open_queue ON service_requests(
    (CASE WHEN resolution_due_at IS NULL THEN 1 ELSE 0 END), resolution_due_at, id)
    INCLUDE (station_id, assignee_id, response_due_at, response_state, resolution_state, status)
    WHERE status NOT IN ('closed', 'cancelled');
-- A person's queue (mine; unassigned is assignee NULL) and a station's, in the same order: they
-- replace indexes on (assignee_id, status) and (station_id, status), which led a queue through the
-- person's or the station's whole history. Nothing deletes users or stations (they are
-- deactivated), so no foreign-key check needs the full ones.
DROP INDEX service_requests_assignee;
CREATE INDEX service_requests_open_assignee ON service_requests(
    assignee_id, (CASE WHEN resolution_due_at IS NULL THEN 1 ELSE 0 END), resolution_due_at, id)
    WHERE status NOT IN ('closed', 'cancelled');
DROP INDEX service_requests_station_status;
CREATE INDEX service_requests_open_station ON service_requests(
    station_id, (CASE WHEN resolution_due_at IS NULL THEN 1 ELSE 0 END), resolution_due_at, id)
    WHERE status NOT IN ('closed', 'cancelled');
-- (status, resolution_due_at) served the queues before; over the whole history it only misleads a
-- planner into counting a queue through ten million entries.
DROP INDEX service_requests_status_due;
