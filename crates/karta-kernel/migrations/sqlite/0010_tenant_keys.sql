-- Every primary key and unique index of a business table leads with tenant_id, so the schema
-- can be distributed by tenant (see ARCHITECTURE, "Scale-out path"). Four tables did not:
-- sessions, calendar_tokens (keyed by a secret's hash), api_tokens (hash unique on its own)
-- and jobs (keyed by id). SQLite cannot alter a primary key or drop a column's UNIQUE, so
-- each is rebuilt: same columns in the same order, rows copied as they are. Nothing refers
-- to these tables by foreign key, and they have no triggers or full-text index.
--
-- Secrets are looked up before the tenant is known (a cookie, a bearer token, a feed URL), so
-- the hashes keep a plain index; a hash is SHA-256 of random bytes, so its global uniqueness
-- never needed an index to enforce it. Kept in step with PostgreSQL's 0010.

CREATE TABLE sessions_new (
  id_hash TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id_hash)
);
INSERT INTO sessions_new (id_hash, tenant_id, user_id, csrf, created_at, last_seen_at, expires_at)
  SELECT id_hash, tenant_id, user_id, csrf, created_at, last_seen_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_hash ON sessions (id_hash);

CREATE TABLE api_tokens_new (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT,
  PRIMARY KEY (tenant_id, id)
);
INSERT INTO api_tokens_new (tenant_id, id, user_id, name, token_hash, created_at, last_used_at, revoked_at)
  SELECT tenant_id, id, user_id, name, token_hash, created_at, last_used_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE INDEX api_tokens_hash ON api_tokens (token_hash);

CREATE TABLE calendar_tokens_new (
  token_hash TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  PRIMARY KEY (tenant_id, token_hash)
);
INSERT INTO calendar_tokens_new (token_hash, tenant_id, user_id, created_at, revoked_at)
  SELECT token_hash, tenant_id, user_id, created_at, revoked_at FROM calendar_tokens;
DROP TABLE calendar_tokens;
ALTER TABLE calendar_tokens_new RENAME TO calendar_tokens;
CREATE INDEX calendar_tokens_user ON calendar_tokens (tenant_id, user_id);
CREATE INDEX calendar_tokens_hash ON calendar_tokens (token_hash);

-- The worker claims a job by (tenant_id, id): it reads both with the due jobs.
CREATE TABLE jobs_new (
  id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  run_at BIGINT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  done_at BIGINT,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, kind, ref_id)
);
INSERT INTO jobs_new (id, tenant_id, kind, ref_id, run_at, state, attempts, last_error, done_at)
  SELECT id, tenant_id, kind, ref_id, run_at, state, attempts, last_error, done_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_due ON jobs (state, run_at);
