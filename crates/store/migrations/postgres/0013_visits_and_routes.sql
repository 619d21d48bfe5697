-- Field service, continued (issue 11): the "on site by the agreed window" clock's sweep, the
-- service report filed on the request at completion, inspection routes per region.

-- The open visits whose agreed window has begun and whose engineer has not checked in: what the
-- on-site clock's sweep reads.
CREATE INDEX work_orders_on_site_due ON work_orders(appointment_from)
    WHERE checked_in_at IS NULL AND appointment_from IS NOT NULL;

-- The request attachment holding the completed visit's service report: set once, by whichever
-- instance files it first. The completed visits of a request still without it are the sweep's
-- to-do list (the step files it at once; the sweep catches what a crash or an error left).
ALTER TABLE work_orders ADD COLUMN report_attachment_id BIGINT REFERENCES attachments(id);
CREATE INDEX work_orders_report_to_file ON work_orders(id)
    WHERE report_attachment_id IS NULL AND service_request_id IS NOT NULL AND completed_at IS NOT NULL;

-- A plan narrowed to the devices installed in one region (GB/T 2260, any level; a device without an
-- installation region is where its customer is): an inspection route (例行检查) per region.
ALTER TABLE maintenance_plans ADD COLUMN region_code TEXT;
