//! Import files of every format read as one stream of rows: a header, then records with
//! their line numbers. CSV is read as it streams; XLSX sheets and vCard files are small by
//! nature and read whole.

use crate::csvread::{detect_delimiter, looks_binary, CsvReader, Encoding, Record};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-, semicolon-, tab- or bar-separated text.
    Csv,
    /// An Excel workbook (its first sheet).
    Xlsx,
    /// vCard 3 or 4.
    Vcard,
}

impl Format {
    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Vcard => "vcf",
        }
    }

    /// Parses a name or file extension.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().trim_start_matches('.').to_ascii_lowercase().as_str() {
            "csv" | "txt" | "tsv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "vcf" | "vcard" => Some(Self::Vcard),
            _ => None,
        }
    }
}

/// Why a file cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Zero bytes, or only blank lines.
    #[error("the file is empty")]
    Empty,
    /// Not text and not a workbook.
    #[error("the file is not a CSV, XLSX or vCard file (it looks binary)")]
    Binary,
    /// A workbook or vCard that does not parse.
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
}

impl FileError {
    /// A stable code for the API and the UI's translated message.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty_file",
            Self::Binary => "binary_file",
            Self::Unreadable(_) => "unreadable_file",
        }
    }
}

/// How to read a file.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The format.
    pub format: Format,
    /// `None` = detect.
    pub encoding: Option<Encoding>,
}

/// What was found out about a file while opening it.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The header row.
    pub headers: Vec<String>,
    /// The encoding used (CSV).
    pub encoding: Encoding,
    /// The delimiter used (CSV).
    pub delimiter: u8,
}

/// A stream of records after the header.
pub enum Rows {
    /// CSV, streamed.
    Csv(CsvReader<BufReader<File>>),
    /// Rows read whole.
    Mem(std::vec::IntoIter<Record>),
}

impl Rows {
    /// The next record.
    ///
    /// # Errors
    /// I/O errors.
    pub fn next_record(&mut self) -> std::io::Result<Option<Record>> {
        match self {
            Self::Csv(r) => r.next_record(),
            Self::Mem(it) => Ok(it.next()),
        }
    }
}

/// Guesses a format from the first bytes, else from the file name.
#[must_use]
pub fn sniff(head: &[u8], file_name: &str) -> Format {
    if head.starts_with(b"PK\x03\x04") {
        return Format::Xlsx;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(512)]).to_ascii_uppercase();
    if text.trim_start_matches('\u{feff}').trim_start().starts_with("BEGIN:VCARD") {
        return Format::Vcard;
    }
    let ext = file_name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    Format::parse(ext).filter(|f| *f != Format::Xlsx).unwrap_or(Format::Csv)
}

fn head_of(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    let mut head = vec![0u8; 64 * 1024];
    let mut n = 0;
    loop {
        let k = f.read(&mut head[n..])?;
        if k == 0 || n + k == head.len() {
            n += k;
            break;
        }
        n += k;
    }
    head.truncate(n);
    Ok(head)
}

/// Opens a file: reads its header and returns the rows after it.
///
/// # Errors
/// `Ok(Err(_))` for a file that cannot be imported, with the reason; `Err` for I/O errors.
pub fn open(path: &Path, opts: Options) -> std::io::Result<Result<(Opened, Rows), FileError>> {
    let head = head_of(path)?;
    if head.iter().all(u8::is_ascii_whitespace) {
        return Ok(Err(FileError::Empty));
    }
    match opts.format {
        Format::Xlsx => Ok(xlsx(path)),
        Format::Vcard => {
            let enc = opts.encoding.unwrap_or_else(|| Encoding::detect(&head));
            let mut bytes = Vec::new();
            File::open(path)?.read_to_end(&mut bytes)?;
            let text = enc.decode(&bytes);
            Ok(crate::vcard::rows(&text).map(|(headers, rows)| {
                (Opened { headers, encoding: enc, delimiter: b',' }, Rows::Mem(rows.into_iter()))
            }))
        }
        Format::Csv => {
            if looks_binary(&head) {
                return Ok(Err(FileError::Binary));
            }
            let enc = opts.encoding.unwrap_or_else(|| Encoding::detect(&head));
            let first_line = head.split(|b| *b == b'\n').find(|l| !l.iter().all(u8::is_ascii_whitespace));
            let delim = detect_delimiter(&enc.decode(first_line.unwrap_or_default()));
            let mut r = CsvReader::new(BufReader::with_capacity(256 * 1024, File::open(path)?), enc, delim);
            let Some(h) = r.next_record()? else { return Ok(Err(FileError::Empty)) };
            if h.error.is_some() {
                return Ok(Err(FileError::Unreadable(format!("the header row has {}", h.error.unwrap_or("errors")))));
            }
            let headers = h.fields.into_iter().map(|s| s.trim().to_string()).collect();
            Ok(Ok((Opened { headers, encoding: enc, delimiter: delim }, Rows::Csv(r))))
        }
    }
}

fn xlsx(path: &Path) -> Result<(Opened, Rows), FileError> {
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| FileError::Unreadable(e.to_string()))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| FileError::Unreadable("the workbook has no sheets".into()))?
        .map_err(|e| FileError::Unreadable(e.to_string()))?;
    let start = range.start().map_or(0, |(r, _)| u64::from(r));
    let text = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Data::DateTime(dt) => excel_date(dt.as_f64()),
            Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Error(e) => format!("#{e:?}"),
        }
    };
    let mut rows =
        range.rows().enumerate().map(|(i, r)| (start + i as u64 + 1, r.iter().map(text).collect::<Vec<_>>()));
    let Some((_, headers)) = rows.by_ref().find(|(_, r)| r.iter().any(|c| !c.trim().is_empty())) else {
        return Err(FileError::Empty);
    };
    let mut records: Vec<Record> = rows
        .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .map(|(line, fields)| Record { line, fields, error: None })
        .collect();
    let width = headers.iter().rposition(|h| !h.trim().is_empty()).map_or(0, |i| i + 1);
    for r in &mut records {
        // Sheets pad every row to the widest one: trailing empty cells are not extra columns.
        while r.fields.len() > width && r.fields.last().is_some_and(|c| c.trim().is_empty()) {
            r.fields.pop();
        }
    }
    let headers = headers.into_iter().take(width).map(|s| s.trim().to_string()).collect();
    Ok((Opened { headers, encoding: Encoding::Utf8, delimiter: b',' }, Rows::Mem(records.into_iter())))
}

/// An Excel serial date as `YYYY-MM-DD` (with the time when it has one).
fn excel_date(serial: f64) -> String {
    let days = serial.floor() as i64;
    let epoch = time::macros::date!(1899 - 12 - 30);
    let Some(d) = epoch.checked_add(time::Duration::days(days)) else { return serial.to_string() };
    let secs = ((serial - serial.floor()) * 86_400.0).round() as i64;
    if secs == 0 {
        format!("{d}")
    } else {
        format!("{d}T{:02}:{:02}", secs / 3600, secs % 3600 / 60)
    }
}

/// Reads the first `n` records for a preview.
///
/// # Errors
/// I/O errors.
pub fn preview(rows: &mut Rows, n: usize) -> std::io::Result<Vec<Record>> {
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        match rows.next_record()? {
            Some(r) => v.push(r),
            None => break,
        }
    }
    Ok(v)
}

/// The number of rows for a progress bar's total: for CSV the line count after the header
/// (a field with line breaks makes it a little high), for the others the rows themselves.
///
/// # Errors
/// I/O errors.
pub fn estimate_rows(path: &Path, rows: &mut Rows) -> std::io::Result<i64> {
    match rows {
        Rows::Csv(_) => {
            let mut f = BufReader::with_capacity(1 << 20, File::open(path)?);
            let mut n: i64 = 0;
            let mut last = b'\n';
            loop {
                let buf = std::io::BufRead::fill_buf(&mut f)?;
                if buf.is_empty() {
                    break;
                }
                n += buf.iter().filter(|b| **b == b'\n').count() as i64;
                last = buf[buf.len() - 1];
                let k = buf.len();
                std::io::BufRead::consume(&mut f, k);
            }
            Ok((n + i64::from(last != b'\n') - 1).max(0))
        }
        Rows::Mem(it) => Ok(it.len() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_sniffed_from_content_before_the_name() {
        assert_eq!(sniff(b"PK\x03\x04rest", "a.csv"), Format::Xlsx);
        assert_eq!(sniff(b"BEGIN:VCARD\r\nVERSION:3.0", "a.txt"), Format::Vcard);
        assert_eq!(sniff(b"a,b\n", "a.vcf"), Format::Vcard);
        assert_eq!(sniff(b"a,b\n", "a.csv"), Format::Csv);
        assert_eq!(excel_date(45000.0), "2023-03-15");
    }
}
