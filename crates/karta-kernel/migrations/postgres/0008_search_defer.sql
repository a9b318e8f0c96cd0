-- Kept in step with SQLite's 0008, which defers an import's full-text indexing to each
-- commit. PostgreSQL's trigram indexes are maintained by the index itself (GIN's pending
-- list batches insertions already), so there is nothing to change here.
SELECT 1;
