-- A contact's primary company: the account of its earliest link (ties: the smaller account
-- id), or '' when it has none. Triggers keep it whatever writes the links (forms, the API,
-- imports, merges and their undo, purges), so an export in name order reads the company with
-- the row instead of looking up the links of each contact at a random place.
ALTER TABLE contacts ADD COLUMN account_id TEXT NOT NULL DEFAULT '';

UPDATE contacts SET account_id = (SELECT ca.account_id FROM contact_accounts ca
  WHERE ca.tenant_id = contacts.tenant_id AND ca.contact_id = contacts.id ORDER BY ca.created_at, ca.account_id LIMIT 1)
WHERE EXISTS (SELECT 1 FROM contact_accounts ca WHERE ca.tenant_id = contacts.tenant_id AND ca.contact_id = contacts.id);

-- Each trigger writes only when the primary changes. A new link to the account the contact
-- already names (an import sets it with the new contact) is skipped after one look-up.
CREATE TRIGGER contact_accounts_primary_ai AFTER INSERT ON contact_accounts
WHEN (SELECT account_id FROM contacts WHERE tenant_id = new.tenant_id AND id = new.contact_id) <> new.account_id BEGIN
  UPDATE contacts SET account_id = COALESCE((SELECT ca.account_id FROM contact_accounts ca
    WHERE ca.tenant_id = new.tenant_id AND ca.contact_id = new.contact_id ORDER BY ca.created_at, ca.account_id LIMIT 1), '')
  WHERE tenant_id = new.tenant_id AND id = new.contact_id AND account_id <> COALESCE((SELECT ca.account_id FROM contact_accounts ca
    WHERE ca.tenant_id = new.tenant_id AND ca.contact_id = new.contact_id ORDER BY ca.created_at, ca.account_id LIMIT 1), '');
END;
CREATE TRIGGER contact_accounts_primary_ad AFTER DELETE ON contact_accounts BEGIN
  UPDATE contacts SET account_id = COALESCE((SELECT ca.account_id FROM contact_accounts ca
    WHERE ca.tenant_id = old.tenant_id AND ca.contact_id = old.contact_id ORDER BY ca.created_at, ca.account_id LIMIT 1), '')
  WHERE tenant_id = old.tenant_id AND id = old.contact_id AND account_id <> COALESCE((SELECT ca.account_id FROM contact_accounts ca
    WHERE ca.tenant_id = old.tenant_id AND ca.contact_id = old.contact_id ORDER BY ca.created_at, ca.account_id LIMIT 1), '');
END;
-- A merge moves links by updating their contact or account: both contacts are recomputed. A
-- change of role alone changes nothing here.
CREATE TRIGGER contact_accounts_primary_au AFTER UPDATE OF contact_id, account_id, created_at ON contact_accounts BEGIN
  UPDATE contacts SET account_id = COALESCE((SELECT ca.account_id FROM contact_accounts ca
    WHERE ca.tenant_id = old.tenant_id AND ca.contact_id = old.contact_id ORDER BY ca.created_at, ca.account_id LIMIT 1), '')
  WHERE tenant_id = old.tenant_id AND id = old.contact_id AND account_id <> COALESCE((SELECT ca.account_id FROM contact_accounts ca
    WHERE ca.tenant_id = old.tenant_id AND ca.contact_id = old.contact_id ORDER BY ca.created_at, ca.account_id LIMIT 1), '');
  UPDATE contacts SET account_id = COALESCE((SELECT ca.account_id FROM contact_accounts ca
    WHERE ca.tenant_id = new.tenant_id AND ca.contact_id = new.contact_id ORDER BY ca.created_at, ca.account_id LIMIT 1), '')
  WHERE tenant_id = new.tenant_id AND id = new.contact_id AND account_id <> COALESCE((SELECT ca.account_id FROM contact_accounts ca
    WHERE ca.tenant_id = new.tenant_id AND ca.contact_id = new.contact_id ORDER BY ca.created_at, ca.account_id LIMIT 1), '');
END;
