-- Phone numbers kept in custom fields are re-read by every country's numbering plan too
-- (the migration's data step); a number no plan confirms is listed with the field it is in
-- ('' = the record's own phone numbers). Kept in step between the two engines.
ALTER TABLE phone_issues ADD COLUMN field TEXT NOT NULL DEFAULT '';
