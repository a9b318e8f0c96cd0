-- Sales: pipelines and stages, deals with contacts and product lines, stage history, the
-- price negotiation log, lost reasons, the product catalogue and in-app notifications.
-- Kept in step with the PostgreSQL folder: the same tables; only the search indexes differ.

ALTER TABLE tenants ADD COLUMN currency TEXT NOT NULL DEFAULT 'RUB';

CREATE TABLE pipelines (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  name_ru TEXT NOT NULL,
  name_en TEXT NOT NULL,
  position BIGINT NOT NULL,
  active BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE stages (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  position BIGINT NOT NULL,
  name_ru TEXT NOT NULL,
  name_en TEXT NOT NULL,
  probability BIGINT NOT NULL,
  responsible_user_id TEXT NOT NULL DEFAULT '',
  responsible_team_id TEXT NOT NULL DEFAULT '',
  required_fields TEXT NOT NULL DEFAULT '',
  max_days BIGINT,
  active BIGINT NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX stages_pipeline ON stages (tenant_id, pipeline_id, position);
CREATE TABLE lost_reasons (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name_ru TEXT NOT NULL,
  name_en TEXT NOT NULL,
  position BIGINT NOT NULL,
  active BIGINT NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE deals (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  title TEXT NOT NULL,
  title_key TEXT NOT NULL,
  account_id TEXT NOT NULL DEFAULT '',
  owner_id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  stage_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  amount BIGINT NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  close_date TEXT NOT NULL DEFAULT '',
  probability BIGINT,
  source TEXT NOT NULL DEFAULT '',
  next_step TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  has_lines BIGINT NOT NULL DEFAULT 0,
  lost_reason_id TEXT NOT NULL DEFAULT '',
  lost_reason_text TEXT NOT NULL DEFAULT '',
  lost_stage_id TEXT NOT NULL DEFAULT '',
  stage_entered_at BIGINT NOT NULL,
  closed_at BIGINT,
  search_text TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  deleted_at BIGINT,
  deleted_by TEXT,
  PRIMARY KEY (tenant_id, id)
);
-- The board: per pipeline and stage, open deals newest-in-stage first; count and sums come
-- from the same index (owner and amount included, so scoped sums need no table reads).
CREATE INDEX deals_board ON deals (tenant_id, pipeline_id, status, stage_id, stage_entered_at, id);
CREATE INDEX deals_board_sums ON deals (tenant_id, pipeline_id, status, stage_id, owner_id, currency, amount);
CREATE INDEX deals_owner ON deals (tenant_id, owner_id, status, close_date);
CREATE INDEX deals_account ON deals (tenant_id, account_id);
CREATE INDEX deals_title ON deals (tenant_id, title_key, id);
CREATE INDEX deals_updated ON deals (tenant_id, updated_at, id);
CREATE INDEX deals_close ON deals (tenant_id, close_date, id);

CREATE TABLE deal_contacts (
  tenant_id TEXT NOT NULL,
  deal_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, deal_id, contact_id)
);
CREATE INDEX deal_contacts_contact ON deal_contacts (tenant_id, contact_id);

CREATE TABLE products (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  sku TEXT NOT NULL,
  name_ru TEXT NOT NULL,
  name_en TEXT NOT NULL,
  unit TEXT NOT NULL DEFAULT '',
  product_group TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT 'product',
  active BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, sku)
);
CREATE TABLE product_prices (
  tenant_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  price_list TEXT NOT NULL DEFAULT 'base',
  currency TEXT NOT NULL,
  price BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, product_id, price_list, currency)
);

CREATE TABLE deal_lines (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  deal_id TEXT NOT NULL,
  position BIGINT NOT NULL,
  product_id TEXT NOT NULL,
  name TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price BIGINT NOT NULL,
  discount BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX deal_lines_deal ON deal_lines (tenant_id, deal_id, position);

CREATE TABLE deal_stage_history (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  deal_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  from_stage_id TEXT NOT NULL DEFAULT '',
  to_stage_id TEXT NOT NULL,
  from_status TEXT NOT NULL DEFAULT '',
  to_status TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history (tenant_id, deal_id, at);

CREATE TABLE deal_price_log (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  deal_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  what TEXT NOT NULL,
  old_value TEXT NOT NULL DEFAULT '',
  new_value TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX deal_price_log_deal ON deal_price_log (tenant_id, deal_id, at);

CREATE TABLE notifications (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  link TEXT NOT NULL DEFAULT '',
  read_at BIGINT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notifications_user ON notifications (tenant_id, user_id, read_at, at);

CREATE INDEX deals_search ON deals USING gin (search_text gin_trgm_ops);
CREATE INDEX deals_title_c ON deals (tenant_id, (title_key COLLATE "C"), id);
