-- A bulk write session (an import) indexes the search text of the rows it inserted once, in
-- one statement just before each commit, instead of row by row through the triggers.
--
-- Why: FTS5 writes its pending terms out as a new segment at every statement savepoint, so
-- an import's multi-row INSERTs each left a small segment, and merging those segments was
-- most of the search index's cost.
--
-- How: at the start of each transaction the session records the highest rowid of each table
-- here. Rows above it are the session's own and not yet indexed, so the triggers leave them
-- alone; before COMMIT the session indexes them and deletes its rows here. Nothing in this
-- table is ever committed: other connections never see it, and a crash rolls it back with
-- the rows it covered.
CREATE TABLE search_deferred (
  tbl TEXT PRIMARY KEY,
  above INTEGER NOT NULL
) WITHOUT ROWID;

DROP TRIGGER contacts_fts_ai;
DROP TRIGGER contacts_fts_ad;
DROP TRIGGER contacts_fts_au;
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts
WHEN NOT EXISTS (SELECT 1 FROM search_deferred WHERE tbl = 'contacts' AND new.rowid > above) BEGIN
  INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts
WHEN NOT EXISTS (SELECT 1 FROM search_deferred WHERE tbl = 'contacts' AND old.rowid > above) BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF search_text ON contacts
WHEN NOT EXISTS (SELECT 1 FROM search_deferred WHERE tbl = 'contacts' AND old.rowid > above) BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

DROP TRIGGER accounts_fts_ai;
DROP TRIGGER accounts_fts_ad;
DROP TRIGGER accounts_fts_au;
CREATE TRIGGER accounts_fts_ai AFTER INSERT ON accounts
WHEN NOT EXISTS (SELECT 1 FROM search_deferred WHERE tbl = 'accounts' AND new.rowid > above) BEGIN
  INSERT INTO accounts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER accounts_fts_ad AFTER DELETE ON accounts
WHEN NOT EXISTS (SELECT 1 FROM search_deferred WHERE tbl = 'accounts' AND old.rowid > above) BEGIN
  INSERT INTO accounts_fts(accounts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER accounts_fts_au AFTER UPDATE OF search_text ON accounts
WHEN NOT EXISTS (SELECT 1 FROM search_deferred WHERE tbl = 'accounts' AND old.rowid > above) BEGIN
  INSERT INTO accounts_fts(accounts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO accounts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

-- The catch-up INSERT of up to 50,000 rows fits in memory whole and is written as one segment.
INSERT INTO contacts_fts(contacts_fts, rank) VALUES ('hashsize', 33554432);
INSERT INTO accounts_fts(accounts_fts, rank) VALUES ('hashsize', 33554432);
