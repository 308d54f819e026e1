//! Validation at the edge: request bodies become typed values here (a `Slug`, a
//! `Celex`, an `Email`, ...), and every invalid field is collected with its JSON
//! pointer, so that one 422 names them all and code behind the edge never re-checks.
//! It sits below every other layer: users, content and the list language use it.

mod countries;
mod types;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::platform::error::{AppError, AppResult, FieldError};

pub use types::{
    Area, Celex, CountryCode, Email, HttpUrl, Id, Name, Phone, Position, REGIONS, Slug,
};

/// The detail of a field that is missing. The OpenAPI document marks `required`
/// the fields whose validation says so of an empty body.
pub const REQUIRED: &str = "is required";

/// The characters that make text blank: leading and trailing ones are trimmed, and
/// text of nothing else is absent. ASCII only, so that every regex engine (the
/// JSON Schema `pattern` below included) agrees on what they are.
pub fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}')
}

/// Text without its blank ends.
pub fn trim_blank(text: &str) -> &str {
    text.trim_matches(is_blank)
}

/// The JSON Schema `pattern` of text, which may not hold NUL (PostgreSQL cannot
/// store it; bodies and parameters with it are refused).
pub const TEXT: &str = r"^[^\x00]*$";

/// The JSON Schema `pattern` of text that must not be blank.
pub const NOT_BLANK: &str = r"^[^\x00]*[^\x00 \t\n\r\x0b\x0c][^\x00]*$";

pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
pub const SLUG_MAX: usize = 100;

/// What a JSON value is, in words for messages ("a string").
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON number that is whole: `104` and `104.0` alike, as JSON Schema counts both
/// as integers.
pub fn whole_number(value: Value) -> Result<i64, String> {
    let Value::Number(number) = value else {
        return Err(format!(
            "invalid type: {}, expected a whole number",
            json_type(&value)
        ));
    };
    if let Some(whole) = number.as_i64() {
        return Ok(whole);
    }
    match number.as_f64() {
        Some(value) if value.fract() == 0.0 && value.abs() < 9.2e18 => Ok(value as i64),
        _ => Err(format!("invalid value: {number}, expected a whole number")),
    }
}

/// Reads a field's text as a typed value (`Slug::parse`), or says what is wrong
/// with it.
pub type Parse<T> = fn(&str) -> Result<T, String>;

/// Collects field errors while a body is turned into typed values.
#[derive(Debug, Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    /// An error under `field`: `required` if it says so, else `invalid`.
    pub fn fail(&mut self, field: &str, detail: impl Into<String>) {
        let detail = detail.into();
        let code = if detail == REQUIRED {
            crate::platform::error::codes::REQUIRED
        } else {
            crate::platform::error::codes::INVALID
        };
        self.errors
            .push(FieldError::coded(code, format!("/{field}"), detail));
    }

    /// Whether `field` has an error already.
    pub fn names(&self, field: &str) -> bool {
        let pointer = format!("/{field}");
        self.errors.iter().any(|error| error.pointer == pointer)
    }

    /// A value parsed with `parse`, or an error under `field`.
    pub fn parsed<T>(&mut self, field: &str, raw: Option<String>, parse: Parse<T>) -> Option<T> {
        match parse(raw.as_deref()?) {
            Ok(value) => Some(value),
            Err(detail) => {
                self.fail(field, detail);
                None
            }
        }
    }

    /// Like `parsed`, for a checked string (a `Slug`, an `Email`) kept as its text.
    pub fn parsed_text<T: Into<String>>(
        &mut self,
        field: &str,
        raw: Option<String>,
        parse: Parse<T>,
    ) -> Option<String> {
        self.parsed(field, raw, parse).map(Into::into)
    }

    /// Like `parsed`, but the field must be there.
    pub fn required<T>(&mut self, field: &str, raw: Option<String>, parse: Parse<T>) -> Option<T> {
        if raw.is_none() {
            self.fail(field, REQUIRED);
        }
        self.parsed(field, raw, parse)
    }

    /// The key of a body: on PUT the URL's (the body may repeat it, not change it),
    /// otherwise the body's own, which is then required.
    pub fn key<T>(
        &mut self,
        field: &str,
        given: Option<String>,
        url_key: Option<&str>,
        parse: Parse<T>,
    ) -> Option<T> {
        match (given, url_key) {
            (Some(given), Some(url_key)) if given != url_key => {
                self.fail(
                    field,
                    format!("is {given}, but the URL says {url_key}; use PATCH to change it"),
                );
                None
            }
            (_, Some(url_key)) => self.required(field, Some(url_key.to_owned()), parse),
            (given, None) => self.required(field, given, parse),
        }
    }

    /// Required text of at most `max` characters, trimmed, not blank.
    pub fn text(&mut self, field: &str, raw: Option<String>, max: usize) -> String {
        match self.optional_text(field, raw, max) {
            Some(text) => text,
            None => {
                if !self.errors.iter().any(|e| e.pointer == format!("/{field}")) {
                    self.fail(field, REQUIRED);
                }
                String::new()
            }
        }
    }

    /// Optional text of at most `max` characters as sent, then trimmed; blank counts
    /// as absent.
    pub fn optional_text(
        &mut self,
        field: &str,
        raw: Option<String>,
        max: usize,
    ) -> Option<String> {
        let raw = raw?;
        if raw.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
            return None;
        }
        let text = trim_blank(&raw);
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// Long text such as Markdown: not trimmed, empty allowed.
    pub fn long_text(&mut self, field: &str, raw: Option<String>, max: usize) -> String {
        let text = raw.unwrap_or_default();
        if text.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
        text
    }

    pub fn integer_in(
        &mut self,
        field: &str,
        raw: Option<i64>,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i32> {
        let value = raw?;
        match i32::try_from(value) {
            Ok(small) if range.contains(&value) => Some(small),
            _ => {
                self.fail(
                    field,
                    format!("must be between {} and {}", range.start(), range.end()),
                );
                None
            }
        }
    }

    /// The `position` of an item among others (`Position`), 0 if it has none.
    pub fn position(&mut self, raw: Option<Position>) -> i32 {
        let raw = raw.map(|Position(value)| value);
        self.integer_in("position", raw, Position::MIN..=Position::MAX)
            .unwrap_or(0)
    }

    pub fn finish<T>(self, value: T) -> AppResult<T> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

/// Years PostgreSQL and every client can hold: four digits, from 1 to 9999.
fn plausible_year(year: i32) -> bool {
    (1..=9999).contains(&year)
}

/// `YYYY-MM-DD`, four-digit years only.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    use chrono::Datelike;
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|date| raw.len() == 10 && plausible_year(date.year()))
        .ok_or_else(|| "must be a date such as 2019-12-31".to_owned())
}

pub fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, String> {
    use chrono::Datelike;
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|time| time.with_timezone(&Utc))
        .filter(|time| plausible_year(time.year()))
        .ok_or_else(|| "must be an RFC 3339 date and time such as 2024-05-08T09:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `parse` takes every one of `good` and refuses every one of `bad`.
    fn reads<T>(parse: Parse<T>, good: &[&str], bad: &[&str]) {
        for raw in good {
            assert!(parse(raw).is_ok(), "{raw:?} is refused");
        }
        for raw in bad {
            assert!(parse(raw).is_err(), "{raw:?} is taken");
        }
    }

    #[test]
    fn slugs_follow_the_contract() {
        reads(
            Slug::parse,
            &["who-we-are", "a", "mission2", "10-monitoring"],
            &[
                "",
                "Who",
                "a--b",
                "-a",
                "a-",
                "a_b",
                "a b",
                "é",
                &"a".repeat(101),
            ],
        );
    }

    #[test]
    fn celex_numbers_are_checked_and_split() {
        let celex = Celex::parse("32019D2111").ok();
        assert_eq!(celex.as_ref().map(Celex::year), Some(2019));
        assert_eq!(celex.as_ref().map(Celex::number), Some(2111));
        reads(
            Celex::parse,
            &[],
            &[
                "32019R2111",
                "2019D2111",
                "32019D211",
                "32019d2111",
                "3201XD2111",
                "42019D2111",
            ],
        );
    }

    #[test]
    fn phones_are_international() {
        reads(
            Phone::parse,
            &["+381 11 415 5300", "+38111415530"],
            &[
                "(+381) 11 415 5300",
                "011 415 5300",
                "+381  11",
                "+381-11-415",
                "+0 11 415 5300",
                "+12",
            ],
        );
    }

    #[test]
    fn emails_urls_countries_and_areas() {
        reads(
            Email::parse,
            &["seesac@undp.org"],
            &["seesac@undp", "not an email"],
        );
        reads(
            HttpUrl::parse,
            &["https://www.seesac.org/"],
            &["javascript:alert(1)", "ftp://example.org"],
        );
        reads(CountryCode::parse, &["RS", "EU"], &["XX", "rs"]);
        reads(Area::parse, &["WB", "SEE", "BA"], &["ZZZ"]);
    }

    #[test]
    fn dates_have_four_digit_years() {
        reads(
            parse_date,
            &["2019-12-31"],
            &[
                "-5000-01-01",
                "+12019-01-01",
                "0000-01-01",
                "2019-1-1",
                "2019-02-30",
                "31.12.2019",
            ],
        );
        reads(
            parse_timestamp,
            &["2024-05-08T09:00:00+02:00"],
            &["-5000-05-08T09:00:00Z"],
        );
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let mut check = Check::default();
        let title = check.text("title", None, 10);
        let slug = check.required("slug", Some("Bad Slug".into()), Slug::parse);
        let summary = check.optional_text("summary", Some("x".repeat(11)), 10);
        assert_eq!((title.as_str(), slug, summary), ("", None, None));
        match check.finish(()) {
            Err(AppError::Validation(errors)) => {
                let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
                assert_eq!(pointers, ["/title", "/slug", "/summary"]);
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
}
