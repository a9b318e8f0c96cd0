-- Every primary key and unique index of a business table leads with tenant_id, so the schema
-- can be distributed by tenant (see ARCHITECTURE, "Scale-out path"; Citus refuses a unique
-- index without the distribution column). Four tables did not: sessions, calendar_tokens
-- (keyed by a secret's hash), api_tokens (hash unique on its own) and jobs (keyed by id).
-- Each key is widened in place; rows unique on the old key are unique on the new one, and no
-- foreign key refers to these tables.
--
-- Secrets are looked up before the tenant is known (a cookie, a bearer token, a feed URL), so
-- the hashes keep a plain index; a hash is SHA-256 of random bytes, so its global uniqueness
-- never needed an index to enforce it. Kept in step with SQLite's 0010.

ALTER TABLE sessions DROP CONSTRAINT sessions_pkey, ADD PRIMARY KEY (tenant_id, id_hash);
CREATE INDEX sessions_hash ON sessions (id_hash);

ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_token_hash_key;
CREATE INDEX api_tokens_hash ON api_tokens (token_hash);

ALTER TABLE calendar_tokens DROP CONSTRAINT calendar_tokens_pkey, ADD PRIMARY KEY (tenant_id, token_hash);
CREATE INDEX calendar_tokens_hash ON calendar_tokens (token_hash);

-- The worker claims a job by (tenant_id, id): it reads both with the due jobs.
ALTER TABLE jobs DROP CONSTRAINT jobs_pkey, ADD PRIMARY KEY (tenant_id, id);
