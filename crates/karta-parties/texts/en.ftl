# English texts of karta-parties.
# Message ids are the code's keys with "." written as "-".

entity-account = Accounts
entity-contact = Contacts

## Duplicates found before a record is created.
dup-found = Possible duplicates: these records look like the one you are creating.
dup-create_anyway = Create anyway: it is a different record
dup-hint = Open a record to use it instead, or tick the box and save again.
dup-reason-email = same e-mail
dup-reason-phone = same phone
dup-reason-name = same name
dup-reason-tax_id = same tax number

## The duplicates report.
dup-report = Duplicates
dup-report_contacts = Duplicate contacts
dup-report_accounts = Duplicate accounts
dup-report_intro = Records that share an e-mail, a phone or a name (contacts: at the same account).
dup-none = No likely duplicates found.
dup-at_account = at
dup-merge = Merge…
dup-next = Next page
dup-owner = Owner

## The merge form.
merge-title = Merge records
merge-intro = Choose the record that stays and, for each field that differs, the value it keeps. Links, deals, activities, notes and history of the others move to it; the others go to the trash. A merge can be undone.
merge-survivor = Keep this record
merge-field = Field
merge-all = All together
merge-same = same in all
merge-confirm = Merge
merge-need_two = Choose at least two records to merge.
merge-stale = One of the records was changed meanwhile: open the merge again.
merge-yes = yes
merge-no = no

## A merge done, and its undo.
merge-done_title = Merge
merge-done = Merged into
merge-merged_away = Merged away
merge-moved = Items moved
merge-by = By
merge-when = When
merge-undo = Undo the merge
merge-undone = This merge was undone
merge-already_undone = This merge was already undone.
merge-purged = A merged record was deleted forever: the merge cannot be undone.
merge-pointer = This record was merged into
merge-survivor_of = Merged here
merge-view = view or undo

## History.
act-merge = merged
act-merge_undone = undid a merge
f-merged = Merged records
f-merged_into = Merged into

## A stored phone number no numbering plan confirms.
phone-unconfirmed = check the number: no numbering plan knows it

## Phone numbers to check.
phones-check = Numbers to check
phones-check_contacts = Contacts' phone numbers to check
phones-check_accounts = Companies' phone numbers to check
phones-check_intro = When Karta learned every country's numbering plan, it re-read the stored phone numbers. These it could not confirm: they are kept as they were typed. Open a record to correct its number, or mark the number right as it is.
phones-none = No numbers to check.
phones-stored = Number as stored
phones-found = Found
phones-actions = Action
phones-right_as_is = Right as it is
phones-dismissed = The number was marked right as it is.
phones-in_trash = in the trash
