//! Global search across the records the contexts offer (accounts, contacts, deals): by name,
//! e-mail and phone in any formatting,
//! case-insensitive in Cyrillic and Latin, `ё` = `е`, substring. SQLite uses an FTS5
//! trigram index, PostgreSQL a `pg_trgm` GIN index, both over the normalised search text.

use crate::ctx::Ctx;
use crate::db::{Db, Engine, Q};
use crate::error::Result;
use karta_core::text::{digits, looks_like_phone, norm};
use karta_core::{Action, Entity};

/// One search hit.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// Which entity.
    pub entity: Entity,
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail, phone or city, whatever helps to tell hits apart.
    pub detail: String,
}

/// The record of `entity` a typed name means, among those the caller may read: the one with
/// exactly that name (`prefer` first, when it is one of them), else the only one found.
///
/// # Errors
/// Database errors.
pub async fn by_name(db: &Db, ctx: &Ctx, entity: Entity, text: &str, prefer: Option<&str>) -> Result<Option<String>> {
    let hits: Vec<Hit> = search(db, ctx, text, 10).await?.into_iter().filter(|h| h.entity == entity).collect();
    let key = norm(text);
    let exact: Vec<&Hit> = hits.iter().filter(|h| norm(&h.name) == key).collect();
    if let Some(p) = prefer.filter(|p| exact.iter().any(|h| h.id == *p)) {
        return Ok(Some(p.to_string()));
    }
    if let Some(h) = exact.first() {
        return Ok(Some(h.id.clone()));
    }
    Ok((hits.len() == 1).then(|| hits[0].id.clone()))
}

/// The search terms of a query: normalised words, or the digits of a phone number.
#[must_use]
pub fn terms(q: &str) -> Vec<String> {
    if looks_like_phone(q) {
        let mut d = digits(q);
        // A Russian national number typed with the trunk prefix 8 is stored as +7.
        if d.len() == 11 && d.starts_with('8') {
            d.replace_range(0..1, "7");
        }
        return vec![d];
    }
    norm(q).split(' ').filter(|s| !s.is_empty()).map(str::to_string).take(8).collect()
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// How a context's table is searched: by a name key (prefix) and a normalised search text
/// (substrings, the FTS5 table `<table>_fts` on SQLite), with the details a hit shows.
#[derive(Debug, Clone, Copy)]
pub struct TableSearch {
    /// The entity (its table is [`Entity::table`]; the caller's read scope applies).
    pub entity: Entity,
    /// The name column as `name` (`t.name`, `t.title AS name`).
    pub name_col: &'static str,
    /// The normalised name key column, for prefixes.
    pub key_col: &'static str,
    /// `primary_email`, `primary_phone` and `city` columns (or empty texts named so).
    pub details: &'static str,
}

/// A context's searchable records, found by [`search`] and [`search_in`].
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    /// The table and its columns.
    pub table: TableSearch,
    /// Whether a query of digits alone (a phone number) is looked for here.
    pub phones: bool,
}

/// Search providers in the order their hits are listed.
pub static PROVIDERS: crate::hooks::Registry<Provider> = crate::hooks::Registry::new();

async fn search_entity(db: &Db, ctx: &Ctx, spec: TableSearch, terms: &[String], limit: i64) -> Result<Vec<Hit>> {
    let entity = spec.entity;
    let Ok(scope) = ctx.scope(entity, Action::Read) else { return Ok(Vec::new()) };
    let tbl = entity.table();
    let (name_col, key_col, details) = (spec.name_col, spec.key_col, spec.details);
    let mut hits: Vec<Hit> = Vec::new();
    let to_hit = |r: &crate::db::Row| {
        let detail = [r.s("primary_email"), r.s("primary_phone"), r.s("city")]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        Hit { entity, id: r.s("id"), name: r.s("name"), detail }
    };
    // Pass 1: names that start with the query, from the name index (cheap, best ranked).
    let phrase = terms.join(" ");
    if !phrase.is_empty() && !phrase.chars().all(|c| c.is_ascii_digit()) {
        let mut q = Q::new("");
        let t = q.arg(ctx.tenant_id());
        // A prefix is a range in code-point order; PostgreSQL needs the "C" collation (and
        // its own index) for that, SQLite compares that way already.
        let key = match db.engine() {
            Engine::Sqlite => format!("t.{key_col}"),
            Engine::Postgres => format!("(t.{key_col} COLLATE \"C\")"),
        };
        let lo = q.arg(phrase.clone());
        let hi = q.arg(format!("{phrase}\u{10FFFF}"));
        let range = format!("{key} >= {lo} AND {key} < {hi}");
        let sc = ctx.scope_sql(&mut q, "t", scope);
        let lim = q.arg(limit);
        q.sql = format!(
            "SELECT t.id, {name_col}, {details} FROM {tbl} t \
             WHERE t.tenant_id = {t} AND {range} AND t.deleted_at IS NULL AND {sc} ORDER BY {key}, t.id LIMIT {lim}"
        );
        hits.extend(db.all(q).await?.iter().map(to_hit));
    }
    if hits.len() as i64 >= limit {
        return Ok(hits);
    }
    // Pass 2: substrings anywhere in the search text.
    let long: Vec<&String> = terms.iter().filter(|t| t.chars().count() >= 3).collect();
    if long.is_empty() {
        return Ok(hits);
    }
    let mut q = Q::new("");
    let t = q.arg(ctx.tenant_id());
    let sc = ctx.scope_sql(&mut q, "t", scope);
    let mut conds: Vec<String> = Vec::new();
    let from = match db.engine() {
        Engine::Sqlite => {
            let m = long.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND ");
            conds.push(format!("{tbl}_fts MATCH {}", q.arg(m)));
            format!("{tbl}_fts f JOIN {tbl} t ON t.rowid = f.rowid")
        }
        Engine::Postgres => format!("{tbl} t"),
    };
    for term in terms {
        if db.engine() == Engine::Postgres || term.chars().count() < 3 {
            conds.push(format!("t.search_text LIKE {} ESCAPE '\\'", q.arg(format!("%{}%", like_escape(term)))));
        }
    }
    let lim = q.arg(limit * 2);
    q.sql = format!(
        "SELECT t.id, {name_col}, {details} FROM {from} \
         WHERE {} AND t.tenant_id = {t} AND t.deleted_at IS NULL AND {sc} LIMIT {lim}",
        conds.join(" AND ")
    );
    for h in db.all(q).await?.iter().map(to_hit) {
        if hits.len() as i64 >= limit {
            break;
        }
        if !hits.iter().any(|x| x.id == h.id) {
            hits.push(h);
        }
    }
    Ok(hits)
}

/// Searches the records of one entity the caller may read: the suggestions of a field that
/// links to that entity. None for an entity no context offers to search.
///
/// # Errors
/// Database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id(), entity = entity.as_str()))]
pub async fn search_in(db: &Db, ctx: &Ctx, entity: Entity, query: &str, limit: i64) -> Result<Vec<Hit>> {
    let terms = terms(query);
    let Some(p) = PROVIDERS.get(entity.as_str()) else { return Ok(Vec::new()) };
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    search_entity(db, ctx, p.table, &terms, limit).await
}

/// Searches every provider's records the caller may read (accounts, contacts, deals…); at
/// most `limit` hits of each.
///
/// # Errors
/// Database errors.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
pub async fn search(db: &Db, ctx: &Ctx, query: &str, limit: i64) -> Result<Vec<Hit>> {
    let terms = terms(query);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let digits_only = terms.iter().all(|t| t.chars().all(|c| c.is_ascii_digit()));
    let mut out = Vec::new();
    for p in PROVIDERS.all() {
        if p.phones || !digits_only {
            out.extend(search_entity(db, ctx, p.table, &terms, limit).await?);
        }
    }
    Ok(out)
}
