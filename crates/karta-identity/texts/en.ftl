# English texts of karta-identity.
# Message ids are the code's keys with "." written as "-".

nav-roles = Roles
roles-title = Roles
roles-new = New role
roles-intro = A role says which records its users see and change, and what else they may do. Six roles come built in; change them or add your own.
roles-name = Name
roles-kind = Kind
roles-users = Users
roles-builtin = Built in
roles-customized = Built in, changed
roles-custom = Your own
roles-records = Records
roles-entity = Kind of record
roles-hint = Own: the records the user is responsible for. Team: those of the user's team. All: every record of the company.
roles-action-read = See
roles-action-create = Create
roles-action-update = Change
roles-action-delete = Delete
roles-action-export = Export
roles-scope-none = No
roles-scope-own = Own
roles-scope-team = Team's
roles-scope-all = All
roles-caps = Also may
roles-cap-admin = Administer: users, roles, custom fields, deleting for good
roles-cap-export = Export data (with the export column above)
roles-cap-manage_pipelines = Configure pipelines, stages and loss reasons
roles-cap-all_calendars = See the calendars of everyone, other teams too
roles-cap-lead_team = Lead the team: its workload, handing over a member's records
roles-fixed = The administrator may do everything; this role cannot be narrowed, so no one locks the company out.
roles-reset = Reset to the defaults
roles-delete = Delete the role
roles-saved = The role is saved. Its users have the new rights from their next click.
roles-deleted = The role is deleted.
roles-reset_done = The role has its default rights again.
roles-stale = Someone changed this role meanwhile: here it is as it is now. Make your change again.
roles-system = The system
act-reset = reset to the defaults
err-role_in_use = Users have this role: give them another one first.
err-role_fixed = This role cannot be changed.
f-grants = Rights
f-caps = Also may

## Settings: language and time zone.
settings-lang_auto = From the browser
settings-time_zone = Time zone
settings-zone_auto = From the browser, else the company's
settings-zone_now = Times are shown in

## The company settings on the users page.
admin-company = Company
admin-company_zone = Time zone
admin-company_zone_hint = Times are shown in this zone to everyone who has not chosen their own in Settings and whose browser does not tell its own.
