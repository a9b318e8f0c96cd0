-- Kept in step with PostgreSQL's 0002: SQLite compares text in code-point order already,
-- so the existing (tenant_id, name_key, id) indexes serve the typeahead's prefix range.
SELECT 1;
