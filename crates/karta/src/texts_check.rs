//! Every text key a template or handler of any context asks for exists in some context's
//! table, and no two tables define the same key.

/// Every context's table, the web kit's first.
fn tables() -> Vec<karta_webkit::i18n::Texts> {
    vec![
        karta_webkit::i18n::TEXTS,
        karta_customization::texts_fields::TEXTS,
        karta_customization::texts_views::TEXTS,
        karta_parties::texts_merge::TEXTS,
        karta_sales::texts_sales::TEXTS,
        karta_sales::texts_board::TEXTS,
        karta_organizer::texts::TEXTS,
        karta_transfer::texts::TEXTS,
        karta_identity::texts::TEXTS,
        karta_catalog::TEXTS,
    ]
}

fn lookup(key: &str) -> bool {
    tables().iter().any(|t| t.iter().any(|(k, _, _)| *k == key))
}

#[test]
fn no_two_contexts_define_the_same_text_key() {
    let mut seen = std::collections::HashSet::new();
    for t in tables() {
        for (k, en, ru) in t {
            assert!(!en.is_empty() && !ru.is_empty(), "{k} is not filled in both languages");
            assert!(seen.insert(*k), "{k} is defined twice");
        }
    }
}

/// Every literal key the templates and handlers ask for exists, so no page shows a raw key.
#[test]
fn every_key_used_in_templates_and_handlers_exists() {
    let sources = [
        include_str!("../../karta-catalog/src/api.rs"),
        include_str!("../../karta-catalog/src/lib.rs"),
        include_str!("../../karta-catalog/src/pages.rs"),
        include_str!("../../karta-catalog/src/store.rs"),
        include_str!("../../karta-catalog/templates/products.html"),
        include_str!("../../karta-catalog/templates/products_form.html"),
        include_str!("../../karta-core/src/clock.rs"),
        include_str!("../../karta-core/src/custom.rs"),
        include_str!("../../karta-core/src/lib.rs"),
        include_str!("../../karta-core/src/money.rs"),
        include_str!("../../karta-core/src/party.rs"),
        include_str!("../../karta-core/src/perm.rs"),
        include_str!("../../karta-core/src/text.rs"),
        include_str!("../../karta-core/src/values.rs"),
        include_str!("../../karta-customization/src/fields_api.rs"),
        include_str!("../../karta-customization/src/fields_page.rs"),
        include_str!("../../karta-customization/src/lib.rs"),
        include_str!("../../karta-customization/src/views_api.rs"),
        include_str!("../../karta-customization/templates/fields.html"),
        include_str!("../../karta-identity/src/admin.rs"),
        include_str!("../../karta-identity/src/api.rs"),
        include_str!("../../karta-identity/src/lib.rs"),
        include_str!("../../karta-identity/src/notifications.rs"),
        include_str!("../../karta-identity/src/roles.rs"),
        include_str!("../../karta-identity/src/session.rs"),
        include_str!("../../karta-identity/src/settings.rs"),
        include_str!("../../karta-identity/templates/login.html"),
        include_str!("../../karta-identity/templates/notifications.html"),
        include_str!("../../karta-identity/templates/role.html"),
        include_str!("../../karta-identity/templates/roles.html"),
        include_str!("../../karta-identity/templates/settings.html"),
        include_str!("../../karta-identity/templates/users.html"),
        include_str!("../../karta-organizer/src/api.rs"),
        include_str!("../../karta-organizer/src/calendar.rs"),
        include_str!("../../karta-organizer/src/ics.rs"),
        include_str!("../../karta-organizer/src/lib.rs"),
        include_str!("../../karta-organizer/src/pages.rs"),
        include_str!("../../karta-organizer/src/store.rs"),
        include_str!("../../karta-organizer/src/team.rs"),
        include_str!("../../karta-organizer/templates/activity.html"),
        include_str!("../../karta-organizer/templates/activity_form.html"),
        include_str!("../../karta-organizer/templates/calendar.html"),
        include_str!("../../karta-organizer/templates/calendar_item.html"),
        include_str!("../../karta-organizer/templates/feed.html"),
        include_str!("../../karta-organizer/templates/my_day.html"),
        include_str!("../../karta-organizer/templates/timeline.html"),
        include_str!("../../karta-organizer/templates/timeline_panel.html"),
        include_str!("../../karta-organizer/templates/workload.html"),
        include_str!("../../karta-parties/src/api.rs"),
        include_str!("../../karta-parties/src/dedup.rs"),
        include_str!("../../karta-parties/src/hooks.rs"),
        include_str!("../../karta-parties/src/lib.rs"),
        include_str!("../../karta-parties/src/links.rs"),
        include_str!("../../karta-parties/src/mass.rs"),
        include_str!("../../karta-parties/src/merge.rs"),
        include_str!("../../karta-parties/src/merge_api.rs"),
        include_str!("../../karta-parties/src/merge_pages.rs"),
        include_str!("../../karta-parties/src/notes.rs"),
        include_str!("../../karta-parties/src/pages.rs"),
        include_str!("../../karta-parties/src/parties.rs"),
        include_str!("../../karta-parties/templates/form.html"),
        include_str!("../../karta-parties/templates/merge_done.html"),
        include_str!("../../karta-parties/templates/merge_dups.html"),
        include_str!("../../karta-parties/templates/merge_dups_confirm.html"),
        include_str!("../../karta-parties/templates/merge_form.html"),
        include_str!("../../karta-parties/templates/merge_report.html"),
        include_str!("../../karta-parties/templates/record.html"),
        include_str!("../../karta-parties/templates/search.html"),
        include_str!("../../karta-sales/src/api.rs"),
        include_str!("../../karta-sales/src/board.rs"),
        include_str!("../../karta-sales/src/deals.rs"),
        include_str!("../../karta-sales/src/hooks.rs"),
        include_str!("../../karta-sales/src/lib.rs"),
        include_str!("../../karta-sales/src/mass.rs"),
        include_str!("../../karta-sales/src/pages.rs"),
        include_str!("../../karta-sales/src/panels.rs"),
        include_str!("../../karta-sales/src/pipelines.rs"),
        include_str!("../../karta-sales/src/pipelines_admin.rs"),
        include_str!("../../karta-sales/templates/board.html"),
        include_str!("../../karta-sales/templates/deal.html"),
        include_str!("../../karta-sales/templates/deal_form.html"),
        include_str!("../../karta-sales/templates/deal_move.html"),
        include_str!("../../karta-sales/templates/deals_panel.html"),
        include_str!("../../karta-sales/templates/pipelines.html"),
        include_str!("../../karta-transfer/src/api.rs"),
        include_str!("../../karta-transfer/src/columns.rs"),
        include_str!("../../karta-transfer/src/export.rs"),
        include_str!("../../karta-transfer/src/import.rs"),
        include_str!("../../karta-transfer/src/lib.rs"),
        include_str!("../../karta-transfer/src/pages.rs"),
        include_str!("../../karta-transfer/templates/import_list.html"),
        include_str!("../../karta-transfer/templates/import_show.html"),
        include_str!("../../karta-webkit/src/api.rs"),
        include_str!("../../karta-webkit/src/auth.rs"),
        include_str!("../../karta-webkit/src/error.rs"),
        include_str!("../../karta-webkit/src/lib.rs"),
        include_str!("../../karta-webkit/src/ops.rs"),
        include_str!("../../karta-webkit/src/plugins.rs"),
        include_str!("../../karta-webkit/src/tz.rs"),
        include_str!("../../karta-webkit/src/ui/custom.rs"),
        include_str!("../../karta-webkit/src/ui/form.rs"),
        include_str!("../../karta-webkit/src/ui/list.rs"),
        include_str!("../../karta-webkit/src/ui/list_custom.rs"),
        include_str!("../../karta-webkit/src/ui/mod.rs"),
        include_str!("../../karta-webkit/src/ui/pages.rs"),
        include_str!("../../karta-webkit/src/ui/trash.rs"),
        include_str!("../../karta-webkit/src/ui/views.rs"),
        include_str!("../../karta-webkit/templates/base.html"),
        include_str!("../../karta-webkit/templates/custom_inputs.html"),
        include_str!("../../karta-webkit/templates/list.html"),
        include_str!("../../karta-webkit/templates/list_groups.html"),
        include_str!("../../karta-webkit/templates/list_setfield.html"),
        include_str!("../../karta-webkit/templates/list_views.html"),
        include_str!("../../karta-webkit/templates/message.html"),
        include_str!("../../karta-webkit/templates/trash.html"),
    ];
    let mut checked = 0;
    for src in sources {
        for (i, _) in src.match_indices("s(\"") {
            let rest = &src[i + 3..];
            let key = &rest[..rest.find('"').unwrap_or(0)];
            if key.contains('.') && !key.contains('{') && key.starts_with(|c: char| c.is_ascii_lowercase()) {
                assert!(lookup(key), "missing text {key}");
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "the scan found the keys ({checked})");
    let dynamic = karta_core::party::RELATIONSHIPS
        .iter()
        .map(|r| format!("rel.{r}"))
        .chain(karta_core::party::FIRST_CONTACT.iter().map(|r| format!("fc.{r}")))
        .chain(karta_core::Role::ALL.iter().map(|r| format!("role.{}", r.as_str())))
        .chain(
            ["create", "update", "delete", "restore", "link", "unlink", "purge", "won", "lost", "reopen", "reset"]
                .iter()
                .map(|a| format!("act.{a}")),
        )
        .chain(
            karta_parties::columns::FIELDS.iter().chain(karta_sales::columns::FIELDS).map(|f| format!("f.{}", f.name)),
        )
        .chain(karta_kernel::listq::Op::ALL.iter().map(|o| format!("op.{}", o.as_str())))
        .chain(["open", "won", "lost"].iter().map(|s| format!("deal.status.{s}")))
        .chain(karta_sales::deals::CONTACT_ROLES.iter().map(|r| format!("deal.role.{r}")))
        .chain(["amount", "line", "discount"].iter().map(|w| format!("deal.price.{w}")))
        .chain(["won", "lost", "reason", "reopened", "stale"].iter().map(|m| format!("deal.msg.{m}")))
        .chain(["won", "lost"].iter().map(|m| format!("deal.tl.{m}")))
        .chain(["handover", "reminder"].iter().map(|k| format!("notif.{k}")))
        .chain(karta_organizer::store::KINDS.iter().map(|k| format!("act.kind.{k}")))
        .chain(karta_organizer::store::INTEREST.iter().map(|k| format!("act.interest.{k}")))
        .chain(karta_organizer::store::PRIORITIES.iter().map(|k| format!("act.priority.{k}")))
        .chain(["in", "out"].iter().map(|k| format!("act.dir.{k}")))
        .chain(["planned"].iter().map(|k| format!("day.msg.{k}")))
        .chain(karta_sales::pipelines::REQUIRABLE.iter().map(|f| format!("f.{f}")))
        .chain(karta_kernel::views::VISIBILITIES.iter().map(|v| format!("views.vis.{v}")))
        .chain(karta_sales::mass::DEAL_FIELDS.iter().map(|f| format!("f.{f}")))
        .chain(karta_parties::mass::PARTY_FIELDS.iter().filter(|f| !f.starts_with("tag_")).map(|f| format!("f.{f}")))
        .chain(karta_core::custom::FieldKind::ALL.iter().map(|k| format!("kind.{}", k.as_str())))
        .chain(karta_core::Action::ALL.iter().map(|a| format!("roles.action.{}", a.as_str())))
        .chain(["none", "own", "team", "all"].iter().map(|s| format!("roles.scope.{s}")))
        .chain(karta_core::Cap::ALL.iter().map(|c| format!("roles.cap.{}", c.as_str())))
        .chain(
            [
                karta_core::Entity::Account,
                karta_core::Entity::Contact,
                karta_core::Entity::Deal,
                karta_core::Entity::Product,
                karta_core::Entity::Activity,
            ]
            .iter()
            .map(|e| format!("entity.{}", e.as_str())),
        )
        .chain(
            [karta_core::Entity::Contact, karta_core::Entity::Account, karta_core::Entity::Deal]
                .iter()
                .map(|e| format!("fields.for.{}", e.as_str())),
        );
    for key in dynamic {
        assert!(lookup(&key), "missing text {key}");
    }
}
