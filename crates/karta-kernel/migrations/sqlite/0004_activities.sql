-- The organizer: activities (calls, meetings, tasks, e-mails logged by hand, letters, demos,
-- visits, chats, notes) linked to a contact, an account and a deal; meeting participants;
-- the jobs queue (reminders); calendar feed tokens; and the dates to congratulate on.
-- Kept in step with the PostgreSQL folder: the same tables; only the date backfill differs.

CREATE TABLE activities (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  direction TEXT NOT NULL DEFAULT '',
  duration_min BIGINT,
  outcome TEXT NOT NULL DEFAULT '',
  starts_at BIGINT,
  ends_at BIGINT,
  place TEXT NOT NULL DEFAULT '',
  due_at BIGINT,
  priority TEXT NOT NULL DEFAULT 'normal',
  owner_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'planned',
  done_at BIGINT,
  result TEXT NOT NULL DEFAULT '',
  interest TEXT NOT NULL DEFAULT '',
  remind_at BIGINT,
  at BIGINT NOT NULL,
  account_id TEXT NOT NULL DEFAULT '',
  contact_id TEXT NOT NULL DEFAULT '',
  deal_id TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  deleted_at BIGINT,
  PRIMARY KEY (tenant_id, id)
);
-- Timelines: newest first per linked record.
CREATE INDEX activities_account ON activities (tenant_id, account_id, at, id);
CREATE INDEX activities_contact ON activities (tenant_id, contact_id, at, id);
CREATE INDEX activities_deal ON activities (tenant_id, deal_id, at, id);
-- My day and the calendar: a user's activities by time.
CREATE INDEX activities_owner ON activities (tenant_id, owner_id, status, at, id);

CREATE TABLE activity_participants (
  tenant_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, activity_id, kind, ref_id)
);
CREATE INDEX activity_participants_ref ON activity_participants (tenant_id, kind, ref_id);

-- Background work that must happen once, at a time, across restarts.
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  run_at BIGINT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  done_at BIGINT,
  UNIQUE (tenant_id, kind, ref_id)
);
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE calendar_tokens (
  token_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX calendar_tokens_user ON calendar_tokens (tenant_id, user_id);

-- Birthdays and other important dates by month-day, for "congratulate" on My day.
CREATE TABLE party_dates (
  tenant_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  md TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  date TEXT NOT NULL
);
CREATE INDEX party_dates_owner ON party_dates (tenant_id, owner_id, md);
CREATE INDEX party_dates_record ON party_dates (tenant_id, entity, entity_id);

INSERT INTO party_dates (tenant_id, entity, entity_id, owner_id, md, label, date)
  SELECT tenant_id, 'contact', id, owner_id, substr(birthday, 6, 5), 'birthday', birthday FROM contacts
  WHERE birthday <> '' AND deleted_at IS NULL;
INSERT INTO party_dates (tenant_id, entity, entity_id, owner_id, md, label, date)
  SELECT c.tenant_id, 'contact', c.id, c.owner_id, substr(json_extract(j.value, '$.date'), 6, 5), COALESCE(json_extract(j.value, '$.label'), ''), json_extract(j.value, '$.date')
  FROM contacts c, json_each(c.important_dates) j
  WHERE c.important_dates <> '[]' AND c.deleted_at IS NULL AND length(json_extract(j.value, '$.date')) = 10;
