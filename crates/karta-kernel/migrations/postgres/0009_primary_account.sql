-- A contact's primary company: the account of its earliest link (ties: the smaller account
-- id), or '' when it has none. A trigger keeps it whatever writes the links (forms, the API,
-- imports, merges and their undo, purges), so an export in name order reads the company with
-- the row instead of looking up the links of each contact at a random place.
ALTER TABLE contacts ADD COLUMN account_id TEXT NOT NULL DEFAULT '';

UPDATE contacts c SET account_id = p.account_id FROM (
  SELECT DISTINCT ON (tenant_id, contact_id) tenant_id, contact_id, account_id FROM contact_accounts
  ORDER BY tenant_id, contact_id, created_at, account_id) p
WHERE c.tenant_id = p.tenant_id AND c.id = p.contact_id;

-- Recomputes one contact's primary company; writes only when it changes. The contact's row
-- is locked first, so that two transactions changing its links one after the other each
-- compute from the other's committed links (READ COMMITTED: the next statement sees them).
CREATE FUNCTION contact_primary_account(t TEXT, c TEXT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE a TEXT;
BEGIN
  PERFORM 1 FROM contacts WHERE tenant_id = t AND id = c FOR UPDATE;
  SELECT ca.account_id INTO a FROM contact_accounts ca WHERE ca.tenant_id = t AND ca.contact_id = c
  ORDER BY ca.created_at, ca.account_id LIMIT 1;
  UPDATE contacts SET account_id = COALESCE(a, '') WHERE tenant_id = t AND id = c AND account_id <> COALESCE(a, '');
END $$;

-- A merge moves links by updating their contact or account: both contacts are recomputed. A
-- new link to the account the contact already names (an import sets it with the new contact)
-- is skipped after one look-up.
CREATE FUNCTION contact_accounts_primary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM contact_primary_account(OLD.tenant_id, OLD.contact_id);
  END IF;
  IF TG_OP = 'UPDATE' OR (TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM contacts
      WHERE tenant_id = NEW.tenant_id AND id = NEW.contact_id AND account_id <> NEW.account_id)) THEN
    PERFORM contact_primary_account(NEW.tenant_id, NEW.contact_id);
  END IF;
  RETURN NULL;
END $$;

-- A change of role alone changes nothing here.
CREATE TRIGGER contact_accounts_primary AFTER INSERT OR DELETE OR UPDATE OF contact_id, account_id, created_at
ON contact_accounts FOR EACH ROW EXECUTE FUNCTION contact_accounts_primary();
