//! vCard 3.0 and 4.0: contacts read for import, and written (4.0) for export.

use crate::csvread::Record;
use crate::source::FileError;
use karta_core::party::PartyInput;

/// The columns a vCard becomes; they are standard column keys, so the mapping is automatic.
pub const HEADERS: [&str; 16] = [
    "last_name",
    "first_name",
    "middle_name",
    "full_name",
    "email",
    "phone",
    "account",
    "job_title",
    "birthday",
    "street",
    "city",
    "address_region",
    "postcode",
    "country",
    "website",
    "description",
];

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits on `sep` not preceded by a backslash.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut esc = false;
    for c in s.chars() {
        if esc {
            if let Some(p) = parts.last_mut() {
                p.push('\\');
                p.push(c);
            }
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == sep {
            parts.push(String::new());
        } else if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    parts.into_iter().map(|p| unescape(&p)).collect()
}

fn decode_qp(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() + 1 {
            if let Some(h) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A date in vCard form (`19850412`, `1985-04-12`, `--0412`) as `YYYY-MM-DD` when it has a year.
fn date(v: &str) -> String {
    let d: String = v.chars().take_while(|c| *c != 'T').filter(char::is_ascii_digit).collect();
    if d.len() == 8 && !v.starts_with("--") {
        format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8])
    } else {
        v.to_string()
    }
}

/// A card being read: its first line, its cells, its e-mails and its phones.
type Card = (u64, Vec<String>, Vec<String>, Vec<String>);

/// Reads every card of a file as rows under [`HEADERS`].
///
/// # Errors
/// `Empty` when no card is found, `Unreadable` for a card without an end.
pub fn rows(text: &str) -> Result<(Vec<String>, Vec<Record>), FileError> {
    // Unfold: a line starting with a space or tab continues the previous one; quoted-printable
    // soft line breaks end with `=`.
    let mut lines: Vec<(u64, String)> = Vec::new();
    for (i, raw) in text.trim_start_matches('\u{feff}').split('\n').enumerate() {
        let l = raw.trim_end_matches('\r');
        match lines.last_mut() {
            Some((_, prev)) if l.starts_with([' ', '\t']) => prev.push_str(&l[1..]),
            Some((_, prev)) if prev.ends_with('=') && prev.to_ascii_uppercase().contains("QUOTED-PRINTABLE") => {
                prev.pop();
                prev.push_str(l);
            }
            _ => lines.push((i as u64 + 1, l.to_string())),
        }
    }
    let col = |k: &str| HEADERS.iter().position(|h| *h == k).unwrap_or(0);
    let mut out = Vec::new();
    let mut cur: Option<Card> = None;
    for (line, l) in lines {
        if l.trim().is_empty() {
            continue;
        }
        let Some((name_part, value)) = l.split_once(':') else { continue };
        let mut params = name_part.split(';');
        let name = params.next().unwrap_or_default();
        let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
        let params: Vec<String> = params.map(str::to_ascii_uppercase).collect();
        let value =
            if params.iter().any(|p| p.contains("QUOTED-PRINTABLE")) { decode_qp(value) } else { value.to_string() };
        match name.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VCARD") => {
                cur = Some((line, vec![String::new(); HEADERS.len()], Vec::new(), Vec::new()));
            }
            "END" if value.eq_ignore_ascii_case("VCARD") => {
                if let Some((line, mut fields, emails, phones)) = cur.take() {
                    fields[col("email")] = emails.join("; ");
                    fields[col("phone")] = phones.join("; ");
                    if !fields[col("last_name")].is_empty() || !fields[col("first_name")].is_empty() {
                        fields[col("full_name")].clear();
                    }
                    out.push(Record { line, fields, error: None });
                }
            }
            _ => {
                let Some((_, fields, emails, phones)) = cur.as_mut() else { continue };
                let label = params
                    .iter()
                    .filter_map(|p| p.strip_prefix("TYPE="))
                    .flat_map(|t| t.split(','))
                    .map(|t| t.trim_matches('"').to_ascii_lowercase())
                    .find(|t| !matches!(t.as_str(), "internet" | "pref" | "voice"))
                    .unwrap_or_default();
                let labeled = |v: String| if label.is_empty() { v } else { format!("{label}: {v}") };
                match name.as_str() {
                    "N" => {
                        let p = split_unescaped(&value, ';');
                        let get = |i: usize| p.get(i).cloned().unwrap_or_default();
                        fields[col("last_name")] = get(0);
                        fields[col("first_name")] = get(1);
                        fields[col("middle_name")] = get(2);
                    }
                    "FN" => fields[col("full_name")] = unescape(&value),
                    "EMAIL" => emails.push(labeled(unescape(&value))),
                    "TEL" => {
                        let v = unescape(&value);
                        phones.push(labeled(v.strip_prefix("tel:").unwrap_or(&v).to_string()));
                    }
                    "ORG" => {
                        fields[col("account")] = split_unescaped(&value, ';').into_iter().next().unwrap_or_default()
                    }
                    "TITLE" => fields[col("job_title")] = unescape(&value),
                    "BDAY" => fields[col("birthday")] = date(&value),
                    "URL" => fields[col("website")] = unescape(&value),
                    "NOTE" => fields[col("description")] = unescape(&value),
                    "ADR" if fields[col("street")].is_empty() && fields[col("city")].is_empty() => {
                        let p = split_unescaped(&value, ';');
                        let get = |i: usize| p.get(i).cloned().unwrap_or_default();
                        fields[col("street")] = get(2);
                        fields[col("city")] = get(3);
                        fields[col("address_region")] = get(4);
                        fields[col("postcode")] = get(5);
                        fields[col("country")] = get(6);
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some((line, ..)) = cur {
        return Err(FileError::Unreadable(format!("the card that starts on line {line} has no END:VCARD")));
    }
    if out.is_empty() {
        return Err(FileError::Empty);
    }
    Ok((HEADERS.iter().map(|s| (*s).to_string()).collect(), out))
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace('\r', "").replace('\n', "\\n")
}

/// Folds a content line at 75 octets, never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// Writes one contact as a vCard 4.0.
pub fn write(out: &mut String, id: &str, p: &PartyInput, company: &str) {
    let mut lines = vec!["BEGIN:VCARD".to_string(), "VERSION:4.0".to_string()];
    let fname = [&p.first_name, &p.middle_name, &p.last_name]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    lines.push(format!("FN:{}", esc(&fname)));
    lines.push(format!("N:{};{};{};;", esc(&p.last_name), esc(&p.first_name), esc(&p.middle_name)));
    for e in &p.emails {
        let t = if e.label.is_empty() { String::new() } else { format!(";TYPE={}", esc(&e.label)) };
        lines.push(format!("EMAIL{t}:{}", esc(&e.value)));
    }
    for ph in &p.phones {
        let t = if ph.label.is_empty() { String::new() } else { format!(";TYPE={}", esc(&ph.label)) };
        lines.push(format!("TEL;VALUE=uri{t}:tel:{}", ph.value));
    }
    if !company.is_empty() {
        lines.push(format!("ORG:{}", esc(company)));
    }
    if !p.job_title.is_empty() {
        lines.push(format!("TITLE:{}", esc(&p.job_title)));
    }
    if !p.birthday.is_empty() {
        lines.push(format!("BDAY:{}", p.birthday.replace('-', "")));
    }
    for a in &p.addresses {
        lines.push(format!(
            "ADR:;;{};{};{};{};{}",
            esc(&a.street),
            esc(&a.city),
            esc(&a.region),
            esc(&a.postcode),
            esc(&a.country)
        ));
    }
    if !p.website.is_empty() {
        lines.push(format!("URL:{}", esc(&p.website)));
    }
    if !p.tags.is_empty() {
        lines.push(format!("CATEGORIES:{}", p.tags.iter().map(|t| esc(t)).collect::<Vec<_>>().join(",")));
    }
    if !p.description.is_empty() {
        lines.push(format!("NOTE:{}", esc(&p.description)));
    }
    lines.push(format!("UID:urn:karta:{id}"));
    lines.push("END:VCARD".to_string());
    for l in lines {
        fold(&l, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use karta_core::party::Labeled;

    #[test]
    fn a_written_card_reads_back() {
        let p = PartyInput {
            first_name: "Анна".into(),
            last_name: "Иванова; мл.".into(),
            job_title: "Главный бухгалтер, отдел учёта и очень длинное название должности для переноса строки".into(),
            emails: vec![Labeled { value: "anna@x.ru".into(), label: "work".into() }],
            phones: vec![Labeled { value: "+79991234567".into(), label: String::new() }],
            birthday: "1985-04-12".into(),
            description: "строка 1\nстрока 2".into(),
            ..PartyInput::default()
        };
        let mut s = String::new();
        write(&mut s, "x1", &p, "ООО Ромашка");
        assert!(s.lines().all(|l| l.len() <= 76), "{s}");
        let (h, cards) = rows(&s).expect("parse");
        let get = |k: &str| cards[0].fields[h.iter().position(|x| x == k).expect(k)].clone();
        assert_eq!(get("last_name"), "Иванова; мл.");
        assert_eq!(get("first_name"), "Анна");
        assert_eq!(get("email"), "work: anna@x.ru");
        assert_eq!(get("phone"), "+79991234567");
        assert_eq!(get("account"), "ООО Ромашка");
        assert_eq!(get("birthday"), "1985-04-12");
        assert_eq!(get("description"), "строка 1\nстрока 2");
        assert_eq!(get("job_title"), p.job_title);
    }

    #[test]
    fn vcard_3_with_types_and_quoted_printable_is_read() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Stone\r\nitem1.EMAIL;TYPE=INTERNET,HOME:bob@x.com\r\n\
                    TEL;TYPE=CELL:+1 555 0100\r\nNOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:=D0=9F=D1=80=\r\n=D0=B8\r\n\
                    END:VCARD\r\nBEGIN:VCARD\r\nN:Doe;Jane;;;\r\nEND:VCARD\r\n";
        let (h, cards) = rows(text).expect("parse");
        assert_eq!(cards.len(), 2);
        let col = |k: &str| h.iter().position(|x| x == k).expect(k);
        assert_eq!(cards[0].fields[col("full_name")], "Bob Stone");
        assert_eq!(cards[0].fields[col("email")], "home: bob@x.com");
        assert_eq!(cards[0].fields[col("phone")], "cell: +1 555 0100");
        assert_eq!(cards[0].fields[col("description")], "При");
        assert_eq!(cards[1].line, 9);
        assert_eq!(cards[1].fields[col("last_name")], "Doe");
        assert!(rows("BEGIN:VCARD\nFN:x\n").is_err());
    }
}
