//! The list-query builder: filters on any field, sort on any column, keyset (cursor) paging.
//! The same [`ListQuery`] serves the HTML lists and the API.

use crate::db::{Db, Row, Q};
use crate::error::{Result, StoreError};
use karta_core::text::{ci_regex, digits, norm};
use karta_core::{Entity, FieldError};

/// How a field is filtered and sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The normalised name key.
    Name,
    /// Free text.
    Text,
    /// A value from a fixed list.
    Choice,
    /// JSON list of e-mails.
    Emails,
    /// JSON list of phones (matched by digits).
    Phones,
    /// `YYYY-MM-DD` text.
    Date,
    /// Integer.
    Number,
    /// Timestamp in ms, filtered by dates.
    Timestamp,
    /// 0 / 1.
    Bool,
    /// A user id (`me` allowed).
    Owner,
    /// The `,tag,` list.
    Tags,
    /// An amount in minor units, filtered by a decimal amount (two decimals).
    Money,
}

/// A filterable, sortable field of a list.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Name in URLs and the API.
    pub name: &'static str,
    /// Column (of alias `t`).
    pub column: &'static str,
    /// Behaviour.
    pub kind: Kind,
    /// Which entities have it.
    pub only: &'static [Entity],
}

impl Field {
    /// A field `name` stored in `column`, behaving as `kind`, on the lists of `only`.
    #[must_use]
    pub const fn new(name: &'static str, column: &'static str, kind: Kind, only: &'static [Entity]) -> Self {
        Self { name, column, kind, only }
    }
}

/// The list fields each context registers for its entities (the columns, filters and sorts
/// of its lists); a context's own fields are one static slice.
pub static COLUMNS: crate::hooks::Registry<&'static [Field]> = crate::hooks::Registry::new();

/// The fields of one entity.
pub fn fields(entity: Entity) -> impl Iterator<Item = &'static Field> {
    COLUMNS.all().into_iter().flat_map(|s| s.iter()).filter(move |f| f.only.contains(&entity))
}

/// Looks a field up.
#[must_use]
pub fn field(entity: Entity, name: &str) -> Option<&'static Field> {
    fields(entity).find(|f| f.name == name)
}

/// A filter operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Substring, case- and ё-insensitive.
    Contains,
    /// Prefix, case- and ё-insensitive.
    StartsWith,
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// One of a comma-separated list.
    In,
    /// No value.
    Empty,
    /// Any value.
    NotEmpty,
    /// At least (dates, numbers).
    Gte,
    /// At most (dates, numbers).
    Lte,
}

impl Op {
    /// Every operator, as named in URLs.
    pub const ALL: [Op; 9] = [
        Self::Contains,
        Self::StartsWith,
        Self::Eq,
        Self::Ne,
        Self::In,
        Self::Empty,
        Self::NotEmpty,
        Self::Gte,
        Self::Lte,
    ];

    /// The URL name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contains => "contains",
            Self::StartsWith => "starts",
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::In => "in",
            Self::Empty => "empty",
            Self::NotEmpty => "notempty",
            Self::Gte => "gte",
            Self::Lte => "lte",
        }
    }

    /// Parses the URL name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One filter condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Field name.
    pub field: String,
    /// Operator.
    pub op: Op,
    /// Value (comma-separated for `in`).
    pub value: String,
}

impl Filter {
    /// Parses `field:op:value` (the value may contain colons).
    ///
    /// # Errors
    /// A field error naming `filter`.
    pub fn parse(s: &str) -> std::result::Result<Self, FieldError> {
        let mut it = s.splitn(3, ':');
        let (Some(field), Some(op)) = (it.next(), it.next()) else {
            return Err(FieldError::new("filter", "invalid_value"));
        };
        let op = Op::parse(op).ok_or_else(|| FieldError::new("filter", "invalid_value"))?;
        Ok(Self { field: field.to_string(), op, value: it.next().unwrap_or_default().to_string() })
    }

    /// The `field:op:value` form.
    #[must_use]
    pub fn encode(&self) -> String {
        format!("{}:{}:{}", self.field, self.op.as_str(), self.value)
    }
}

/// A list request.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// Sort field; `None` = name.
    pub sort: Option<String>,
    /// Descending.
    pub desc: bool,
    /// Cursor from the previous page.
    pub after: Option<String>,
    /// Page size (1–500).
    pub limit: i64,
    /// List the trash instead of live records.
    pub trash: bool,
    /// Condition groups, combined with each other by [`ListQuery::match_any`] and with
    /// `filters` by AND.
    pub groups: Vec<FilterGroup>,
    /// True: any group may hold; false: every group must hold.
    pub match_any: bool,
    /// The entity's custom field definitions, for `cf.<key>` filters and sort; the store
    /// fills them in ([`crate::fields::with_defs`]).
    pub custom: Vec<karta_core::custom::FieldDef>,
}

/// A group of conditions: all of them (`any` false) or any of them must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterGroup {
    /// True when one condition is enough.
    pub any: bool,
    /// The conditions.
    pub filters: Vec<Filter>,
}

/// A page of ids plus the cursor for the next page.
#[derive(Debug, Clone)]
pub struct IdPage {
    /// Ids in order.
    pub ids: Vec<String>,
    /// Cursor for the next page, if there is one.
    pub next: Option<String>,
}

fn bad(field: &str) -> StoreError {
    StoreError::field(field, "invalid_value")
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn ms_of_date(s: &str, end: bool) -> Result<i64> {
    let d = karta_core::IsoDate::parse(s, "filter").map_err(|e| StoreError::Invalid(vec![e]))?;
    let date = time::Date::parse(d.as_str(), time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| bad("filter"))?;
    let t = date.midnight().assume_utc().unix_timestamp() * 1000;
    Ok(if end { t + 86_400_000 - 1 } else { t })
}

/// Appends the SQL condition of one filter, binding into `q`.
///
/// # Errors
/// `Invalid` for an unknown field, an operator the field does not support, or a bad value.
pub fn condition(db: &Db, q: &mut Q, entity: Entity, flt: &Filter, me: &str) -> Result<String> {
    let fd = field(entity, &flt.field).ok_or_else(|| bad("filter"))?;
    let col = format!("t.{}", fd.column);
    let v = flt.value.trim();
    let re = db.regex_op();
    let empty_val = match fd.kind {
        Kind::Emails | Kind::Phones => "'[]'",
        _ => "''",
    };
    let nullable = matches!(fd.kind, Kind::Number | Kind::Timestamp);
    Ok(match (fd.kind, flt.op) {
        (_, Op::Empty) if nullable => format!("{col} IS NULL"),
        (_, Op::NotEmpty) if nullable => format!("{col} IS NOT NULL"),
        (Kind::Bool, Op::Empty | Op::NotEmpty) => return Err(bad("filter")),
        (_, Op::Empty) => format!("{col} = {empty_val}"),
        (_, Op::NotEmpty) => format!("{col} <> {empty_val}"),
        (Kind::Name, Op::Contains | Op::StartsWith | Op::Eq | Op::Ne) => {
            let n = norm(v);
            let p = match flt.op {
                Op::Contains => q.arg(format!("%{}%", like_escape(&n))),
                Op::StartsWith => q.arg(format!("{}%", like_escape(&n))),
                _ => q.arg(n),
            };
            match flt.op {
                Op::Eq => format!("{col} = {p}"),
                Op::Ne => format!("{col} <> {p}"),
                _ => format!("{col} LIKE {p} ESCAPE '\\'"),
            }
        }
        (Kind::Text | Kind::Emails, Op::Contains) => format!("{col} {re} {}", q.arg(ci_regex(v, false))),
        (Kind::Text, Op::StartsWith) => format!("{col} {re} {}", q.arg(ci_regex(v, true))),
        (Kind::Text, Op::Eq) => format!("{col} {re} {}", q.arg(format!("{}$", ci_regex(v, true)))),
        (Kind::Text, Op::Ne) => format!("NOT ({col} {re} {})", q.arg(format!("{}$", ci_regex(v, true)))),
        (Kind::Emails, Op::Eq) => {
            format!("{col} LIKE {} ESCAPE '\\'", q.arg(format!("%\"{}\"%", like_escape(&v.to_lowercase()))))
        }
        (Kind::Phones, Op::Contains | Op::Eq | Op::StartsWith) => {
            let d = digits(v);
            if d.is_empty() {
                return Err(bad("filter"));
            }
            format!("{col} LIKE {}", q.arg(format!("%{d}%")))
        }
        (Kind::Choice | Kind::Date, Op::Eq) => format!("{col} = {}", q.arg(v.to_lowercase())),
        (Kind::Choice | Kind::Date, Op::Ne) => format!("{col} <> {}", q.arg(v.to_lowercase())),
        (Kind::Choice | Kind::Text, Op::In) | (Kind::Owner, Op::In) => {
            let vals: Vec<String> = v
                .split(',')
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| if fd.kind == Kind::Owner && s == "me" { me.to_string() } else { s.to_string() })
                .collect();
            if vals.is_empty() {
                return Err(bad("filter"));
            }
            let ps: Vec<String> = vals.into_iter().map(|s| q.arg(s)).collect();
            format!("{col} IN ({})", ps.join(", "))
        }
        (Kind::Owner, Op::Eq | Op::Ne) => {
            let who = if v == "me" { me.to_string() } else { v.to_string() };
            let op = if flt.op == Op::Eq { "=" } else { "<>" };
            format!("{col} {op} {}", q.arg(who))
        }
        (Kind::Tags, Op::Eq | Op::Contains) => {
            format!("{col} LIKE {} ESCAPE '\\'", q.arg(format!("%,{},%", like_escape(norm(v).trim_start_matches('#')))))
        }
        (Kind::Tags, Op::Ne) => {
            format!("{col} NOT LIKE {} ESCAPE '\\'", q.arg(format!("%,{},%", like_escape(&norm(v)))))
        }
        (Kind::Bool, Op::Eq) => {
            let b = matches!(v, "1" | "true" | "yes" | "on");
            if !matches!(v, "0" | "1" | "true" | "false" | "yes" | "no" | "on" | "off") {
                return Err(bad("filter"));
            }
            format!("{col} = {}", q.arg(b))
        }
        (Kind::Date, Op::Gte | Op::Lte) => {
            let d = karta_core::IsoDate::parse(v, "filter").map_err(|e| StoreError::Invalid(vec![e]))?;
            let op = if flt.op == Op::Gte { ">=" } else { "<=" };
            format!("({col} <> '' AND {col} {op} {})", q.arg(d.as_str()))
        }
        (Kind::Number, Op::Eq | Op::Ne | Op::Gte | Op::Lte) => {
            let n: i64 = v.parse().map_err(|_| bad("filter"))?;
            let op = match flt.op {
                Op::Eq => "=",
                Op::Ne => "<>",
                Op::Gte => ">=",
                _ => "<=",
            };
            format!("{col} {op} {}", q.arg(n))
        }
        (Kind::Money, Op::Eq | Op::Ne | Op::Gte | Op::Lte) => {
            let cur = karta_core::Currency::parse("RUB", "filter").map_err(|e| StoreError::Invalid(vec![e]))?;
            let m = karta_core::Money::parse(v, cur, "filter").map_err(|e| StoreError::Invalid(vec![e]))?;
            let op = match flt.op {
                Op::Eq => "=",
                Op::Ne => "<>",
                Op::Gte => ">=",
                _ => "<=",
            };
            format!("{col} {op} {}", q.arg(m.minor))
        }
        (Kind::Timestamp, Op::Gte) => format!("{col} >= {}", q.arg(ms_of_date(v, false)?)),
        (Kind::Timestamp, Op::Lte) => format!("{col} <= {}", q.arg(ms_of_date(v, true)?)),
        _ => return Err(bad("filter")),
    })
}

/// The SQL expression a field sorts by; never NULL, so keyset comparisons hold.
#[must_use]
pub fn sort_expr(fd: &Field) -> String {
    match fd.kind {
        Kind::Number => format!("COALESCE(t.{}, -1)", fd.column),
        Kind::Emails => "t.primary_email".to_string(),
        Kind::Phones => "t.primary_phone".to_string(),
        _ => format!("t.{}", fd.column),
    }
}

/// True when the sort value of this field is an integer.
#[must_use]
pub fn sorts_as_int(fd: &Field) -> bool {
    matches!(fd.kind, Kind::Number | Kind::Timestamp | Kind::Bool | Kind::Money)
}

/// How a list is sorted: a never-NULL SQL expression and whether its values are integers
/// (else text), for the keyset cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortBy {
    /// The SQL expression on alias `t`.
    pub expr: String,
    /// The values are integers.
    pub int: bool,
}

impl SortBy {
    /// The sort by `name`: a list field of `entity` or a custom field `cf.<key>` of `lq.custom`.
    ///
    /// # Errors
    /// `Invalid` naming `sort` for an unknown field.
    pub fn of(db: &Db, entity: Entity, name: &str, lq: &ListQuery) -> Result<Self> {
        if let Some(d) = crate::fields::lookup(&lq.custom, name) {
            let (expr, int) = crate::fields::sort_sql(db, d);
            return Ok(Self { expr, int });
        }
        let fd = field(entity, name).ok_or_else(|| StoreError::field("sort", "invalid_value"))?;
        Ok(Self { expr: sort_expr(fd), int: sorts_as_int(fd) })
    }
}

/// The keyset condition (` AND (expr, t.id) > (…)`) that continues a list after `lq.after`;
/// empty on the first page.
///
/// # Errors
/// `Invalid` naming `after` for a cursor this list did not make.
pub fn keyset_sql(q: &mut Q, fd: &Field, expr: &str, lq: &ListQuery) -> Result<String> {
    keyset_by(q, &SortBy { expr: expr.to_string(), int: sorts_as_int(fd) }, lq)
}

/// [`keyset_sql`] for any [`SortBy`].
///
/// # Errors
/// `Invalid` naming `after` for a cursor this list did not make.
pub fn keyset_by(q: &mut Q, sort: &SortBy, lq: &ListQuery) -> Result<String> {
    let expr = &sort.expr;
    let Some(c) = lq.after.as_deref().filter(|c| !c.is_empty()) else { return Ok(String::new()) };
    let (v, id) = decode_cursor(c)?;
    let vp = if sort.int {
        q.arg(v.as_i64().ok_or_else(|| StoreError::field("after", "invalid_value"))?)
    } else {
        q.arg(v.as_str().ok_or_else(|| StoreError::field("after", "invalid_value"))?.to_string())
    };
    let ip = q.arg(id);
    let cmp = if lq.desc { "<" } else { ">" };
    Ok(format!(" AND ({expr}, t.id) {cmp} ({vp}, {ip})"))
}

/// Turns the `limit + 1` rows of a keyset query (with a `sort_value` and an `id` column) into
/// the page's items and the cursor of the next page.
pub fn page_of<T>(rows: &[Row], limit: i64, fd: &Field, make: impl Fn(&Row) -> T) -> (Vec<T>, Option<String>) {
    page_by(rows, limit, sorts_as_int(fd), make)
}

/// [`page_of`] for a sort whose values are integers (`int`) or text.
pub fn page_by<T>(rows: &[Row], limit: i64, int: bool, make: impl Fn(&Row) -> T) -> (Vec<T>, Option<String>) {
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for (i, r) in rows.iter().enumerate() {
        if i as i64 == limit {
            break;
        }
        let v: serde_json::Value = if int { r.i("sort_value").into() } else { r.s("sort_value").into() };
        last = Some((v, r.s("id")));
        items.push(make(r));
    }
    let next = if rows.len() as i64 > limit { last.map(|(v, id)| encode_cursor(&v, &id)) } else { None };
    (items, next)
}

/// Encodes a cursor: the last row's sort value and id.
#[must_use]
pub fn encode_cursor(value: &serde_json::Value, id: &str) -> String {
    let raw = serde_json::json!([value, id]).to_string();
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a cursor.
///
/// # Errors
/// `Invalid` naming `after` for anything not made by [`encode_cursor`].
pub fn decode_cursor(s: &str) -> Result<(serde_json::Value, String)> {
    let err = || StoreError::field("after", "invalid_value");
    if !s.len().is_multiple_of(2) || s.len() > 4096 {
        return Err(err());
    }
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| err())?;
    let v: (serde_json::Value, String) = serde_json::from_slice(&bytes).map_err(|_| err())?;
    Ok(v)
}

/// The whole filter part of a list as one SQL condition: every flat filter AND the groups
/// (all or any of them, each all or any of its conditions). `cond` renders one condition
/// (usually [`condition`]; a list with computed flags wraps it). `None` when nothing filters.
///
/// # Errors
/// Whatever `cond` returns for a bad filter.
pub fn filters_sql(
    q: &mut Q,
    lq: &ListQuery,
    mut cond: impl FnMut(&mut Q, &Filter) -> Result<String>,
) -> Result<Option<String>> {
    let mut all = Vec::new();
    for f in &lq.filters {
        all.push(format!("({})", cond(q, f)?));
    }
    let mut groups = Vec::new();
    for g in lq.groups.iter().filter(|g| !g.filters.is_empty()) {
        let mut parts = Vec::new();
        for f in &g.filters {
            parts.push(format!("({})", cond(q, f)?));
        }
        groups.push(format!("({})", parts.join(if g.any { " OR " } else { " AND " })));
    }
    if !groups.is_empty() {
        all.push(format!("({})", groups.join(if lq.match_any { " OR " } else { " AND " })));
    }
    Ok((!all.is_empty()).then(|| all.join(" AND ")))
}

/// [`filters_sql`] with the standard [`condition`] of `entity`; `me` is the caller's user id.
///
/// # Errors
/// `Invalid` for a bad filter.
pub fn where_sql(db: &Db, q: &mut Q, entity: Entity, lq: &ListQuery, me: &str) -> Result<Option<String>> {
    filters_sql(q, lq, |q, f| condition_with(db, q, entity, &lq.custom, f, me))
}

/// [`condition`], and for a custom field (`cf.<key>`) the condition of its kind, with the
/// field looked up in `custom`.
///
/// # Errors
/// `Invalid` for an unknown field, an operator the field does not support, or a bad value.
pub fn condition_with(
    db: &Db,
    q: &mut Q,
    entity: Entity,
    custom: &[karta_core::custom::FieldDef],
    flt: &Filter,
    me: &str,
) -> Result<String> {
    if flt.field.starts_with("cf.") {
        return crate::fields::condition(db, q, custom, flt);
    }
    condition(db, q, entity, flt, me)
}

/// Every condition of a list, flat and grouped.
pub fn all_filters(lq: &ListQuery) -> impl Iterator<Item = &Filter> {
    lq.filters.iter().chain(lq.groups.iter().flat_map(|g| g.filters.iter()))
}

/// Reads list parameters in the URL/API syntax: repeatable `filter=field:op:value` (all must
/// hold), groups `g1=field:op:value` … `g9=…` with `g1_any=1` (any condition of the group is
/// enough), and `match=any` (any group is enough; default all). Returns true when `key` was
/// one of these parameters.
///
/// # Errors
/// A field error naming the parameter for a malformed condition.
pub fn read_param(lq: &mut ListQuery, key: &str, value: &str) -> std::result::Result<bool, FieldError> {
    if key == "filter" {
        lq.filters.push(Filter::parse(value)?);
        return Ok(true);
    }
    if key == "match" {
        lq.match_any = match value {
            "any" | "or" => true,
            "all" | "and" | "" => false,
            _ => return Err(FieldError::new("match", "invalid_choice")),
        };
        return Ok(true);
    }
    let Some(rest) = key.strip_prefix('g') else { return Ok(false) };
    let (num, any) = match rest.strip_suffix("_any") {
        Some(n) => (n, true),
        None => (rest, false),
    };
    let Some(i) = num.parse::<usize>().ok().filter(|i| (1..=GROUPS_MAX).contains(i)) else { return Ok(false) };
    if lq.groups.len() < i {
        lq.groups.resize_with(i, FilterGroup::default);
    }
    let g = &mut lq.groups[i - 1];
    if any {
        g.any = matches!(value, "1" | "true" | "yes" | "on" | "any");
    } else {
        g.filters.push(Filter::parse(value).map_err(|_| FieldError::new(key, "invalid_value"))?);
    }
    Ok(true)
}

/// Most condition groups a list takes (`g1` … `g9`).
pub const GROUPS_MAX: usize = 9;

/// The URL/API parameters of a list's filters (see [`read_param`]), in order.
#[must_use]
pub fn filter_params(lq: &ListQuery) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = lq.filters.iter().map(|f| ("filter".to_string(), f.encode())).collect();
    let mut n = 0;
    for g in lq.groups.iter().filter(|g| !g.filters.is_empty()) {
        n += 1;
        out.extend(g.filters.iter().map(|f| (format!("g{n}"), f.encode())));
        if g.any {
            out.push((format!("g{n}_any"), "1".into()));
        }
    }
    if lq.match_any && n > 0 {
        out.push(("match".into(), "any".into()));
    }
    out
}

#[cfg(test)]
mod group_tests {
    use super::*;

    fn flt(s: &str) -> Filter {
        Filter::parse(s).expect("filter")
    }

    #[test]
    fn groups_combine_with_and_or_around_the_flat_filters() {
        let lq = ListQuery {
            filters: vec![flt("city:eq:X")],
            groups: vec![
                FilterGroup { any: true, filters: vec![flt("a:eq:1"), flt("b:eq:2")] },
                FilterGroup { any: false, filters: vec![flt("c:eq:3"), flt("d:eq:4")] },
            ],
            match_any: true,
            ..ListQuery::default()
        };
        let mut q = Q::new("");
        let sql = filters_sql(&mut q, &lq, |_, f| Ok(format!("{}={}", f.field, f.value))).expect("sql");
        assert_eq!(sql.as_deref(), Some("(city=X) AND (((a=1) OR (b=2)) OR ((c=3) AND (d=4)))"));
        let mut none = Q::new("");
        assert_eq!(filters_sql(&mut none, &ListQuery::default(), |_, _| Ok(String::new())).expect("sql"), None);
    }

    #[test]
    fn url_parameters_round_trip_through_read_param() {
        let mut lq = ListQuery::default();
        for (k, v) in [("filter", "city:eq:X"), ("g2", "a:eq:1"), ("g2", "b:eq:2"), ("g2_any", "1"), ("match", "any")] {
            assert!(read_param(&mut lq, k, v).expect("valid"));
        }
        assert!(!read_param(&mut lq, "sort", "name").expect("not ours"));
        assert!(read_param(&mut lq, "g1", "nonsense").is_err());
        let params = filter_params(&lq);
        assert_eq!(
            params,
            vec![
                ("filter".to_string(), "city:eq:X".to_string()),
                ("g1".into(), "a:eq:1".into()),
                ("g1".into(), "b:eq:2".into()),
                ("g1_any".into(), "1".into()),
                ("match".into(), "any".into()),
            ]
        );
    }
}
