//! Accounts (organisations) and contacts (people) share one profile shape — the "client
//! card" of M-DB. Raw input (a form or JSON body) is parsed into [`PartyData`], whose every
//! value is already checked.

use crate::text::{digits, norm};
use crate::values::{Email, FieldError, IsoDate, Phone, WebUrl};
use crate::Entity;
use serde::{Deserialize, Serialize};

/// Relationship types a counterparty may have with the company.
pub const RELATIONSHIPS: [&str; 5] = ["prospect", "customer", "partner", "supplier", "competitor"];
/// Who initiated the first contact.
pub const FIRST_CONTACT: [&str; 2] = ["ours", "theirs"];
/// Messenger kinds offered in forms.
pub const MESSENGERS: [&str; 6] = ["telegram", "whatsapp", "viber", "skype", "wechat", "other"];

/// A value with an optional label ("work", "mobile", "telegram").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Labeled {
    /// The e-mail, phone or handle.
    pub value: String,
    /// What kind it is; free text.
    #[serde(default)]
    pub label: String,
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Address {
    /// "legal", "postal", "home"…
    pub label: String,
    /// Street, house, office.
    pub street: String,
    /// City or town.
    pub city: String,
    /// Region or state.
    pub region: String,
    /// Postal code.
    pub postcode: String,
    /// Country.
    pub country: String,
}

impl Address {
    fn is_empty(&self) -> bool {
        [&self.street, &self.city, &self.region, &self.postcode, &self.country].iter().all(|s| s.trim().is_empty())
    }
}

/// A named date worth remembering (birthday, company anniversary).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedDate {
    /// What the date is.
    pub label: String,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// The raw profile as a person typed it: every field is text, nothing is trusted yet.
/// Fields that do not apply to an entity are ignored for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PartyInput {
    /// Account: the organisation's name.
    pub name: String,
    /// Account: full legal name.
    pub legal_name: String,
    /// Account: tax number (ИНН).
    pub tax_id: String,
    /// Account: parent organisation id.
    pub parent_id: String,
    /// Account: number of employees.
    pub employees: Option<i64>,
    /// Contact: first name.
    pub first_name: String,
    /// Contact: last name.
    pub last_name: String,
    /// Contact: patronymic / middle name.
    pub middle_name: String,
    /// Contact: job title.
    pub job_title: String,
    /// Contact: birthday.
    pub birthday: String,
    /// Contact: family status (optional personal data).
    pub family_status: String,
    /// Contact: income band (optional personal data).
    pub income_band: String,
    /// E-mails; the first is primary.
    pub emails: Vec<Labeled>,
    /// Phones; the first is primary.
    pub phones: Vec<Labeled>,
    /// Messenger handles; the label is the messenger.
    pub messengers: Vec<Labeled>,
    /// Addresses; the first is primary.
    pub addresses: Vec<Address>,
    /// Web site.
    pub website: String,
    /// Industry.
    pub industry: String,
    /// Region.
    pub region: String,
    /// Segment.
    pub segment: String,
    /// One of [`RELATIONSHIPS`].
    pub relationship: String,
    /// Owner (responsible user) id; empty means the creating user.
    pub owner_id: String,
    /// How they learned of us.
    pub source: String,
    /// One of [`FIRST_CONTACT`] or empty.
    pub first_contact: String,
    /// Important dates.
    pub important_dates: Vec<NamedDate>,
    /// Personal interests.
    pub interests: String,
    /// Product preferences.
    pub preferences: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Do not contact at all.
    pub do_not_contact: bool,
    /// Do not send e-mail.
    pub do_not_email: bool,
    /// Free description.
    pub description: String,
    /// Custom field values by field key (see [`crate::custom`]); checked by the store, which
    /// knows the tenant's definitions.
    #[schema(value_type = Object)]
    pub custom: serde_json::Map<String, serde_json::Value>,
}

/// A checked profile, ready to store.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PartyData {
    /// The checked input, with values normalised (E.164 phones, ISO dates…).
    pub input: PartyInput,
    /// Display name.
    pub name: String,
    /// Normalised sort / filter key of the name.
    pub name_key: String,
    /// First e-mail or empty.
    pub primary_email: String,
    /// First phone or empty.
    pub primary_phone: String,
    /// City of the first address.
    pub city: String,
    /// Normalised text the search index reads.
    pub search_text: String,
}

fn limit(field: &str, s: &str, max: usize, errs: &mut Vec<FieldError>) -> String {
    let s = s.trim().to_string();
    if s.chars().count() > max {
        errs.push(FieldError::new(field, "too_long"));
    }
    s
}

fn choice(field: &str, s: &str, allowed: &[&str], errs: &mut Vec<FieldError>) -> String {
    let s = s.trim().to_ascii_lowercase();
    if !s.is_empty() && !allowed.contains(&s.as_str()) {
        errs.push(FieldError::new(field, "invalid_choice"));
    }
    s
}

/// Parses and checks a profile for `entity`; `country` is the tenant's default for phones.
///
/// # Errors
/// Every problem found, one per field (index-suffixed for list items: `emails[1]`).
pub fn parse(entity: Entity, mut raw: PartyInput, country: &str) -> Result<PartyData, Vec<FieldError>> {
    let mut errs = Vec::new();
    let e = &mut errs;
    raw.name = limit("name", &raw.name, 200, e);
    raw.legal_name = limit("legal_name", &raw.legal_name, 300, e);
    raw.tax_id = limit("tax_id", &raw.tax_id, 40, e);
    raw.parent_id = raw.parent_id.trim().to_string();
    raw.first_name = limit("first_name", &raw.first_name, 100, e);
    raw.last_name = limit("last_name", &raw.last_name, 100, e);
    raw.middle_name = limit("middle_name", &raw.middle_name, 100, e);
    raw.job_title = limit("job_title", &raw.job_title, 200, e);
    raw.family_status = limit("family_status", &raw.family_status, 100, e);
    raw.income_band = limit("income_band", &raw.income_band, 100, e);
    raw.industry = limit("industry", &raw.industry, 100, e);
    raw.region = limit("region", &raw.region, 100, e);
    raw.segment = limit("segment", &raw.segment, 100, e);
    raw.source = limit("source", &raw.source, 100, e);
    raw.interests = limit("interests", &raw.interests, 4000, e);
    raw.preferences = limit("preferences", &raw.preferences, 4000, e);
    raw.description = limit("description", &raw.description, 20000, e);
    raw.owner_id = raw.owner_id.trim().to_string();
    raw.relationship = choice("relationship", &raw.relationship, &RELATIONSHIPS, e);
    raw.first_contact = choice("first_contact", &raw.first_contact, &FIRST_CONTACT, e);
    if let Some(n) = raw.employees {
        if n < 0 {
            e.push(FieldError::new("employees", "invalid_value"));
        }
    }
    match entity {
        Entity::Account if raw.name.is_empty() => e.push(FieldError::new("name", "required")),
        Entity::Contact if raw.first_name.is_empty() && raw.last_name.is_empty() => {
            e.push(FieldError::new("last_name", "required"));
        }
        _ => {}
    }
    if !raw.website.trim().is_empty() {
        match WebUrl::parse(&raw.website, "website") {
            Ok(u) => raw.website = u.as_str().to_string(),
            Err(x) => e.push(x),
        }
    } else {
        raw.website.clear();
    }
    if !raw.birthday.trim().is_empty() {
        match IsoDate::parse(&raw.birthday, "birthday") {
            Ok(d) => raw.birthday = d.as_str().to_string(),
            Err(x) => e.push(x),
        }
    } else {
        raw.birthday.clear();
    }
    raw.emails.retain(|l| !l.value.trim().is_empty());
    for (i, l) in raw.emails.iter_mut().enumerate() {
        match Email::parse(&l.value, &format!("emails[{i}]")) {
            Ok(v) => l.value = v.as_str().to_string(),
            Err(x) => e.push(x),
        }
        l.label = l.label.trim().to_string();
    }
    raw.phones.retain(|l| !l.value.trim().is_empty());
    for (i, l) in raw.phones.iter_mut().enumerate() {
        match Phone::parse(&l.value, country, &format!("phones[{i}]")) {
            Ok(v) => l.value = v.as_str().to_string(),
            Err(x) => e.push(x),
        }
        l.label = l.label.trim().to_string();
    }
    raw.messengers.retain(|l| !l.value.trim().is_empty());
    for (i, l) in raw.messengers.iter_mut().enumerate() {
        l.value = limit(&format!("messengers[{i}]"), &l.value, 200, e);
        l.label = l.label.trim().to_ascii_lowercase();
    }
    raw.addresses.retain(|a| !a.is_empty());
    for a in &mut raw.addresses {
        for s in [&mut a.label, &mut a.street, &mut a.city, &mut a.region, &mut a.postcode, &mut a.country] {
            *s = s.trim().to_string();
        }
    }
    raw.important_dates.retain(|d| !d.date.trim().is_empty() || !d.label.trim().is_empty());
    for (i, d) in raw.important_dates.iter_mut().enumerate() {
        match IsoDate::parse(&d.date, &format!("important_dates[{i}]")) {
            Ok(v) => d.date = v.as_str().to_string(),
            Err(x) => e.push(x),
        }
        d.label = d.label.trim().to_string();
    }
    let mut tags: Vec<String> = Vec::new();
    for t in &raw.tags {
        let t = t.trim().trim_start_matches('#').to_lowercase();
        if !t.is_empty() && !tags.contains(&t) {
            if t.chars().count() > 50 || t.contains(',') {
                e.push(FieldError::new("tags", "invalid_value"));
            }
            tags.push(t);
        }
    }
    raw.tags = tags;
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(derive(entity, raw))
}

fn derive(entity: Entity, raw: PartyInput) -> PartyData {
    let (name, key) = match entity {
        Entity::Account | Entity::Deal | Entity::Product | Entity::Activity => (raw.name.clone(), norm(&raw.name)),
        Entity::Contact => {
            let display = [&raw.first_name, &raw.middle_name, &raw.last_name]
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let key = norm(&format!("{} {} {}", raw.last_name, raw.first_name, raw.middle_name));
            (display, key)
        }
    };
    let mut search = vec![norm(&name)];
    if entity == Entity::Account && !raw.legal_name.is_empty() {
        search.push(norm(&raw.legal_name));
    }
    for l in &raw.emails {
        // Both spellings of an internationalised address, so a search or a duplicate check
        // typed either way finds it.
        let (lower, key) = (l.value.to_lowercase(), crate::values::email_key(&l.value));
        search.push(lower.clone());
        if key != lower {
            search.push(key);
        }
    }
    search.extend(raw.phones.iter().map(|l| digits(&l.value)));
    if !raw.tax_id.is_empty() {
        search.push(raw.tax_id.clone());
    }
    PartyData {
        primary_email: raw.emails.first().map(|l| l.value.clone()).unwrap_or_default(),
        primary_phone: raw.phones.first().map(|l| l.value.clone()).unwrap_or_default(),
        city: raw.addresses.first().map(|a| a.city.clone()).unwrap_or_default(),
        search_text: search.join(" "),
        name,
        name_key: key,
        input: raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_needs_a_name_and_reports_every_bad_field() {
        let raw = PartyInput {
            emails: vec![Labeled { value: "bad".into(), label: String::new() }],
            phones: vec![Labeled { value: "x1".into(), label: String::new() }],
            birthday: "31.02.1990".into(),
            ..PartyInput::default()
        };
        let errs = parse(Entity::Contact, raw, "RU").expect_err("must fail");
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["last_name", "birthday", "emails[0]", "phones[0]"]);
    }

    #[test]
    fn contact_is_normalised_for_search() {
        let raw = PartyInput {
            first_name: "Пётр".into(),
            last_name: "Ёлкин".into(),
            phones: vec![Labeled { value: "8 916 123-45-67".into(), label: "моб".into() }],
            tags: vec!["VIP".into(), "vip".into(), " ".into()],
            ..PartyInput::default()
        };
        let d = parse(Entity::Contact, raw, "RU").expect("valid");
        assert_eq!(d.name, "Пётр Ёлкин");
        assert_eq!(d.name_key, "елкин петр");
        assert_eq!(d.primary_phone, "+79161234567");
        assert_eq!(d.search_text, "петр елкин 79161234567");
        assert_eq!(d.input.tags, ["vip"]);
    }
}
