-- Deal lists filter by status far more often than not (open deals are a few percent of all):
-- status leads, so "open deals by close date" reads only open ones.
CREATE INDEX deals_status_close ON deals (tenant_id, status, close_date, id);
CREATE INDEX deals_status_updated ON deals (tenant_id, status, updated_at, id);
-- The board's counts and sums read only this index: trashed deals are told apart here too.
DROP INDEX deals_board_sums;
CREATE INDEX deals_board_sums ON deals (tenant_id, pipeline_id, status, stage_id, owner_id, currency, amount, deleted_at);
-- A team's calendar: everyone's activities in a time range.
CREATE INDEX activities_at ON activities (tenant_id, at, id);
