-- Roles as tenant data, and the event outbox. Kept in step between the two engines.

-- A tenant's roles: its own, and the built-in ones it changed (a built-in role without a
-- row has its defaults). `id` is what users.role holds: a built-in role's name
-- (`salesperson`) or a new id. Grants are {entity: {action: scope}}, capabilities a list.
CREATE TABLE roles (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  name_key TEXT NOT NULL DEFAULT '',
  builtin BIGINT NOT NULL DEFAULT 0,
  grants TEXT NOT NULL DEFAULT '{}',
  caps TEXT NOT NULL DEFAULT '[]',
  version BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- Two custom roles of one tenant cannot share a name (compared case-folded).
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name_key) WHERE builtin = 0;
CREATE INDEX users_role ON users (tenant_id, role);

-- The outbox: every change of a business record and every domain moment, written in the
-- transaction of the change. `ins` orders inserts; `seq` is given after commit, in commit
-- order, by the sequencer (events::sequence), so a consumer reading past its position never
-- skips an event that committed late. (No AUTOINCREMENT: `ins` only orders the events not
-- numbered yet, so a value reused after a prune harms nothing.)
CREATE TABLE events (
  ins INTEGER PRIMARY KEY,
  seq BIGINT,
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  entity TEXT NOT NULL,
  record_id TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 0,
  user_id TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX events_seq ON events (seq);
CREATE INDEX events_unsequenced ON events (ins) WHERE seq IS NULL;
CREATE INDEX events_at ON events (at);
CREATE INDEX events_record ON events (tenant_id, entity, record_id);

-- Each consumer's position in the outbox, and who holds its lease.
CREATE TABLE event_positions (
  consumer TEXT PRIMARY KEY,
  position BIGINT NOT NULL DEFAULT 0,
  lease_until BIGINT NOT NULL DEFAULT 0,
  leased_by TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL DEFAULT 0
);
