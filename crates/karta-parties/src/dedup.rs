//! Duplicate accounts and contacts: the candidates a new record may duplicate (by e-mail,
//! normalised phone, name or tax number), and the report of likely duplicates across the base.
//!
//! Every lookup reads an index: e-mails, phones and tax numbers through the search text (the
//! FTS5 trigram index on SQLite, the `pg_trgm` GIN index on PostgreSQL; every e-mail and phone
//! of a record is in it) and then compared exactly; names through the name index.

use crate::parties::table;
use karta_core::party::{self, Labeled, PartyData, PartyInput};
use karta_core::text::{digits, norm};
use karta_core::values::email_key;
use karta_core::{Action, Entity, Scope};
use karta_kernel::ctx::Ctx;
use karta_kernel::db::{Db, Engine, Row, Q};
use karta_kernel::error::{Result, StoreError};
use serde::Serialize;

/// Why a record looks like a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The same e-mail (case-insensitive), primary or any.
    Email,
    /// The same phone number (E.164), primary or any.
    Phone,
    /// The same name (contacts: first and last name; accounts: the normalised name).
    Name,
    /// The same tax number (accounts).
    TaxId,
}

impl Reason {
    /// The reason as text (`email`, `phone`, `name`, `tax_id`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Name => "name",
            Self::TaxId => "tax_id",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Self::Email),
            "phone" => Some(Self::Phone),
            "name" => Some(Self::Name),
            _ => None,
        }
    }
}

/// A record that may be a duplicate, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    /// Which entity.
    pub entity: Entity,
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Primary e-mail.
    pub email: String,
    /// Primary phone (E.164).
    pub phone: String,
    /// The owner's display name.
    pub owner_name: String,
    /// Created (ms).
    pub created_at: i64,
    /// What matched.
    pub reasons: Vec<Reason>,
}

/// At most this many candidates are returned for one record.
pub const MAX_CANDIDATES: usize = 20;
/// At most this many values of one kind (e-mails, phones) are looked up per record.
const MAX_VALUES: usize = 10;
/// Rows read per index probe before the exact comparison.
const PROBE_LIMIT: i64 = 50;

const COLS: &str = "t.id, t.name, t.first_name, t.last_name, t.tax_id, t.primary_email, t.primary_phone, t.emails, \
                    t.phones, t.created_at, u.display_name AS owner_name";

fn candidate(entity: Entity, r: &Row, reason: Reason) -> Candidate {
    Candidate {
        entity,
        id: r.s("id"),
        name: r.s("name"),
        email: r.s("primary_email"),
        phone: r.s("primary_phone"),
        owner_name: r.s("owner_name"),
        created_at: r.i("created_at"),
        reasons: vec![reason],
    }
}

fn labeled(r: &Row, col: &str) -> Vec<Labeled> {
    serde_json::from_str(&r.s(col)).unwrap_or_default()
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Where a probe looks: the condition on `t` (bound into the query) and, for a substring
/// probe, the text looked for in the search index.
enum Probe {
    /// A condition on indexed columns of `t`.
    Cond(Box<dyn FnOnce(&mut Q) -> String + Send>),
    /// A substring of the search text, through the engine's trigram index.
    Text(String),
}

/// Runs one index probe: live records the caller may read, except `exclude`.
async fn probe(db: &Db, ctx: &Ctx, entity: Entity, scope: Scope, p: Probe, exclude: Option<&str>) -> Result<Vec<Row>> {
    let tbl = table(entity);
    let mut q = Q::new("");
    let mut conds = Vec::new();
    let from = match (&p, db.engine()) {
        (Probe::Text(s), Engine::Sqlite) => {
            conds.push(format!("{tbl}_fts MATCH {}", q.arg(format!("\"{}\"", s.replace('"', "\"\"")))));
            format!("{tbl}_fts f JOIN {tbl} t ON t.rowid = f.rowid")
        }
        (Probe::Text(s), Engine::Postgres) => {
            conds.push(format!("t.search_text LIKE {} ESCAPE '\\'", q.arg(format!("%{}%", like_escape(s)))));
            format!("{tbl} t")
        }
        (Probe::Cond(_), _) => format!("{tbl} t"),
    };
    if let Probe::Cond(f) = p {
        conds.push(f(&mut q));
    }
    conds.push(format!("t.tenant_id = {}", q.arg(ctx.tenant_id())));
    conds.push("t.deleted_at IS NULL".into());
    let sc = ctx.scope_sql(&mut q, "t", scope);
    if sc != "1=1" {
        conds.push(sc);
    }
    if let Some(x) = exclude {
        conds.push(format!("t.id <> {}", q.arg(x)));
    }
    let lim = q.arg(PROBE_LIMIT);
    q.sql = format!(
        "SELECT {COLS} FROM {from} LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
         WHERE {} LIMIT {lim}",
        conds.join(" AND ")
    );
    Ok(db.all(q).await?)
}

fn add(out: &mut Vec<Candidate>, c: Candidate) {
    if let Some(x) = out.iter_mut().find(|x| x.id == c.id) {
        for r in c.reasons {
            if !x.reasons.contains(&r) {
                x.reasons.push(r);
            }
        }
    } else {
        out.push(c);
    }
}

/// The visible live records that `data` may duplicate: the same e-mail (any, case-insensitive),
/// the same phone (any, E.164), the same name — for contacts the same first and last name
/// (case and `ё` ignored), among the contacts of `account_id` when one is given; for accounts
/// the same normalised name or tax number. `exclude_id` leaves out the record itself (on edit).
///
/// # Errors
/// `Forbidden` when the caller may not read the entity; database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn candidates(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    data: &PartyData,
    account_id: Option<&str>,
    exclude_id: Option<&str>,
) -> Result<Vec<Candidate>> {
    if !matches!(entity, Entity::Account | Entity::Contact) {
        return Ok(Vec::new());
    }
    let scope = ctx.scope(entity, Action::Read)?;
    let mut out: Vec<Candidate> = Vec::new();
    // E-mails: every address of the new record against every address of the others.
    let mut emails: Vec<String> = data.input.emails.iter().map(|l| email_key(&l.value)).collect();
    emails.sort();
    emails.dedup();
    for e in emails.into_iter().take(MAX_VALUES) {
        for r in probe(db, ctx, entity, scope, Probe::Text(e.clone()), exclude_id).await? {
            if labeled(&r, "emails").iter().any(|l| email_key(&l.value) == e) || email_key(&r.s("primary_email")) == e {
                add(&mut out, candidate(entity, &r, Reason::Email));
            }
        }
    }
    // Phones: stored in E.164; the search text holds their digits.
    let mut phones: Vec<String> = data.input.phones.iter().map(|l| l.value.clone()).collect();
    phones.sort();
    phones.dedup();
    for p in phones.into_iter().take(MAX_VALUES) {
        let d = digits(&p);
        if d.len() < 5 {
            continue;
        }
        for r in probe(db, ctx, entity, scope, Probe::Text(d.clone()), exclude_id).await? {
            if labeled(&r, "phones").iter().any(|l| digits(&l.value) == d) || digits(&r.s("primary_phone")) == d {
                add(&mut out, candidate(entity, &r, Reason::Phone));
            }
        }
    }
    match entity {
        Entity::Contact => {
            let (first, last) = (norm(&data.input.first_name), norm(&data.input.last_name));
            // The name key is "last first middle": this range holds "last first" with any
            // middle name (a space sorts before every printable character).
            let k = norm(&format!("{last} {first}"));
            if !k.is_empty() {
                let pg = db.engine() == Engine::Postgres;
                let account = account_id.filter(|a| !a.is_empty()).map(str::to_string);
                let tenant = ctx.tenant_id().to_string();
                let cond = Probe::Cond(Box::new(move |q: &mut Q| {
                    let key = if pg { "(t.name_key COLLATE \"C\")" } else { "t.name_key" };
                    let mut c = format!("{key} >= {} AND {key} < {}", q.arg(k.clone()), q.arg(format!("{k}!")));
                    if let Some(a) = account {
                        c.push_str(&format!(
                            " AND t.id IN (SELECT contact_id FROM contact_accounts WHERE tenant_id = {} AND account_id = {})",
                            q.arg(tenant),
                            q.arg(a)
                        ));
                    }
                    c
                }));
                for r in probe(db, ctx, entity, scope, cond, exclude_id).await? {
                    if norm(&r.s("first_name")) == first && norm(&r.s("last_name")) == last {
                        add(&mut out, candidate(entity, &r, Reason::Name));
                    }
                }
            }
        }
        Entity::Account => {
            let k = data.name_key.clone();
            if !k.is_empty() {
                let cond = Probe::Cond(Box::new(move |q: &mut Q| format!("t.name_key = {}", q.arg(k))));
                for r in probe(db, ctx, entity, scope, cond, exclude_id).await? {
                    add(&mut out, candidate(entity, &r, Reason::Name));
                }
            }
            let tax = data.input.tax_id.trim().to_string();
            if tax.chars().count() >= 3 {
                for r in probe(db, ctx, entity, scope, Probe::Text(tax.to_lowercase()), exclude_id).await? {
                    if r.s("tax_id").trim().eq_ignore_ascii_case(&tax) {
                        add(&mut out, candidate(entity, &r, Reason::TaxId));
                    }
                }
            }
        }
        Entity::Deal | Entity::Product | Entity::Activity => {}
    }
    out.truncate(MAX_CANDIDATES);
    Ok(out)
}

/// [`candidates`] for raw input: parses it first (an invalid record has no candidates yet:
/// `Invalid` names the fields, as create would).
///
/// # Errors
/// `Invalid`, `Forbidden`, database errors.
pub async fn candidates_for_input(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    raw: PartyInput,
    account_id: Option<&str>,
    exclude_id: Option<&str>,
) -> Result<Vec<Candidate>> {
    let data = party::parse(entity, raw, ctx.country()).map_err(StoreError::Invalid)?;
    candidates(db, ctx, entity, &data, account_id, exclude_id).await
}

/// A group of live records that share an e-mail, a phone or a name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DupGroup {
    /// What they share.
    pub reason: Reason,
    /// The shared value (e-mail, phone or name key).
    pub key: String,
    /// For contacts with the same name: the account they are both linked to.
    pub account_id: String,
    /// That account's name (when visible).
    pub account_name: String,
    /// The records (two or more; at most 20 are listed).
    pub records: Vec<Candidate>,
}

/// A page of the duplicates report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Groups of likely duplicates.
    pub items: Vec<DupGroup>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

const ORDER: [Reason; 3] = [Reason::Email, Reason::Phone, Reason::Name];
const SEP: char = '\u{1f}';

/// One shared value of a group: the key and, for contact names, the account.
struct GroupKey {
    key: String,
    account: String,
}

/// The keys of groups of `reason` after `after`, at most `limit`.
async fn group_keys(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    scope: Scope,
    reason: Reason,
    after: Option<&GroupKey>,
    limit: i64,
) -> Result<Vec<GroupKey>> {
    let tbl = table(entity);
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let sc = ctx.scope_sql(&mut q, "t", scope);
    let by_account = reason == Reason::Name && entity == Entity::Contact;
    if by_account {
        let mut keyset = String::new();
        if let Some(a) = after {
            let (pa, pk) = (q.arg(&a.account), q.arg(&a.key));
            keyset = format!(" AND (l.account_id > {pa} OR (l.account_id = {pa} AND t.name_key > {pk}))");
        }
        let lim = q.arg(limit);
        q.sql = format!(
            "SELECT l.account_id AS a, t.name_key AS k FROM contact_accounts l \
             JOIN contacts t ON t.tenant_id = l.tenant_id AND t.id = l.contact_id \
             WHERE l.tenant_id = {t} AND t.deleted_at IS NULL AND {sc}{keyset} \
             GROUP BY l.account_id, t.name_key HAVING COUNT(*) > 1 ORDER BY l.account_id, t.name_key LIMIT {lim}"
        );
    } else {
        let col = match reason {
            Reason::Email => "primary_email",
            Reason::Phone => "primary_phone",
            Reason::Name | Reason::TaxId => "name_key",
        };
        let keyset = after.map(|a| format!(" AND t.{col} > {}", q.arg(&a.key))).unwrap_or_default();
        let lim = q.arg(limit);
        q.sql = format!(
            "SELECT '' AS a, t.{col} AS k FROM {tbl} t \
             WHERE t.tenant_id = {t} AND t.{col} <> '' AND t.deleted_at IS NULL AND {sc}{keyset} \
             GROUP BY t.{col} HAVING COUNT(*) > 1 ORDER BY t.{col} LIMIT {lim}"
        );
    }
    Ok(db.all(q).await?.iter().map(|r| GroupKey { key: r.s("k"), account: r.s("a") }).collect())
}

async fn group_records(
    db: &Db,
    ctx: &Ctx,
    entity: Entity,
    scope: Scope,
    reason: Reason,
    g: &GroupKey,
) -> Result<Vec<Candidate>> {
    let tbl = table(entity);
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let col = match reason {
        Reason::Email => "primary_email",
        Reason::Phone => "primary_phone",
        Reason::Name | Reason::TaxId => "name_key",
    };
    let mut cond = format!("t.{col} = {}", q.arg(&g.key));
    if !g.account.is_empty() {
        cond.push_str(&format!(
            " AND t.id IN (SELECT contact_id FROM contact_accounts WHERE tenant_id = {t} AND account_id = {})",
            q.arg(&g.account)
        ));
    }
    let sc = ctx.scope_sql(&mut q, "t", scope);
    q.sql = format!(
        "SELECT {COLS} FROM {tbl} t LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.owner_id \
         WHERE t.tenant_id = {t} AND {cond} AND t.deleted_at IS NULL AND {sc} ORDER BY t.created_at, t.id LIMIT 20"
    );
    Ok(db.all(q).await?.iter().map(|r| candidate(entity, r, reason)).collect())
}

fn parse_cursor(s: &str) -> Result<(Reason, GroupKey)> {
    let bad = || StoreError::field("after", "invalid_value");
    let (r, rest) = s.split_once(':').ok_or_else(bad)?;
    let reason = Reason::parse(r).ok_or_else(bad)?;
    let (account, key) = match rest.split_once(SEP) {
        Some((a, k)) => (a.to_string(), k.to_string()),
        None => (String::new(), rest.to_string()),
    };
    Ok((reason, GroupKey { key, account }))
}

fn cursor(reason: Reason, g: &GroupKey) -> String {
    if g.account.is_empty() {
        format!("{}:{}", reason.as_str(), g.key)
    } else {
        format!("{}:{}{SEP}{}", reason.as_str(), g.account, g.key)
    }
}

/// Likely duplicates across the base the caller may read: groups of live records with the
/// same primary e-mail, the same primary phone, or the same name (contacts: linked to the
/// same account), in that order; keyset-paged by `after` (a `next_cursor`).
///
/// # Errors
/// `Invalid` for a bad cursor; `Forbidden`; database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn report(db: &Db, ctx: &Ctx, entity: Entity, limit: i64, after: Option<&str>) -> Result<Report> {
    if !matches!(entity, Entity::Account | Entity::Contact) {
        return Err(StoreError::NotFound);
    }
    let scope = ctx.scope(entity, Action::Read)?;
    let limit = limit.clamp(1, 200);
    let start = after.filter(|s| !s.is_empty()).map(parse_cursor).transpose()?;
    let mut keys: Vec<(Reason, GroupKey)> = Vec::new();
    let mut more = false;
    for reason in ORDER {
        let from = match &start {
            Some((r, _)) if ORDER.iter().position(|x| x == r) > ORDER.iter().position(|x| *x == reason) => continue,
            Some((r, g)) if *r == reason => Some(g),
            _ => None,
        };
        let want = limit + 1 - keys.len() as i64;
        let got = group_keys(db, ctx, entity, scope, reason, from, want).await?;
        keys.extend(got.into_iter().map(|g| (reason, g)));
        if keys.len() as i64 > limit {
            more = true;
            keys.truncate(usize::try_from(limit).unwrap_or(0));
            break;
        }
    }
    let next_cursor = if more { keys.last().map(|(r, g)| cursor(*r, g)) } else { None };
    let mut items = Vec::new();
    for (reason, g) in keys {
        let records = group_records(db, ctx, entity, scope, reason, &g).await?;
        if records.len() < 2 {
            continue;
        }
        let account_name = if g.account.is_empty() {
            String::new()
        } else {
            crate::parties::get(db, ctx, Entity::Account, &g.account).await.map(|a| a.name).unwrap_or_default()
        };
        items.push(DupGroup { reason, key: g.key, account_id: g.account, account_name, records });
    }
    Ok(Report { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_cursors_round_trip() {
        let g = GroupKey { key: "иванов иван".into(), account: "acc1".into() };
        let (r, back) = parse_cursor(&cursor(Reason::Name, &g)).expect("parses");
        assert_eq!((r, back.key.as_str(), back.account.as_str()), (Reason::Name, "иванов иван", "acc1"));
        let g = GroupKey { key: "a:b@x.ru".into(), account: String::new() };
        let (r, back) = parse_cursor(&cursor(Reason::Email, &g)).expect("parses");
        assert_eq!((r, back.key.as_str()), (Reason::Email, "a:b@x.ru"));
        assert!(parse_cursor("bogus").is_err());
    }
}
