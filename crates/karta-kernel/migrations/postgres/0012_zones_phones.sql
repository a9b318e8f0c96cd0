-- Time zones by IANA name, and the phone numbers no numbering plan could read. Kept in step
-- between the two engines.

-- The tenant's zone (filled from its country when this migration runs and when a tenant is
-- added) and the user's own choice ('' = the browser's zone, else the tenant's).
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- Stored numbers that re-reading by every country's numbering plan could not confirm: kept
-- as they were typed, listed here for someone to check.
CREATE TABLE phone_issues (
  tenant_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  record_id TEXT NOT NULL,
  value TEXT NOT NULL,
  found_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, entity, record_id, value)
);
