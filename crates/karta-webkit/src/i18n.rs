//! The UI's texts in every language Karta speaks, from Fluent (`.ftl`) files: each context
//! keeps `texts/{lang}.ftl` in its home and registers them at start ([`register`]). Code and
//! templates name a text by its key (`nav.accounts`); in the files the dots are written as
//! hyphens (`nav-accounts`), because Fluent identifiers cannot hold dots. A key missing in a
//! language falls back to English, and a key missing everywhere shows as itself; a test in the
//! app proves neither happens.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;

/// The languages Karta speaks: code and the language's own name. Adding one means adding a
/// row here and a `texts/{code}.ftl` to every context (the key test names any that is missing).
pub const LANGS: &[(&str, &str)] = &[("en", "English"), ("ru", "Русский")];

/// Languages whose speakers are best served by another of [`LANGS`] when theirs is missing.
const NEAREST: &[(&str, &str)] = &[("uk", "ru"), ("be", "ru"), ("kk", "ru")];

/// The language a page is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    /// Index into [`LANGS`].
    lang: usize,
}

/// One value given to a text with variables.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    /// A number: chooses the plural form and shows as typed.
    Num(i64),
    /// A text.
    Text(&'a str),
}

impl Tr {
    /// English.
    pub const EN: Self = Self { lang: 0 };
    /// Russian.
    pub const RU: Self = Self { lang: 1 };

    /// The language with this code, if Karta speaks it.
    #[must_use]
    pub fn new(code: &str) -> Option<Self> {
        let code = code.trim().to_ascii_lowercase();
        let primary = code.split(['-', '_']).next().unwrap_or("");
        let primary = NEAREST.iter().find(|(from, _)| *from == primary).map_or(primary, |(_, to)| to);
        LANGS.iter().position(|(c, _)| *c == primary).map(|lang| Self { lang })
    }

    /// From a stored preference (a language code) or, when empty or unknown, the first
    /// language of an `Accept-Language` header Karta speaks; English otherwise.
    #[must_use]
    pub fn pick(pref: &str, accept_language: &str) -> Self {
        Self::new(pref)
            .or_else(|| accept_language.split(',').find_map(|part| Self::new(part.split(';').next().unwrap_or(""))))
            .unwrap_or(Self::EN)
    }

    /// The language code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        LANGS.get(self.lang).map_or("en", |(c, _)| c)
    }

    /// True for Russian: tenant data that is kept in Russian and English (stage names, custom
    /// field labels) shows its Russian side.
    #[must_use]
    pub fn is_ru(&self) -> bool {
        self.code() == "ru"
    }

    /// The text of `key` (variables, if any, show as `{name}` for the caller to fill).
    #[must_use]
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        plain(self.lang, key).unwrap_or(key)
    }

    /// The text of `key`, `None` when no language has it.
    #[must_use]
    pub fn opt(&self, key: &str) -> Option<&'static str> {
        plain(self.lang, key)
    }

    /// The label of field `name` (`f.<name>`), empty when there is none.
    #[must_use]
    pub fn f(&self, name: &str) -> &'static str {
        plain(self.lang, &format!("f.{name}")).unwrap_or("")
    }

    /// A field error's message.
    #[must_use]
    pub fn err(&self, code: &str) -> &'static str {
        plain(self.lang, &format!("err.{code}")).or_else(|| plain(self.lang, "err.invalid")).unwrap_or("invalid value")
    }

    /// The text of `key` with its variables filled: numbers choose the plural form of the
    /// language (`1 сделка`, `3 сделки`, `5 сделок`).
    #[must_use]
    pub fn fmt(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fa = FluentArgs::new();
        for (name, v) in args {
            match v {
                Arg::Num(n) => fa.set(*name, FluentValue::from(*n)),
                Arg::Text(s) => fa.set(*name, FluentValue::from(*s)),
            }
        }
        format(self.lang, key, Some(&fa)).unwrap_or_else(|| key.to_string())
    }

    /// The text of `key` for `count` things (its `$count` variable).
    #[must_use]
    pub fn n(&self, key: &str, count: impl TryInto<i64>) -> String {
        self.fmt(key, &[("count", Arg::Num(count.try_into().unwrap_or(i64::MAX)))])
    }
}

/// A context's texts: its Fluent source per language code (see [`ftl!`](crate::ftl)).
pub type Ftl = &'static [(&'static str, &'static str)];

/// A context's `texts/{lang}.ftl` files, one per language of [`LANGS`].
#[macro_export]
macro_rules! ftl {
    () => {
        &[
            ("en", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/texts/en.ftl"))),
            ("ru", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/texts/ru.ftl"))),
        ]
    };
}

/// The web kit's own texts (navigation, lists, common fields and errors).
pub const TEXTS: Ftl = crate::ftl!();

/// One language's bundle and its texts without variables, formatted once.
struct LangTexts {
    bundle: FluentBundle<&'static FluentResource>,
    /// Key (with dots) → text. Formatted at registration so that [`Tr::s`] is a map lookup
    /// handing out `&'static str` like the string constants it replaced; registration happens
    /// once per context, so the strings are leaked once and live as long as the process.
    plain: HashMap<&'static str, &'static str>,
}

struct Index {
    sources: Vec<Ftl>,
    langs: Vec<LangTexts>,
}

static INDEX: RwLock<Option<Index>> = RwLock::new(None);

/// The keys a Fluent source defines, in the code's form (dots).
///
/// # Errors
/// The parser's complaints, when the source is not valid Fluent.
pub fn keys_of(src: &str) -> Result<Vec<String>, String> {
    let res = FluentResource::try_new(src.to_string()).map_err(|(_, e)| format!("{e:?}"))?;
    Ok(res
        .entries()
        .filter_map(|e| match e {
            ast::Entry::Message(m) => Some(m.id.name.replace('-', ".")),
            _ => None,
        })
        .collect())
}

/// The variables a pattern uses, in order of first use.
fn variables<'s>(pattern: &ast::Pattern<&'s str>, out: &mut Vec<&'s str>) {
    fn inline<'s>(e: &ast::InlineExpression<&'s str>, out: &mut Vec<&'s str>) {
        match e {
            ast::InlineExpression::VariableReference { id } if !out.contains(&id.name) => out.push(id.name),
            ast::InlineExpression::Placeable { expression } => expr(expression, out),
            _ => {}
        }
    }
    fn expr<'s>(e: &ast::Expression<&'s str>, out: &mut Vec<&'s str>) {
        match e {
            ast::Expression::Inline(i) => inline(i, out),
            ast::Expression::Select { selector, variants } => {
                inline(selector, out);
                for v in variants {
                    variables(&v.value, out);
                }
            }
        }
    }
    for el in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            expr(expression, out);
        }
    }
}

/// Adds a context's texts; the app registers every context's at start. Registering the same
/// table again does nothing. A key defined twice keeps its first text (the key test proves
/// none is).
pub fn register(table: Ftl) {
    let mut guard = INDEX.write().unwrap_or_else(PoisonError::into_inner);
    let index = guard.get_or_insert_with(|| Index {
        sources: Vec::new(),
        langs: LANGS
            .iter()
            .map(|(code, _)| {
                let id = code.parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                bundle.set_use_isolating(false);
                LangTexts { bundle, plain: HashMap::new() }
            })
            .collect(),
    });
    if index.sources.iter().any(|t| std::ptr::eq(*t, table)) {
        return;
    }
    index.sources.push(table);
    for (code, src) in table {
        let Some(lang) = LANGS.iter().position(|(c, _)| c == code) else { continue };
        let res = FluentResource::try_new((*src).to_string()).unwrap_or_else(|(res, errors)| {
            tracing::error!(?errors, lang = code, "a texts file has errors; the rest of it is used");
            res
        });
        // Leaked on purpose: the bundle borrows its resources for the life of the process.
        let res: &'static FluentResource = Box::leak(Box::new(res));
        let lt = &mut index.langs[lang];
        // Overriding entries are reported and ignored; the first definition stays.
        let _ = lt.bundle.add_resource(res);
        for entry in res.entries() {
            let ast::Entry::Message(m) = entry else { continue };
            let key: &'static str = Box::leak(m.id.name.replace('-', ".").into_boxed_str());
            if lt.plain.contains_key(key) {
                continue;
            }
            let Some(value) = &m.value else { continue };
            let mut vars = Vec::new();
            variables(value, &mut vars);
            let mut args = FluentArgs::new();
            for v in &vars {
                args.set(*v, FluentValue::from(format!("{{{v}}}")));
            }
            let mut errors = Vec::new();
            let text = lt.bundle.format_pattern(value, Some(&args), &mut errors).into_owned();
            lt.plain.insert(key, Box::leak(text.into_boxed_str()));
        }
    }
}

fn plain(lang: usize, key: &str) -> Option<&'static str> {
    let guard = INDEX.read().unwrap_or_else(PoisonError::into_inner);
    let index = guard.as_ref()?;
    index.langs.get(lang).and_then(|l| l.plain.get(key)).or_else(|| index.langs.first()?.plain.get(key)).copied()
}

fn format(lang: usize, key: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let guard = INDEX.read().unwrap_or_else(PoisonError::into_inner);
    let index = guard.as_ref()?;
    let id = key.replace('.', "-");
    fn pick<'l>(l: &'l LangTexts, id: &str) -> Option<(&'l LangTexts, &'l ast::Pattern<&'l str>)> {
        l.bundle.get_message(id).and_then(|m| m.value()).map(|p| (l, p))
    }
    let (l, pattern) =
        index.langs.get(lang).and_then(|l| pick(l, &id)).or_else(|| index.langs.first().and_then(|l| pick(l, &id)))?;
    let mut errors = Vec::new();
    let text = l.bundle.format_pattern(pattern, args, &mut errors).into_owned();
    if !errors.is_empty() {
        tracing::warn!(key, ?errors, "a text was formatted with errors");
    }
    Some(text)
}

/// Registers the web kit's own texts (done by [`crate::app`]).
pub fn register_own() {
    register(TEXTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_preference_then_browser() {
        register_own();
        assert_eq!(Tr::pick("", "ru-RU,ru;q=0.9,en;q=0.8"), Tr::RU);
        assert_eq!(Tr::pick("en", "ru-RU"), Tr::EN);
        assert_eq!(Tr::pick("", "de-DE"), Tr::EN);
        assert_eq!(Tr::pick("", "de-DE, uk;q=0.8"), Tr::RU);
        assert_eq!(Tr::pick("xx", "en-GB"), Tr::EN);
        assert_eq!(Tr::RU.s("nav.contacts"), "Контакты");
        assert_eq!(Tr::EN.s("nav.contacts"), "Contacts");
    }

    #[test]
    fn counts_take_the_plural_form_of_the_language() {
        register_own();
        let ru: Vec<String> = [1, 3, 5, 21, 22, 111].iter().map(|n| Tr::RU.n("list.records", *n)).collect();
        assert_eq!(ru, ["1 запись", "3 записи", "5 записей", "21 запись", "22 записи", "111 записей"]);
        assert_eq!(Tr::EN.n("list.records", 1), "1 record");
        assert_eq!(Tr::EN.n("list.records", 7), "7 records");
    }
}
