-- Deal lists filter by status far more often than not (open deals are a few percent of all):
-- status leads, so "open deals by close date" reads only open ones.
CREATE INDEX deals_status_close ON deals (tenant_id, status, close_date, id);
CREATE INDEX deals_status_updated ON deals (tenant_id, status, updated_at, id);
