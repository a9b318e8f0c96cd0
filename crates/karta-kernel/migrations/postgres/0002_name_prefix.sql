-- Typeahead looks names up by prefix as a range in code-point order, whatever the
-- database's collation: these indexes serve `name_key COLLATE "C" >= $lo AND < $hi`.
CREATE INDEX accounts_name_c ON accounts (tenant_id, (name_key COLLATE "C"), id);
CREATE INDEX contacts_name_c ON contacts (tenant_id, (name_key COLLATE "C"), id);
