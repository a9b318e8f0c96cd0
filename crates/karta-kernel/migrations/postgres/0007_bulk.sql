-- Trash lookups only ever ask for deleted records: indexing the live ones as well cost every
-- insert an index entry (a 1M-row import: a million of them) for nothing.
DROP INDEX contacts_deleted;
CREATE INDEX contacts_deleted ON contacts (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
DROP INDEX accounts_deleted;
CREATE INDEX accounts_deleted ON accounts (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
