//! A forgiving CSV reader for imports: any delimiter, quoted fields with newlines, UTF-8 with
//! or without BOM, or Windows-1251. A row with an unclosed quote is reported on its own line
//! and the rows after it are still read, which a strict reader cannot do: it would swallow the
//! rest of the file into one field.

use std::collections::VecDeque;
use std::io::{self, BufRead};

/// The text encoding of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a BOM is skipped).
    Utf8,
    /// Windows-1251 (Cyrillic, as Excel on a Russian Windows saves CSV).
    Windows1251,
}

impl Encoding {
    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Windows1251 => "windows-1251",
        }
    }

    /// Parses `utf-8`, `windows-1251` (and common spellings); `None` for `auto` or unknown.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Self::Utf8),
            "windows-1251" | "cp1251" | "win1251" | "1251" => Some(Self::Windows1251),
            _ => None,
        }
    }

    /// Guesses from the first bytes: text that is valid UTF-8 (a character cut at the end
    /// allowed) is UTF-8; anything else is taken for Windows-1251.
    #[must_use]
    pub fn detect(head: &[u8]) -> Self {
        match std::str::from_utf8(head) {
            Ok(_) => Self::Utf8,
            Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => Self::Utf8,
            Err(_) => Self::Windows1251,
        }
    }

    /// Decodes one line.
    #[must_use]
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            Self::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Self::Windows1251 => encoding_rs::WINDOWS_1251.decode_without_bom_handling(bytes).0.into_owned(),
        }
    }
}

/// True when the bytes look like a binary file rather than text.
#[must_use]
pub fn looks_binary(head: &[u8]) -> bool {
    head.contains(&0)
}

/// Picks the delimiter that splits the header line into the most fields.
#[must_use]
pub fn detect_delimiter(header: &str) -> u8 {
    let mut best = (b',', 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let mut n = 0;
        let mut inq = false;
        for b in header.bytes() {
            if b == b'"' {
                inq = !inq;
            } else if b == d && !inq {
                n += 1;
            }
        }
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// One logical row: the physical line it starts on and its fields, or why it is unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line number in the file.
    pub line: u64,
    /// The fields.
    pub fields: Vec<String>,
    /// Set when the row could not be read; `fields` then holds the raw line.
    pub error: Option<&'static str>,
}

/// A record may span at most this many lines; beyond it an open quote is taken for unclosed.
const MAX_LINES: usize = 200;

/// Reads records from a byte stream.
pub struct CsvReader<R> {
    inner: R,
    encoding: Encoding,
    delimiter: u8,
    line: u64,
    buf: Vec<u8>,
    replay: VecDeque<(u64, String)>,
    first: bool,
}

impl<R: BufRead> CsvReader<R> {
    /// A reader over `inner`.
    pub fn new(inner: R, encoding: Encoding, delimiter: u8) -> Self {
        Self { inner, encoding, delimiter, line: 0, buf: Vec::new(), replay: VecDeque::new(), first: true }
    }

    /// The next physical line without its line ending.
    fn physical(&mut self) -> io::Result<Option<(u64, String)>> {
        if let Some(l) = self.replay.pop_front() {
            return Ok(Some(l));
        }
        self.buf.clear();
        if self.inner.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut b = self.buf.as_slice();
        if self.first {
            self.first = false;
            b = b.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(b);
        }
        while let Some((last, rest)) = b.split_last() {
            if *last == b'\n' || *last == b'\r' {
                b = rest;
            } else {
                break;
            }
        }
        Ok(Some((self.line, self.encoding.decode(b))))
    }

    /// The next record, `None` at the end.
    ///
    /// # Errors
    /// I/O errors of the underlying reader.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        loop {
            let Some((line, first)) = self.physical()? else { return Ok(None) };
            if first.trim().is_empty() {
                continue;
            }
            let mut st = State::default();
            let mut lines = vec![first];
            while let Some(text) = lines.last().cloned() {
                if st.feed(&text, self.delimiter).is_err() {
                    // Text after a quote that closed on a later line: the quote opened on the
                    // first line was never meant to span lines.
                    let why = if lines.len() > 1 { "unclosed quote" } else { "malformed quotes" };
                    return Ok(Some(self.broken(line, lines, why)));
                }
                if !st.inq {
                    st.end_field();
                    return Ok(Some(Record { line, fields: st.fields, error: None }));
                }
                if lines.len() >= MAX_LINES {
                    return Ok(Some(self.broken(line, lines, "unclosed quote")));
                }
                match self.physical()? {
                    Some((_, next)) => {
                        st.cur.push('\n');
                        lines.push(next);
                    }
                    None => return Ok(Some(self.broken(line, lines, "unclosed quote"))),
                }
            }
            return Ok(None);
        }
    }

    /// Reports the first line of a broken record and reads the lines after it again.
    fn broken(&mut self, line: u64, mut lines: Vec<String>, why: &'static str) -> Record {
        let first = lines.remove(0);
        for (i, l) in lines.into_iter().enumerate().rev() {
            self.replay.push_front((line + 1 + i as u64, l));
        }
        Record { line, fields: vec![first], error: Some(why) }
    }
}

#[derive(Default)]
struct State {
    fields: Vec<String>,
    cur: String,
    inq: bool,
    quoted: bool,
}

impl State {
    fn end_field(&mut self) {
        self.fields.push(std::mem::take(&mut self.cur));
        self.quoted = false;
    }

    /// Feeds one physical line; `Err` for text after a closing quote.
    fn feed(&mut self, text: &str, delim: u8) -> Result<(), ()> {
        let d = char::from(delim);
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            if self.inq {
                if c == '"' {
                    if it.peek() == Some(&'"') {
                        it.next();
                        self.cur.push('"');
                    } else {
                        self.inq = false;
                        self.quoted = true;
                    }
                } else {
                    self.cur.push(c);
                }
            } else if c == d {
                self.end_field();
            } else if self.quoted {
                if !c.is_whitespace() {
                    return Err(());
                }
            } else if c == '"' && self.cur.trim().is_empty() {
                self.cur.clear();
                self.inq = true;
            } else {
                self.cur.push(c);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &[u8], d: u8) -> Vec<Record> {
        let mut r = CsvReader::new(s, Encoding::Utf8, d);
        let mut v = Vec::new();
        while let Some(x) = r.next_record().expect("read") {
            v.push(x);
        }
        v
    }

    #[test]
    fn quoted_fields_keep_delimiters_quotes_and_newlines() {
        let v = read(b"\xEF\xBB\xBFa;b\r\n\"x;1\";\"say \"\"hi\"\"\nthere\"\r\n\r\nlast;2\n", b';');
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].fields, ["a", "b"]);
        assert_eq!(v[1].fields, ["x;1", "say \"hi\"\nthere"]);
        assert_eq!((v[2].line, v[2].fields.clone()), (5, vec!["last".to_string(), "2".to_string()]));
    }

    #[test]
    fn an_unclosed_quote_loses_only_its_own_line() {
        let v = read(b"n,e\n\"Bob,b@x.ru\nAnn,a@x.ru\nEve,e@x.ru\n", b',');
        assert_eq!(v.len(), 4);
        assert_eq!(v[1].error, Some("unclosed quote"));
        assert_eq!(v[1].line, 2);
        assert_eq!((v[2].line, v[2].fields.clone()), (3, vec!["Ann".to_string(), "a@x.ru".to_string()]));
        assert_eq!(v[3].line, 4);
    }

    #[test]
    fn text_after_a_closing_quote_is_reported_and_reading_goes_on() {
        let v = read(b"n,e\n\"Bob\"x,b\n\"Ann,a\nnext\",c\nok,d\n\"Eve,e\nlast,\"f\"\n", b',');
        assert_eq!(v[1].error, Some("malformed quotes"));
        assert_eq!((v[4].line, v[4].error), (6, Some("unclosed quote")));
        assert_eq!(v[5].fields, ["last", "f"]);
        assert_eq!(v[2].fields, ["Ann,a\nnext", "c"]);
        assert_eq!(v[3].fields, ["ok", "d"]);
    }

    #[test]
    fn encodings_and_delimiters_are_detected() {
        let cp = encoding_rs::WINDOWS_1251.encode("Имя;Фамилия").0.into_owned();
        assert_eq!(Encoding::detect(&cp), Encoding::Windows1251);
        assert_eq!(Encoding::Windows1251.decode(&cp), "Имя;Фамилия");
        assert_eq!(Encoding::detect("Имя".as_bytes()), Encoding::Utf8);
        assert_eq!(Encoding::detect(&"Имя".as_bytes()[..5]), Encoding::Utf8);
        assert_eq!(detect_delimiter("a;b;\"c,d\""), b';');
        assert_eq!(detect_delimiter("a\tb"), b'\t');
        assert!(looks_binary(b"PK\x03\x04\x00\x00"));
    }
}
