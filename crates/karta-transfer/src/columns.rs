//! The columns of imports and exports of accounts and contacts: one catalogue, so an exported
//! file maps itself back on import, and header names in Russian or English are recognised.

use karta_core::party::{Address, Labeled, NamedDate, PartyInput};
use karta_core::Entity;
use std::borrow::Cow;

/// A standard column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Stable key (also accepted as a header).
    pub key: &'static str,
    /// English header.
    pub en: &'static str,
    /// Russian header.
    pub ru: &'static str,
    /// Which entities have it.
    pub only: &'static [Entity],
    /// More header names that mean this column (normalised: lower case, `е` for `ё`).
    pub synonyms: &'static [&'static str],
}

const A: &[Entity] = &[Entity::Account];
const C: &[Entity] = &[Entity::Contact];
const P: &[Entity] = &[Entity::Account, Entity::Contact];

const fn col(
    key: &'static str,
    en: &'static str,
    ru: &'static str,
    only: &'static [Entity],
    synonyms: &'static [&'static str],
) -> Column {
    Column { key, en, ru, only, synonyms }
}

/// Every standard column, in export order.
pub const COLUMNS: &[Column] = &[
    col("id", "Id", "Идентификатор", P, &["uid", "ид"]),
    col(
        "name",
        "Name",
        "Название",
        A,
        &[
            "company",
            "company name",
            "organization",
            "organisation",
            "организация",
            "компания",
            "наименование",
            "account name",
        ],
    ),
    col(
        "full_name",
        "Full name",
        "ФИО",
        C,
        &["name", "contact", "contact name", "полное имя", "фамилия имя отчество", "имя фамилия"],
    ),
    col("last_name", "Last name", "Фамилия", C, &["surname", "family name", "lastname"]),
    col("first_name", "First name", "Имя", C, &["given name", "firstname", "forename"]),
    col("middle_name", "Middle name", "Отчество", C, &["patronymic", "middlename"]),
    col("job_title", "Job title", "Должность", C, &["title", "position", "job", "позиция"]),
    col(
        "account",
        "Company",
        "Компания",
        C,
        &["account", "organization", "organisation", "организация", "company name", "работодатель", "место работы"],
    ),
    col(
        "legal_name",
        "Legal name",
        "Юридическое название",
        A,
        &["полное наименование", "юр название", "юридическое наименование"],
    ),
    col("tax_id", "Tax id", "ИНН", A, &["inn", "tax number", "vat", "vat id"]),
    col(
        "employees",
        "Employees",
        "Сотрудников",
        A,
        &["number of employees", "staff", "сотрудники", "численность", "число сотрудников"],
    ),
    col(
        "email",
        "E-mail",
        "Эл. почта",
        P,
        &[
            "email",
            "e mail",
            "mail",
            "email address",
            "e-mail address",
            "почта",
            "электронная почта",
            "эл почта",
            "емейл",
            "имейл",
        ],
    ),
    col(
        "phone",
        "Phone",
        "Телефон",
        P,
        &[
            "phone number",
            "telephone",
            "tel",
            "mobile",
            "mobile phone",
            "тел",
            "мобильный",
            "мобильный телефон",
            "номер телефона",
        ],
    ),
    col("messengers", "Messengers", "Мессенджеры", P, &["messenger", "telegram", "мессенджер", "телеграм"]),
    col("website", "Website", "Сайт", P, &["web site", "site", "url", "web", "веб сайт", "вебсайт"]),
    col("industry", "Industry", "Отрасль", P, &["отрасль деятельности", "сфера"]),
    col("region", "Region", "Регион", P, &["area", "территория"]),
    col("segment", "Segment", "Сегмент", P, &[]),
    col(
        "relationship",
        "Relationship",
        "Тип отношений",
        P,
        &["type", "relation", "тип", "отношения", "статус клиента"],
    ),
    col("source", "Source", "Источник", P, &["lead source", "источник лида", "откуда узнал"]),
    col("first_contact", "First contact", "Первый контакт", P, &["инициатор"]),
    col("owner", "Owner", "Ответственный", P, &["owner email", "responsible", "manager", "менеджер", "владелец"]),
    col("tags", "Tags", "Теги", P, &["tag", "labels", "метки", "тег", "ярлыки"]),
    col("birthday", "Birthday", "День рождения", C, &["date of birth", "birth date", "dob", "дата рождения", "др"]),
    col("important_dates", "Important dates", "Важные даты", P, &["dates", "даты"]),
    col("street", "Street", "Улица", P, &["address", "street address", "адрес", "улица дом"]),
    col("city", "City", "Город", P, &["town", "населенный пункт"]),
    col("address_region", "Address region", "Область", P, &["state", "province", "область края", "край"]),
    col("postcode", "Postcode", "Индекс", P, &["zip", "zip code", "postal code", "почтовый индекс"]),
    col("country", "Country", "Страна", P, &[]),
    col("interests", "Interests", "Интересы", C, &["hobbies", "увлечения", "хобби"]),
    col("preferences", "Preferences", "Предпочтения", C, &[]),
    col("family_status", "Family status", "Семейное положение", C, &["marital status"]),
    col("income_band", "Income band", "Уровень дохода", C, &["income", "доход"]),
    col("do_not_contact", "Do not contact", "Не беспокоить", P, &["dnc"]),
    col("do_not_email", "Do not e-mail", "Не писать", P, &["do not email", "no email", "unsubscribed", "отписан"]),
    col(
        "description",
        "Description",
        "Описание",
        P,
        &["notes", "note", "comment", "comments", "about", "примечание", "комментарий", "заметки"],
    ),
];

/// The standard columns of an entity.
pub fn for_entity(entity: Entity) -> impl Iterator<Item = &'static Column> {
    COLUMNS.iter().filter(move |c| c.only.contains(&entity))
}

/// A header name as compared: lower case, `е` for `ё`, punctuation as spaces, single spaces.
#[must_use]
pub fn norm_header(s: &str) -> String {
    let s: String = s
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'ё' => 'е',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The column a header names, if any: a key, an English or Russian header, or a synonym.
#[must_use]
pub fn match_header(entity: Entity, header: &str) -> Option<&'static str> {
    let h = norm_header(header);
    if h.is_empty() {
        return None;
    }
    for c in for_entity(entity) {
        if norm_header(c.key) == h || norm_header(c.en) == h || norm_header(c.ru) == h {
            return Some(c.key);
        }
    }
    for_entity(entity).find(|c| c.synonyms.iter().any(|s| norm_header(s) == h)).map(|c| c.key)
}

/// Cells that a spreadsheet would run as a formula start with one of these.
const FORMULA: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Neutralises a cell against formula injection: a leading `'` makes spreadsheets show it as text.
#[must_use]
pub fn neutralise(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(FORMULA) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// Undoes [`neutralise`] when reading a file back.
#[must_use]
pub fn unneutralise(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA) => rest,
        _ => s,
    }
}

/// Joins labelled values as `label: value; value`.
#[must_use]
pub fn join_labeled(items: &[Labeled]) -> String {
    items
        .iter()
        .map(|l| if l.label.is_empty() { l.value.clone() } else { format!("{}: {}", l.label, l.value) })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Splits `label: value; value` (also `,` or new lines between items when no `;` is used).
#[must_use]
pub fn split_labeled(s: &str) -> Vec<Labeled> {
    let sep: &[char] = if s.contains(';') { &[';', '\n'] } else { &[',', '\n'] };
    s.split(sep)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| match x.split_once(": ") {
            Some((l, v)) if !l.contains('@') && !l.chars().any(|c| c.is_ascii_digit()) => {
                Labeled { value: v.trim().to_string(), label: l.trim().to_string() }
            }
            _ => Labeled { value: x.to_string(), label: String::new() },
        })
        .collect()
}

fn yes_no(s: &str) -> Option<bool> {
    match norm_header(s).as_str() {
        "1" | "yes" | "y" | "true" | "да" | "д" | "x" | "on" => Some(true),
        "" | "0" | "no" | "n" | "false" | "нет" | "н" | "off" => Some(false),
        _ => None,
    }
}

/// Splits "Фамилия Имя Отчество" (or "First Last") into parts.
fn split_full_name(s: &str, input: &mut PartyInput) {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let cyrillic = s.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё'));
    match (parts.as_slice(), cyrillic) {
        ([], _) => {}
        ([one], _) => input.last_name = (*one).to_string(),
        ([a, b], true) => (input.last_name, input.first_name) = ((*a).to_string(), (*b).to_string()),
        ([a, b, c], true) => {
            (input.last_name, input.first_name, input.middle_name) =
                ((*a).to_string(), (*b).to_string(), (*c).to_string());
        }
        ([first, rest @ ..], _) => (input.first_name, input.last_name) = ((*first).to_string(), rest.join(" ")),
    }
}

/// What a row says besides the profile itself.
#[derive(Debug, Clone, Default)]
pub struct RowExtras {
    /// The `id` cell.
    pub id: String,
    /// The owner's e-mail.
    pub owner_email: String,
    /// The company a contact works for.
    pub account: String,
}

/// Puts one cell into the profile. `Err` carries a reason for a value that cannot be read.
///
/// # Errors
/// A message naming the column for a yes/no or number that does not parse.
pub fn apply(key: &str, cell: &str, input: &mut PartyInput, extras: &mut RowExtras) -> Result<(), String> {
    let v = cell.trim();
    if v.is_empty() {
        return Ok(());
    }
    let s = v.to_string();
    match key {
        "id" => extras.id = s,
        "owner" => extras.owner_email = s,
        "account" => extras.account = s,
        "name" => input.name = s,
        "full_name" => split_full_name(v, input),
        "first_name" => input.first_name = s,
        "last_name" => input.last_name = s,
        "middle_name" => input.middle_name = s,
        "job_title" => input.job_title = s,
        "legal_name" => input.legal_name = s,
        "tax_id" => input.tax_id = s,
        "employees" => {
            let n: i64 =
                v.replace([' ', '\u{a0}'], "").parse().map_err(|_| format!("employees: not a number ({v})"))?;
            input.employees = Some(n);
        }
        "email" => input.emails.extend(split_labeled(v)),
        "phone" => input.phones.extend(split_labeled(v)),
        "messengers" => input.messengers.extend(split_labeled(v)),
        "website" => input.website = s,
        "industry" => input.industry = s,
        "region" => input.region = s,
        "segment" => input.segment = s,
        "relationship" => input.relationship = s,
        "source" => input.source = s,
        "first_contact" => input.first_contact = s,
        "tags" => {
            let sep: &[char] = if v.contains(';') { &[';'] } else { &[','] };
            input.tags.extend(v.split(sep).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string));
        }
        "birthday" => input.birthday = s,
        "important_dates" => input
            .important_dates
            .extend(split_labeled(v).into_iter().map(|l| NamedDate { label: l.label, date: l.value })),
        "street" | "city" | "address_region" | "postcode" | "country" => {
            if input.addresses.is_empty() {
                input.addresses.push(Address::default());
            }
            if let Some(a) = input.addresses.first_mut() {
                let slot = match key {
                    "street" => &mut a.street,
                    "city" => &mut a.city,
                    "address_region" => &mut a.region,
                    "postcode" => &mut a.postcode,
                    _ => &mut a.country,
                };
                *slot = s;
            }
        }
        "interests" => input.interests = s,
        "preferences" => input.preferences = s,
        "family_status" => input.family_status = s,
        "income_band" => input.income_band = s,
        "do_not_contact" | "do_not_email" => {
            let b = yes_no(v).ok_or_else(|| format!("{key}: expected yes or no ({v})"))?;
            if key == "do_not_contact" {
                input.do_not_contact = b;
            } else {
                input.do_not_email = b;
            }
        }
        "description" => input.description = s,
        _ => {}
    }
    Ok(())
}

/// The cell of a standard column for a stored profile (the inverse of [`apply`]); borrowed
/// where it can be, since an export writes a million rows of them.
#[must_use]
pub fn cell<'a>(key: &str, input: &'a PartyInput, extras: &'a RowExtras) -> Cow<'a, str> {
    let addr = input.addresses.first();
    let a = |f: fn(&Address) -> &String| addr.map_or(Cow::Borrowed(""), |x| Cow::Borrowed(f(x).as_str()));
    let yn = |b: bool| Cow::Borrowed(if b { "yes" } else { "" });
    let b = |s: &'a String| Cow::Borrowed(s.as_str());
    match key {
        "id" => b(&extras.id),
        "owner" => b(&extras.owner_email),
        "account" => b(&extras.account),
        "name" => b(&input.name),
        "full_name" => [&input.last_name, &input.first_name, &input.middle_name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
            .into(),
        "first_name" => b(&input.first_name),
        "last_name" => b(&input.last_name),
        "middle_name" => b(&input.middle_name),
        "job_title" => b(&input.job_title),
        "legal_name" => b(&input.legal_name),
        "tax_id" => b(&input.tax_id),
        "employees" => input.employees.map(|n| n.to_string()).unwrap_or_default().into(),
        "email" => labeled(&input.emails),
        "phone" => labeled(&input.phones),
        "messengers" => labeled(&input.messengers),
        "website" => b(&input.website),
        "industry" => b(&input.industry),
        "region" => b(&input.region),
        "segment" => b(&input.segment),
        "relationship" => b(&input.relationship),
        "source" => b(&input.source),
        "first_contact" => b(&input.first_contact),
        "tags" => input.tags.join(", ").into(),
        "birthday" => b(&input.birthday),
        "important_dates" => input
            .important_dates
            .iter()
            .map(|d| if d.label.is_empty() { d.date.clone() } else { format!("{}: {}", d.label, d.date) })
            .collect::<Vec<_>>()
            .join("; ")
            .into(),
        "street" => a(|x| &x.street),
        "city" => a(|x| &x.city),
        "address_region" => a(|x| &x.region),
        "postcode" => a(|x| &x.postcode),
        "country" => a(|x| &x.country),
        "interests" => b(&input.interests),
        "preferences" => b(&input.preferences),
        "family_status" => b(&input.family_status),
        "income_band" => b(&input.income_band),
        "do_not_contact" => yn(input.do_not_contact),
        "do_not_email" => yn(input.do_not_email),
        "description" => b(&input.description),
        _ => Cow::Borrowed(""),
    }
}

/// [`join_labeled`], borrowed when there is nothing to join.
fn labeled(items: &[Labeled]) -> Cow<'_, str> {
    match items {
        [] => Cow::Borrowed(""),
        [one] if one.label.is_empty() => Cow::Borrowed(one.value.as_str()),
        _ => join_labeled(items).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_export_header_in_either_language_imports_back_into_its_own_column() {
        for entity in [Entity::Account, Entity::Contact] {
            for c in for_entity(entity) {
                assert_eq!(match_header(entity, c.en), Some(c.key), "{entity:?} {}", c.en);
                assert_eq!(match_header(entity, c.ru), Some(c.key), "{entity:?} {}", c.ru);
            }
        }
    }

    #[test]
    fn headers_in_russian_and_english_are_recognised() {
        assert_eq!(match_header(Entity::Contact, "Эл. почта"), Some("email"));
        assert_eq!(match_header(Entity::Contact, " E-MAIL "), Some("email"));
        assert_eq!(match_header(Entity::Contact, "Фамилия"), Some("last_name"));
        assert_eq!(match_header(Entity::Contact, "ФИО"), Some("full_name"));
        assert_eq!(match_header(Entity::Account, "ИНН"), Some("tax_id"));
        assert_eq!(match_header(Entity::Account, "Name"), Some("name"));
        assert_eq!(match_header(Entity::Contact, "Name"), Some("full_name"));
        assert_eq!(match_header(Entity::Contact, "Организация"), Some("account"));
        assert_eq!(match_header(Entity::Contact, "Дата рождения"), Some("birthday"));
        assert_eq!(match_header(Entity::Contact, "whatever"), None);
    }

    #[test]
    fn formula_cells_are_neutralised_and_read_back() {
        for s in ["=1+2", "+7 999", "-5", "@cmd", "\tx"] {
            let n = neutralise(s);
            assert!(n.starts_with('\''), "{s}");
            assert_eq!(unneutralise(&n), s);
        }
        assert_eq!(neutralise("plain"), "plain");
        assert_eq!(unneutralise("'quoted"), "'quoted");
    }

    #[test]
    fn every_column_reads_back_what_it_writes() {
        let mut input = PartyInput::default();
        let mut ex = RowExtras::default();
        let cells = [
            ("last_name", "Иванова"),
            ("first_name", "Анна"),
            ("email", "work: a@x.ru; b@y.ru"),
            ("phone", "+79991234567"),
            ("tags", "vip, новый"),
            ("important_dates", "годовщина: 2020-05-01"),
            ("city", "Тула"),
            ("do_not_email", "yes"),
            ("employees", "1 200"),
            ("owner", "m@x.ru"),
        ];
        for (k, v) in cells {
            apply(k, v, &mut input, &mut ex).expect(k);
        }
        assert_eq!(input.emails[0], Labeled { value: "a@x.ru".into(), label: "work".into() });
        assert_eq!(input.employees, Some(1200));
        for (k, v) in cells.iter().filter(|(k, _)| *k != "employees") {
            assert_eq!(cell(k, &input, &ex), *v, "{k}");
        }
        assert!(apply("do_not_contact", "maybe", &mut input, &mut ex).is_err());
        let mut p = PartyInput::default();
        apply("full_name", "Петров Пётр Петрович", &mut p, &mut ex).expect("name");
        assert_eq!(
            (p.last_name.as_str(), p.first_name.as_str(), p.middle_name.as_str()),
            ("Петров", "Пётр", "Петрович")
        );
        let mut p = PartyInput::default();
        apply("full_name", "John Ronald Smith", &mut p, &mut ex).expect("name");
        assert_eq!((p.first_name.as_str(), p.last_name.as_str()), ("John", "Ronald Smith"));
    }
}
