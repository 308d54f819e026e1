//! CSV bodies as spreadsheets write them: comma- or semicolon-separated (the
//! separator is found in the header row; Excel writes `;` wherever the decimal
//! separator is a comma, and such a file may write `7,5` for 7.5), with or without
//! a byte order mark. Every row is read and judged on its own, so that a bad row
//! is reported beside the others, under its number as a spreadsheet shows it (the
//! header is row 1, blank lines count).

use actix_web::{HttpRequest, web};
use serde_json::{Map, Value};

use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::body::read_limited;

/// The columns a body may have, and how their cells read.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub names: &'a [&'a str],
    /// Cells that become JSON numbers where they read as one (and stay text, to be
    /// refused as such, where they do not).
    pub numbers: &'a [&'a str],
    /// Cells that become booleans: `true` or `false`, in any case.
    pub flags: &'a [&'a str],
}

/// A row: its number as a spreadsheet shows it, and its cells keyed by column (an
/// empty cell is no value), or what is wrong with it, each pointer relative to
/// the row (`/value`, or empty for the row itself).
#[derive(Debug)]
pub struct Row {
    pub number: usize,
    pub cells: Result<Map<String, Value>, Vec<FieldError>>,
}

/// A CSV body's rows. A problem with the header is the whole file's: a 422 at
/// `/rows/1`.
pub async fn read_rows(
    req: &HttpRequest,
    payload: web::Payload,
    columns: Columns<'_>,
) -> AppResult<Vec<Row>> {
    let bytes = read_limited(req, payload).await?;
    parse(&bytes, columns)
}

/// `;` when the header row has more of them than commas, outside quotes.
fn separator(bytes: &[u8]) -> u8 {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |separator: u8| line.iter().filter(|&&b| b == separator).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// Whether the body ends inside a quoted value: a quote that opens a value and is
/// never closed (the CSV reader would take the rest of the file as that value).
fn ends_in_quotes(bytes: &[u8], separator: u8) -> bool {
    let mut in_quotes = false;
    let mut at_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if b == b'"' && at_start {
            in_quotes = true;
            at_start = false;
        } else {
            at_start = b == separator || b == b'\n' || b == b'\r';
        }
        i += 1;
    }
    in_quotes
}

fn header_error(detail: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldError::new("/rows/1", detail)])
}

/// Every row of a CSV body, each with its own problems.
pub fn parse(bytes: &[u8], columns: Columns<'_>) -> AppResult<Vec<Row>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let separator = separator(bytes);
    let unclosed = ends_in_quotes(bytes, separator);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut records = reader.byte_records().map_while(Result::ok).peekable();
    let header = records
        .next()
        .ok_or_else(|| header_error("the file is empty: its first row names the columns"))?;
    if unclosed && records.peek().is_none() {
        return Err(header_error(UNCLOSED));
    }
    let header = header_names(&header, columns)?;
    let mut numbering = Numbering::after(bytes, &header.record);
    let mut rows = Vec::new();
    while let Some(record) = records.next() {
        let number = numbering.of(&record);
        let last = records.peek().is_none();
        let cells = if unclosed && last {
            Err(vec![FieldError::new("", UNCLOSED)])
        } else {
            cells(&header.names, &record, columns, separator)
        };
        rows.push(Row { number, cells });
    }
    Ok(rows)
}

const UNCLOSED: &str = "a quote opens a value here and never closes, so the rest of the file \
                        would be that value: close it with another quote";

struct Header {
    names: Vec<String>,
    record: csv::ByteRecord,
}

/// The header's column names: known, each once.
fn header_names(record: &csv::ByteRecord, columns: Columns<'_>) -> AppResult<Header> {
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for raw in record {
        let name = std::str::from_utf8(raw)
            .map_err(|_| header_error(NOT_UTF8))?
            .trim()
            .to_owned();
        if !columns.names.contains(&name.as_str()) {
            return Err(header_error(format!(
                "unknown column {name:?}; the columns are {}",
                columns.names.join(", ")
            )));
        }
        if names.contains(&name) {
            return Err(header_error(format!("the column {name} is named twice")));
        }
        names.push(name);
    }
    Ok(Header {
        names,
        record: record.clone(),
    })
}

const NOT_UTF8: &str = "is not UTF-8 text: save the file as \"CSV UTF-8\"";

/// The number a spreadsheet gives each record: one more than the last, and one
/// more for each blank line between them (the reader skips those; a value with a
/// line break in it is still one row). The reader places a record where it began
/// to look for it, before the blank lines it skipped; they are counted here.
struct Numbering<'a> {
    bytes: &'a [u8],
    row: usize,
    next_line: u64,
}

impl<'a> Numbering<'a> {
    fn after(bytes: &'a [u8], header: &csv::ByteRecord) -> Self {
        let mut numbering = Self {
            bytes,
            row: 0,
            next_line: 1,
        };
        numbering.of(header);
        numbering
    }

    /// The line a record starts on: where the reader began, past blank lines.
    fn start(&self, record: &csv::ByteRecord) -> u64 {
        let Some(position) = record.position() else {
            return self.next_line;
        };
        let from = usize::try_from(position.byte()).unwrap_or(usize::MAX);
        let skipped = self
            .bytes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .filter(|&&b| b == b'\n')
            .count() as u64;
        position.line() + skipped
    }

    fn of(&mut self, record: &csv::ByteRecord) -> usize {
        let start = self.start(record);
        let blank = usize::try_from(start.saturating_sub(self.next_line)).unwrap_or(0);
        self.row += 1 + blank;
        self.next_line = start + 1 + line_breaks(record);
        self.row
    }
}

fn line_breaks(record: &csv::ByteRecord) -> u64 {
    record
        .iter()
        .map(|field| field.iter().filter(|&&b| b == b'\n').count() as u64)
        .sum()
}

/// One record's cells, or every problem with them.
fn cells(
    header: &[String],
    record: &csv::ByteRecord,
    columns: Columns<'_>,
    separator: u8,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    if record.len() != header.len() {
        return Err(vec![FieldError::new(
            "",
            format!(
                "has {} cells where the header names {} columns",
                record.len(),
                header.len()
            ),
        )]);
    }
    let mut object = Map::new();
    let mut errors = Vec::new();
    for (name, raw) in header.iter().zip(record.iter()) {
        let pointer = format!("/{name}");
        let Ok(text) = std::str::from_utf8(raw) else {
            errors.push(FieldError::new(pointer, NOT_UTF8));
            continue;
        };
        if text.is_empty() {
            continue;
        }
        if text.contains('\0') {
            errors.push(FieldError::new(
                pointer,
                "text may not contain NUL characters",
            ));
            continue;
        }
        object.insert(name.clone(), value(name, text, columns, separator));
    }
    if errors.is_empty() {
        Ok(object)
    } else {
        Err(errors)
    }
}

/// A cell's value: a number or a flag where its column takes one and it reads as
/// one, else its text.
fn value(name: &str, text: &str, columns: Columns<'_>, separator: u8) -> Value {
    if columns.numbers.contains(&name) {
        let trimmed = text.trim();
        let decimal = if separator == b';' {
            trimmed.replacen(',', ".", 1)
        } else {
            trimmed.to_owned()
        };
        let number = decimal
            .parse::<f64>()
            .ok()
            .filter(|_| looks_like_a_number(&decimal))
            .and_then(serde_json::Number::from_f64);
        return number.map_or_else(|| Value::String(text.to_owned()), Value::Number);
    }
    if columns.flags.contains(&name) {
        return match text.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        };
    }
    Value::String(text.to_owned())
}

/// Digits with an optional sign, point and exponent: not `inf` or `NaN`, which
/// Rust's parser also takes.
fn looks_like_a_number(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: Columns<'static> = Columns {
        names: &["metric", "area", "value", "delete"],
        numbers: &["value"],
        flags: &["delete"],
    };

    fn numbers(rows: &[Row]) -> Vec<usize> {
        rows.iter().map(|row| row.number).collect()
    }

    #[test]
    fn semicolons_and_decimal_commas_are_read_as_excel_writes_them() {
        let rows = parse(
            b"\xef\xbb\xbfmetric;area;value;delete\r\nm;RS;7,5;TRUE\r\n",
            COLUMNS,
        )
        .unwrap_or_default();
        let cells = rows[0].cells.as_ref().cloned().unwrap_or_default();
        assert_eq!(cells["value"], 7.5);
        assert_eq!(cells["delete"], true);
        assert_eq!(rows[0].number, 2);
    }

    #[test]
    fn a_decimal_comma_in_a_comma_separated_file_stays_text() {
        let rows = parse(b"metric,area,value\nm,RS,\"7,5\"\n", COLUMNS).unwrap_or_default();
        let cells = rows[0].cells.as_ref().cloned().unwrap_or_default();
        assert_eq!(cells["value"], "7,5");
    }

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        let rows = parse(
            b"metric,area,value\nm,RS,1\n\nm,\"two\nlines\",2\nm,RS,3,extra\nm,RS,4\n",
            COLUMNS,
        )
        .unwrap_or_default();
        assert_eq!(numbers(&rows), [2, 4, 5, 6]);
        let extra = rows[2].cells.as_ref().err().cloned().unwrap_or_default();
        assert_eq!(extra[0].pointer, "");
        assert!(extra[0].detail.contains("4 cells"), "{}", extra[0].detail);
        assert!(rows[3].cells.is_ok());
    }

    #[test]
    fn an_unclosed_quote_is_an_error_of_its_row_and_the_rows_before_stand() {
        let rows = parse(
            b"metric,area,value\nm,RS,1\nm,RS,\"7.5\r\nm,RS,2\r\n",
            COLUMNS,
        )
        .unwrap_or_default();
        assert_eq!(numbers(&rows), [2, 3]);
        assert!(rows[0].cells.is_ok());
        let errors = rows[1].cells.as_ref().err().cloned().unwrap_or_default();
        assert_eq!(errors[0].detail, UNCLOSED);
        assert!(!ends_in_quotes(b"a,\"b\"\"c\",d\n", b','));
        assert!(!ends_in_quotes(b"a,b\"c,d\n", b','));
    }

    #[test]
    fn the_header_is_checked_first() {
        for (body, detail) in [
            (&b""[..], "the file is empty"),
            (b"metric,colour\n", "unknown column \"colour\""),
            (b"metric,metric\n", "named twice"),
        ] {
            match parse(body, COLUMNS) {
                Err(AppError::Validation(errors)) => {
                    assert_eq!(errors[0].pointer, "/rows/1");
                    assert!(errors[0].detail.contains(detail), "{}", errors[0].detail);
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
