//! CSV (RFC 4180) as a representation: lists answer it when asked by `Accept`, and
//! the observations batch takes it as a body (`read`). A header row names the
//! columns.
//!
//! Written CSV opens safely in a spreadsheet, following OWASP's CSV injection
//! guidance: a cell that a spreadsheet would read as a formula (one that starts,
//! after any white space, with `=`, `+`, `-`, `@` or their full-width forms, or
//! starts with a tab or a carriage return) gets a leading `'`; and every cell with
//! a `,` or a `;` (the separator where the decimal separator is a comma), a quote or
//! a line break is quoted. Numbers are written as numbers: a negative figure stays
//! a number.

use std::borrow::Cow;

use actix_web::HttpRequest;
use actix_web::http::header;
use serde_json::Value;

mod read;

pub use read::{Columns, Row, read_rows};

pub const TEXT_CSV: &str = "text/csv; charset=utf-8";

/// Whether the request asks for CSV: `text/csv` in `Accept`, not refused with
/// `q=0`. JSON stays the default.
pub fn wants_csv(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        media == "text/csv" && !refused
    })
}

/// Whether a request body is CSV.
pub fn is_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/csv"))
}

/// A cell that could start a formula, made inert.
fn neutralise(text: &str) -> Cow<'_, str> {
    let start = text.trim_start_matches(char::is_whitespace);
    let formula = text.starts_with(['\t', '\r'])
        || start.starts_with([
            '=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
        ]);
    if formula {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A cell quoted if it holds a separator (either), a quote or a line break.
fn quoted(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.contains([',', ';', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        text
    }
}

fn cell(value: Option<&Value>) -> Cow<'_, str> {
    match value {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::String(text)) => quoted(neutralise(text)),
        Some(Value::Number(number)) => Cow::Owned(number.to_string()),
        Some(Value::Bool(flag)) => Cow::Borrowed(if *flag { "true" } else { "false" }),
        Some(other) => Cow::Owned(quoted(neutralise(&other.to_string())).into_owned()),
    }
}

/// The header row, CRLF-terminated.
pub fn header_row(columns: &[&str]) -> String {
    let mut line = columns.join(",");
    line.push_str("\r\n");
    line
}

/// One item as a row with these columns, CRLF-terminated.
pub fn row(columns: &[&str], item: &Value) -> String {
    let mut line = String::new();
    for (n, column) in columns.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        line.push_str(&cell(item.get(*column)));
    }
    line.push_str("\r\n");
    line
}

/// `items` as CSV, one row each, with these columns.
pub fn write(columns: &[&str], items: &[Value]) -> Vec<u8> {
    let mut text = header_row(columns);
    for item in items {
        text.push_str(&row(columns, item));
    }
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_are_not() {
        let items = [
            serde_json::json!({"note": "=HYPERLINK(\"http://x\")", "value": -5,
                                          "area": "RS", "reported_by": "@ministry", "empty": null}),
        ];
        let csv = String::from_utf8(write(
            &["area", "value", "note", "reported_by", "empty"],
            &items,
        ))
        .unwrap_or_default();
        assert_eq!(
            csv,
            "area,value,note,reported_by,empty\r\nRS,-5,\"'=HYPERLINK(\"\"http://x\"\")\",'@ministry,\r\n"
        );
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("plain"), "plain");
    }

    #[test]
    fn a_formula_after_white_space_or_in_full_width_is_neutralised() {
        for risky in [
            " =1+1",
            "\u{a0}=cmd",
            "\u{3000}+1",
            "\u{ff1d}SUM(A1)",
            "\u{ff0b}1",
            "\u{ff0d}1",
            "\u{ff20}x",
            "\tx",
            "\rx",
        ] {
            assert!(neutralise(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(neutralise("a=b"), "a=b");
    }

    #[test]
    fn a_cell_with_either_separator_a_quote_or_a_line_break_is_quoted() {
        let item = serde_json::json!({"note": "see annex;=cmd|' /C calc'!A0", "a": "x,y",
            "b": "two\nlines", "c": "say \"hi\"", "d": "plain"});
        assert_eq!(
            row(&["note", "a", "b", "c", "d"], &item),
            "\"see annex;=cmd|' /C calc'!A0\",\"x,y\",\"two\nlines\",\"say \"\"hi\"\"\",plain\r\n"
        );
    }
}
