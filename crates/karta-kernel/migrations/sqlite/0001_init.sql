-- Karta schema v1. Keep in step with the other database's folder: the same suite runs on both.

CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  default_country TEXT NOT NULL DEFAULT 'RU',
  created_at BIGINT NOT NULL
);
CREATE TABLE teams (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE users (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  email TEXT NOT NULL,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  team_id TEXT,
  password_hash TEXT NOT NULL DEFAULT '',
  disabled BIGINT NOT NULL DEFAULT 0,
  locale TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, email)
);
CREATE INDEX users_email ON users (email);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE TABLE api_tokens (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE login_failures (
  key TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status BIGINT NOT NULL,
  body TEXT NOT NULL,
  location TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, key)
);

CREATE TABLE accounts (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  legal_name TEXT NOT NULL DEFAULT '',
  tax_id TEXT NOT NULL DEFAULT '',
  parent_id TEXT NOT NULL DEFAULT '',
  employees BIGINT,
  first_name TEXT NOT NULL DEFAULT '',
  last_name TEXT NOT NULL DEFAULT '',
  middle_name TEXT NOT NULL DEFAULT '',
  job_title TEXT NOT NULL DEFAULT '',
  birthday TEXT NOT NULL DEFAULT '',
  family_status TEXT NOT NULL DEFAULT '',
  income_band TEXT NOT NULL DEFAULT '',

  version BIGINT NOT NULL DEFAULT 1,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  relationship TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  first_contact TEXT NOT NULL DEFAULT '',
  industry TEXT NOT NULL DEFAULT '',
  region TEXT NOT NULL DEFAULT '',
  segment TEXT NOT NULL DEFAULT '',
  website TEXT NOT NULL DEFAULT '',
  primary_email TEXT NOT NULL DEFAULT '',
  primary_phone TEXT NOT NULL DEFAULT '',
  city TEXT NOT NULL DEFAULT '',
  emails TEXT NOT NULL DEFAULT '[]',
  phones TEXT NOT NULL DEFAULT '[]',
  messengers TEXT NOT NULL DEFAULT '[]',
  addresses TEXT NOT NULL DEFAULT '[]',
  important_dates TEXT NOT NULL DEFAULT '[]',
  interests TEXT NOT NULL DEFAULT '',
  preferences TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '',
  do_not_contact BIGINT NOT NULL DEFAULT 0,
  do_not_email BIGINT NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT '',
  search_text TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  deleted_at BIGINT,
  deleted_by TEXT,
  PRIMARY KEY (tenant_id, id)

);
CREATE TABLE contacts (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  legal_name TEXT NOT NULL DEFAULT '',
  tax_id TEXT NOT NULL DEFAULT '',
  parent_id TEXT NOT NULL DEFAULT '',
  employees BIGINT,
  first_name TEXT NOT NULL DEFAULT '',
  last_name TEXT NOT NULL DEFAULT '',
  middle_name TEXT NOT NULL DEFAULT '',
  job_title TEXT NOT NULL DEFAULT '',
  birthday TEXT NOT NULL DEFAULT '',
  family_status TEXT NOT NULL DEFAULT '',
  income_band TEXT NOT NULL DEFAULT '',

  version BIGINT NOT NULL DEFAULT 1,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  relationship TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  first_contact TEXT NOT NULL DEFAULT '',
  industry TEXT NOT NULL DEFAULT '',
  region TEXT NOT NULL DEFAULT '',
  segment TEXT NOT NULL DEFAULT '',
  website TEXT NOT NULL DEFAULT '',
  primary_email TEXT NOT NULL DEFAULT '',
  primary_phone TEXT NOT NULL DEFAULT '',
  city TEXT NOT NULL DEFAULT '',
  emails TEXT NOT NULL DEFAULT '[]',
  phones TEXT NOT NULL DEFAULT '[]',
  messengers TEXT NOT NULL DEFAULT '[]',
  addresses TEXT NOT NULL DEFAULT '[]',
  important_dates TEXT NOT NULL DEFAULT '[]',
  interests TEXT NOT NULL DEFAULT '',
  preferences TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '',
  do_not_contact BIGINT NOT NULL DEFAULT 0,
  do_not_email BIGINT NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT '',
  search_text TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  deleted_at BIGINT,
  deleted_by TEXT,
  PRIMARY KEY (tenant_id, id)

);

CREATE INDEX accounts_name ON accounts (tenant_id, name_key, id);
CREATE INDEX accounts_owner_name ON accounts (tenant_id, owner_id, name_key, id);
CREATE INDEX accounts_updated ON accounts (tenant_id, updated_at, id);
CREATE INDEX accounts_created ON accounts (tenant_id, created_at, id);
CREATE INDEX accounts_email ON accounts (tenant_id, primary_email);
CREATE INDEX accounts_phone ON accounts (tenant_id, primary_phone);
CREATE INDEX accounts_deleted ON accounts (tenant_id, deleted_at);

CREATE INDEX contacts_name ON contacts (tenant_id, name_key, id);
CREATE INDEX contacts_owner_name ON contacts (tenant_id, owner_id, name_key, id);
CREATE INDEX contacts_updated ON contacts (tenant_id, updated_at, id);
CREATE INDEX contacts_created ON contacts (tenant_id, created_at, id);
CREATE INDEX contacts_email ON contacts (tenant_id, primary_email);
CREATE INDEX contacts_phone ON contacts (tenant_id, primary_phone);
CREATE INDEX contacts_deleted ON contacts (tenant_id, deleted_at);

CREATE INDEX accounts_parent ON accounts (tenant_id, parent_id);
CREATE TABLE contact_accounts (
  tenant_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, contact_id, account_id)
);
CREATE INDEX contact_accounts_account ON contact_accounts (tenant_id, account_id, contact_id);
CREATE TABLE notes (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  body TEXT NOT NULL,
  author_id TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notes_record ON notes (tenant_id, entity, entity_id, created_at);
CREATE TABLE audit_log (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  action TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 0,
  user_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  changes TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_record ON audit_log (tenant_id, entity, entity_id, at);

CREATE VIRTUAL TABLE accounts_fts USING fts5(search_text, content='accounts', content_rowid='rowid', tokenize='trigram');
CREATE TRIGGER accounts_fts_ai AFTER INSERT ON accounts BEGIN
  INSERT INTO accounts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER accounts_fts_ad AFTER DELETE ON accounts BEGIN
  INSERT INTO accounts_fts(accounts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER accounts_fts_au AFTER UPDATE OF search_text ON accounts BEGIN
  INSERT INTO accounts_fts(accounts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO accounts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, content='contacts', content_rowid='rowid', tokenize='trigram');
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN
  INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF search_text ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
