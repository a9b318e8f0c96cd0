-- Data in and out: custom fields, saved views, merges, imports.
-- Keep in step with the other database's folder: the same suite runs on both.

-- Custom field values: one JSON object per record, keyed by the field's key.
ALTER TABLE accounts ADD COLUMN custom TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN custom TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deals ADD COLUMN custom TEXT NOT NULL DEFAULT '{}';
-- A record merged away points at the survivor.
ALTER TABLE accounts ADD COLUMN merged_into TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN merged_into TEXT NOT NULL DEFAULT '';
-- The hash of the import row a record was made from: re-running a file changes nothing.
ALTER TABLE accounts ADD COLUMN import_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN import_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX accounts_import_hash ON accounts (tenant_id, import_hash) WHERE import_hash <> '';
CREATE INDEX contacts_import_hash ON contacts (tenant_id, import_hash) WHERE import_hash <> '';

CREATE TABLE custom_fields (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  entity TEXT NOT NULL,
  key TEXT NOT NULL,
  kind TEXT NOT NULL,
  label_en TEXT NOT NULL,
  label_ru TEXT NOT NULL,
  help TEXT NOT NULL DEFAULT '',
  required BIGINT NOT NULL DEFAULT 0,
  default_value TEXT NOT NULL DEFAULT '',
  options TEXT NOT NULL DEFAULT '[]',
  target TEXT NOT NULL DEFAULT '',
  position BIGINT NOT NULL DEFAULT 0,
  active BIGINT NOT NULL DEFAULT 1,
  version BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, entity, key)
);

CREATE TABLE saved_views (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  entity TEXT NOT NULL,
  name TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  visibility TEXT NOT NULL DEFAULT 'private',
  team_id TEXT NOT NULL DEFAULT '',
  pinned BIGINT NOT NULL DEFAULT 0,
  query TEXT NOT NULL DEFAULT '{}',
  version BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX saved_views_entity ON saved_views (tenant_id, entity, name);

CREATE TABLE merges (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  entity TEXT NOT NULL,
  survivor_id TEXT NOT NULL,
  merged_ids TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  moved TEXT NOT NULL DEFAULT '[]',
  user_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  undone_at BIGINT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX merges_survivor ON merges (tenant_id, entity, survivor_id);

CREATE TABLE imports (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  entity TEXT NOT NULL,
  user_id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  file_path TEXT NOT NULL,
  format TEXT NOT NULL,
  encoding TEXT NOT NULL DEFAULT 'auto',
  mapping TEXT NOT NULL DEFAULT '[]',
  dedup TEXT NOT NULL DEFAULT 'skip',
  status TEXT NOT NULL,
  total BIGINT NOT NULL DEFAULT 0,
  done_rows BIGINT NOT NULL DEFAULT 0,
  imported BIGINT NOT NULL DEFAULT 0,
  updated BIGINT NOT NULL DEFAULT 0,
  skipped BIGINT NOT NULL DEFAULT 0,
  rejected BIGINT NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  -- 'web' imports are run by the server's worker; 'cli' ones by `karta import`, which resumes them.
  runner TEXT NOT NULL DEFAULT 'web',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX imports_status ON imports (status);
CREATE TABLE import_rejects (
  tenant_id TEXT NOT NULL,
  import_id TEXT NOT NULL,
  line BIGINT NOT NULL,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL,
  PRIMARY KEY (tenant_id, import_id, line)
);
-- One row per committed batch: two runners of one import (a resumed run and a late commit
-- of a killed one) cannot both write the same batch.
CREATE TABLE import_batches (
  tenant_id TEXT NOT NULL,
  import_id TEXT NOT NULL,
  upto BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, import_id, upto)
);
-- The column mapping a user chose, remembered per file shape (its normalised header row).
CREATE TABLE import_shapes (
  tenant_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  shape TEXT NOT NULL,
  mapping TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, entity, shape)
);
