//! Work on the data that a migration's SQL cannot do alone, run inside that migration's
//! transaction right after its SQL (so it runs once, and a failure leaves nothing behind).

use crate::db::{Tx, Q};
use karta_core::{Phone, Zone};
use serde_json::Value;

/// Rows read per round trip while re-reading a table.
const PAGE: i64 = 1_000;

/// Runs the data step of migration `version`, if it has one.
///
/// # Errors
/// Database errors.
pub async fn run(tx: &mut Tx, version: i64) -> anyhow::Result<()> {
    if version == 12 {
        tenant_zones(tx).await?;
        let report = renormalise_phones(tx).await?;
        if report.changed + report.unreadable > 0 {
            tracing::warn!(
                changed = report.changed,
                unreadable = report.unreadable,
                "phone numbers re-read by every country's numbering plan; the unreadable ones are kept as typed and listed in phone_issues"
            );
        }
    }
    if version == 13 {
        let report = renormalise_custom_phones(tx).await?;
        if report.changed + report.unreadable > 0 {
            tracing::warn!(
                changed = report.changed,
                unreadable = report.unreadable,
                "phone numbers in custom fields re-read by every country's numbering plan; the unreadable ones are kept as typed and listed in phone_issues"
            );
        }
    }
    Ok(())
}

/// Each tenant's zone: its country's main one.
async fn tenant_zones(tx: &mut Tx) -> anyhow::Result<()> {
    let rows = tx.all(Q::new("SELECT id, default_country FROM tenants WHERE time_zone = ''")).await?;
    for r in rows {
        let zone = Zone::of_country(&r.s("default_country"));
        tx.exec(Q::new("UPDATE tenants SET time_zone = $1 WHERE id = $2").bind(zone.name()).bind(r.s("id"))).await?;
    }
    Ok(())
}

/// What re-reading the stored phone numbers did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PhoneReport {
    /// Numbers stored anew in their E.164 form.
    pub changed: u64,
    /// Numbers no plan could confirm: kept and listed in `phone_issues`.
    pub unreadable: u64,
}

/// The number a stored value becomes, or `None` when no plan confirms it (it is kept).
fn reread(value: &str, country: &str) -> Option<String> {
    Phone::parse(value, country, "").ok().filter(Phone::is_known).map(|p| p.as_str().to_string())
}

/// Re-reads every contact's and account's phone numbers by the numbering plan of their
/// tenant's country: a number read differently now is stored anew (its digits in the search
/// text too); one no plan confirms is kept as it was and listed in `phone_issues`. Run by
/// migration 12; public so a test can run it over numbers stored by the old rules.
///
/// # Errors
/// Database errors.
pub async fn renormalise_phones(tx: &mut Tx) -> anyhow::Result<PhoneReport> {
    let mut report = PhoneReport::default();
    let now = karta_core::now_ms();
    for (entity, table) in [("contact", "contacts"), ("account", "accounts")] {
        let (mut after_t, mut after_id) = (String::new(), String::new());
        loop {
            let rows = tx
                .all(
                    Q::new(format!(
                        "SELECT r.tenant_id, r.id, r.phones, r.search_text, t.default_country FROM {table} r \
                         JOIN tenants t ON t.id = r.tenant_id \
                         WHERE (r.tenant_id > $1 OR (r.tenant_id = $1 AND r.id > $2)) AND r.phones <> '[]' \
                         ORDER BY r.tenant_id, r.id LIMIT $3"
                    ))
                    .bind(&after_t)
                    .bind(&after_id)
                    .bind(PAGE),
                )
                .await?;
            let Some(last) = rows.last() else { break };
            (after_t, after_id) = (last.s("tenant_id"), last.s("id"));
            for r in &rows {
                let Ok(Value::Array(mut phones)) = serde_json::from_str::<Value>(&r.s("phones")) else { continue };
                let (country, mut search) = (r.s("default_country"), r.s("search_text"));
                let mut changed = false;
                for p in &mut phones {
                    let Some(value) = p.get("value").and_then(Value::as_str).map(str::to_string) else { continue };
                    match reread(&value, &country) {
                        Some(now_value) if now_value != value => {
                            search = search
                                .replace(&karta_core::text::digits(&value), &karta_core::text::digits(&now_value));
                            p["value"] = Value::String(now_value);
                            changed = true;
                            report.changed += 1;
                        }
                        Some(_) => {}
                        None => {
                            report.unreadable += 1;
                            tx.exec(
                                Q::new(
                                    "INSERT INTO phone_issues (tenant_id, entity, record_id, value, found_at) \
                                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                                )
                                .bind(r.s("tenant_id"))
                                .bind(entity)
                                .bind(r.s("id"))
                                .bind(&value)
                                .bind(now),
                            )
                            .await?;
                        }
                    }
                }
                if changed {
                    let primary = phones.first().and_then(|p| p.get("value")).and_then(Value::as_str).unwrap_or("");
                    tx.exec(
                        Q::new(format!(
                            "UPDATE {table} SET phones = $1, primary_phone = $2, search_text = $3 WHERE tenant_id = $4 AND id = $5"
                        ))
                        .bind(Value::Array(phones.clone()).to_string())
                        .bind(primary)
                        .bind(&search)
                        .bind(r.s("tenant_id"))
                        .bind(r.s("id")),
                    )
                    .await?;
                }
            }
        }
    }
    Ok(report)
}

/// Re-reads the numbers kept in custom phone fields of contacts, accounts and deals, as
/// [`renormalise_phones`] does the records' own numbers. Run by migration 13.
///
/// # Errors
/// Database errors.
pub async fn renormalise_custom_phones(tx: &mut Tx) -> anyhow::Result<PhoneReport> {
    let mut report = PhoneReport::default();
    let now = karta_core::now_ms();
    // (tenant, entity) → the keys of its phone fields.
    let mut keys: std::collections::HashMap<(String, String), Vec<String>> = std::collections::HashMap::new();
    for r in tx.all(Q::new("SELECT tenant_id, entity, key FROM custom_fields WHERE kind = 'phone'")).await? {
        keys.entry((r.s("tenant_id"), r.s("entity"))).or_default().push(r.s("key"));
    }
    if keys.is_empty() {
        return Ok(report);
    }
    for (entity, table) in [("contact", "contacts"), ("account", "accounts"), ("deal", "deals")] {
        let (mut after_t, mut after_id) = (String::new(), String::new());
        loop {
            let rows = tx
                .all(
                    Q::new(format!(
                        "SELECT r.tenant_id, r.id, r.custom, r.search_text, t.default_country FROM {table} r \
                         JOIN tenants t ON t.id = r.tenant_id \
                         WHERE (r.tenant_id > $1 OR (r.tenant_id = $1 AND r.id > $2)) AND r.custom <> '{{}}' \
                         ORDER BY r.tenant_id, r.id LIMIT $3"
                    ))
                    .bind(&after_t)
                    .bind(&after_id)
                    .bind(PAGE),
                )
                .await?;
            let Some(last) = rows.last() else { break };
            (after_t, after_id) = (last.s("tenant_id"), last.s("id"));
            for r in &rows {
                let Some(fields) = keys.get(&(r.s("tenant_id"), entity.to_string())) else { continue };
                let Ok(Value::Object(mut custom)) = serde_json::from_str::<Value>(&r.s("custom")) else { continue };
                let (country, mut search) = (r.s("default_country"), r.s("search_text"));
                let mut changed = false;
                for key in fields {
                    let Some(value) = custom.get(key).and_then(Value::as_str).map(str::to_string) else { continue };
                    match reread(&value, &country) {
                        Some(now_value) if now_value != value => {
                            search = search
                                .replace(&karta_core::text::digits(&value), &karta_core::text::digits(&now_value));
                            custom.insert(key.clone(), Value::String(now_value));
                            changed = true;
                            report.changed += 1;
                        }
                        Some(_) => {}
                        None => {
                            report.unreadable += 1;
                            tx.exec(
                                Q::new(
                                    "INSERT INTO phone_issues (tenant_id, entity, record_id, value, found_at, field) \
                                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                                )
                                .bind(r.s("tenant_id"))
                                .bind(entity)
                                .bind(r.s("id"))
                                .bind(&value)
                                .bind(now)
                                .bind(key),
                            )
                            .await?;
                        }
                    }
                }
                if changed {
                    tx.exec(
                        Q::new(format!(
                            "UPDATE {table} SET custom = $1, search_text = $2 WHERE tenant_id = $3 AND id = $4"
                        ))
                        .bind(Value::Object(custom).to_string())
                        .bind(&search)
                        .bind(r.s("tenant_id"))
                        .bind(r.s("id")),
                    )
                    .await?;
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::reread;

    #[test]
    fn stored_numbers_are_reread_or_kept_for_someone_to_check() {
        assert_eq!(reread("+79161234567", "RU").as_deref(), Some("+79161234567"));
        assert_eq!(reread("+4402079460958", "RU").as_deref(), Some("+442079460958"), "a trunk 0 after +44");
        assert_eq!(reread("+713800138000", "CN"), None, "read with Russia's code by the old rules: kept");
        assert_eq!(reread("звонить секретарю", "RU"), None);
    }
}
