//! Every text key a template or handler of any context asks for exists in every language,
//! every context has a texts file for every language with the same keys, and no key is
//! defined twice (in one file or across contexts).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use karta_webkit::i18n::{keys_of, Ftl, LANGS};

/// Every context's texts, the web kit's first, with the home they come from.
fn tables() -> Vec<(&'static str, Ftl)> {
    vec![
        ("karta-webkit", karta_webkit::i18n::TEXTS),
        ("karta-customization", karta_customization::TEXTS),
        ("karta-parties", karta_parties::TEXTS),
        ("karta-sales", karta_sales::TEXTS),
        ("karta-organizer", karta_organizer::TEXTS),
        ("karta-transfer", karta_transfer::TEXTS),
        ("karta-identity", karta_identity::TEXTS),
        ("karta-catalog", karta_catalog::TEXTS),
    ]
}

/// Key → the homes defining it, per language code.
fn defined() -> HashMap<&'static str, HashMap<String, Vec<&'static str>>> {
    let mut by_lang: HashMap<&'static str, HashMap<String, Vec<&'static str>>> = HashMap::new();
    for (home, table) in tables() {
        for (code, src) in table {
            let keys = keys_of(src).unwrap_or_else(|e| panic!("{home}/texts/{code}.ftl does not parse: {e}"));
            for k in keys {
                by_lang.entry(code).or_default().entry(k).or_default().push(home);
            }
        }
    }
    by_lang
}

#[test]
fn every_context_has_every_language_with_the_same_keys_defined_once() {
    let by_lang = defined();
    for (home, table) in tables() {
        let codes: Vec<&str> = table.iter().map(|(c, _)| *c).collect();
        for (code, _) in LANGS {
            assert!(codes.contains(code), "{home} has no texts/{code}.ftl");
        }
        let sets: Vec<BTreeSet<String>> =
            table.iter().map(|(_, src)| keys_of(src).unwrap_or_default().into_iter().collect()).collect();
        for (i, set) in sets.iter().enumerate().skip(1) {
            let missing: Vec<_> = sets[0].symmetric_difference(set).collect();
            assert!(missing.is_empty(), "{home}: {} and {} differ in {missing:?}", table[0].0, table[i].0);
        }
    }
    for (code, keys) in &by_lang {
        for (k, homes) in keys {
            assert!(homes.len() == 1, "{k} is defined {} times in {code}: {homes:?}", homes.len());
        }
    }
}

/// Every source file of every context: handlers, stores and templates.
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs" || x == "html") {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    out.push((p, text));
                }
            }
        }
    }
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for home in std::fs::read_dir(&crates).expect("the crates directory").flatten() {
        walk(&home.path().join("src"), &mut out);
        walk(&home.path().join("templates"), &mut out);
    }
    out
}

fn exists_everywhere(by_lang: &HashMap<&'static str, HashMap<String, Vec<&'static str>>>, key: &str) -> bool {
    LANGS.iter().all(|(code, _)| by_lang.get(code).is_some_and(|keys| keys.contains_key(key)))
}

/// Every literal key the templates and handlers ask for exists in every language, so no page
/// shows a raw key or falls back to English.
#[test]
fn every_key_used_in_templates_and_handlers_exists_in_every_language() {
    let by_lang = defined();
    let lookup = |key: &str| exists_everywhere(&by_lang, key);
    let mut checked = 0;
    for (path, src) in sources() {
        for call in [".s(\"", ".n(\"", ".fmt(\""] {
            for (i, _) in src.match_indices(call) {
                let rest = &src[i + call.len()..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                if key.contains('.')
                    && !key.contains(['{', ' ', '/'])
                    && key.starts_with(|c: char| c.is_ascii_lowercase())
                {
                    assert!(lookup(key), "missing text {key} (used in {})", path.display());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 600, "the scan found the keys ({checked})");
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
    let dynamic = dynamic
        .chain((1..=7).flat_map(|n| [format!("cal.wd.{n}"), format!("cal.wds.{n}")]))
        .chain((1..=12).flat_map(|n| [format!("cal.mon.{n}"), format!("cal.mof.{n}")]))
        .chain(karta_organizer::store::KINDS.iter().map(|k| format!("cal.kind.{k}")))
        .chain(["day", "week", "month"].iter().map(|v| format!("cal.view.{v}")))
        .chain(["email", "phone", "name", "tax_id"].iter().map(|r| format!("dup.reason.{r}")));
    for key in dynamic {
        assert!(lookup(&key), "missing text {key}");
    }
}
