//! CSV (RFC 4180) as a representation: lists answer it when asked by `Accept`, and
//! the observations batch takes it as a body. A header row names the columns.
//!
//! A cell that a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return) is neutralised with a leading `'`, so that an
//! export opened in a spreadsheet runs nothing (OWASP's CSV injection advice).
//! Numbers are written as numbers: a negative figure stays a number.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use serde_json::{Map, Value};

use super::body::read_limited;
use crate::platform::error::{AppError, AppResult};

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
fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => neutralise(text),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(other) => neutralise(&other.to_string()),
    }
}

/// `items` as CSV, one row each, with these columns.
pub fn write(columns: &[&str], items: &[Value]) -> AppResult<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(columns).map_err(AppError::internal)?;
    for item in items {
        writer
            .write_record(columns.iter().map(|column| cell(item.get(*column))))
            .map_err(AppError::internal)?;
    }
    writer.into_inner().map_err(AppError::internal)
}

/// A CSV body as one JSON object per row, keyed by the header: an empty cell is no
/// value, `numbers` become JSON numbers where they parse (and stay text, to be
/// refused as such, where they do not), `flags` booleans.
pub async fn read_rows(
    req: &actix_web::HttpRequest,
    payload: web::Payload,
    columns: &[&str],
    numbers: &[&str],
    flags: &[&str],
) -> AppResult<Vec<Map<String, Value>>> {
    let bytes = read_limited(req, payload).await?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(&bytes[..]);
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| {
            AppError::bad_request("/rows/1", format!("the header row is not CSV: {error}"))
        })?
        .iter()
        .map(|name| name.trim().to_owned())
        .collect();
    if let Some(unknown) = header.iter().find(|name| !columns.contains(&name.as_str())) {
        return Err(AppError::bad_request(
            "/rows/1",
            format!(
                "unknown column {unknown}; the columns are {}",
                columns.join(", ")
            ),
        ));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|error| {
            AppError::bad_request(
                format!("/rows/{row}"),
                format!("row {row} is not CSV: {error}"),
            )
        })?;
        let mut object = Map::new();
        for (name, raw) in header.iter().zip(record.iter()) {
            if raw.is_empty() {
                continue;
            }
            if raw.contains('\0') {
                return Err(AppError::bad_request(
                    format!("/rows/{row}/{name}"),
                    "text may not contain NUL characters",
                ));
            }
            let value = if numbers.contains(&name.as_str()) {
                serde_json::Number::from_f64(raw.trim().parse::<f64>().unwrap_or(f64::NAN))
                    .map_or_else(|| Value::String(raw.to_owned()), Value::Number)
            } else if flags.contains(&name.as_str()) {
                match raw.trim() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    other => Value::String(other.to_owned()),
                }
            } else {
                Value::String(raw.to_owned())
            };
            object.insert(name.clone(), value);
        }
        rows.push(object);
    }
    Ok(rows)
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
        let csv = String::from_utf8(
            write(&["area", "value", "note", "reported_by", "empty"], &items).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(
            csv,
            "area,value,note,reported_by,empty\r\nRS,-5,\"'=HYPERLINK(\"\"http://x\"\")\",'@ministry,\r\n"
        );
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("plain"), "plain");
    }
}
