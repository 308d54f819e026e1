//! Validation at the edge: request bodies become typed values here (a `Slug`, a
//! `Celex`, an `Email`, ...), and every invalid field is collected with its JSON
//! pointer, so that one 422 names them all and code behind the edge never re-checks.
//! It sits below every other layer: users, content and the list language use it.

mod countries;

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use crate::platform::error::{AppError, AppResult, FieldError};

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

/// Collects field errors while a body is turned into typed values.
#[derive(Debug, Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    pub fn fail(&mut self, field: &str, detail: impl Into<String>) {
        self.errors
            .push(FieldError::new(format!("/{field}"), detail));
    }

    /// A value parsed with `parse`, or an error under `field`.
    pub fn parsed<T>(
        &mut self,
        field: &str,
        raw: Option<String>,
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(raw.as_deref()?) {
            Ok(value) => Some(value),
            Err(detail) => {
                self.fail(field, detail);
                None
            }
        }
    }

    /// Like `parsed`, but the field must be there.
    pub fn required<T>(
        &mut self,
        field: &str,
        raw: Option<String>,
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<T> {
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
        parse: fn(&str) -> Result<T, String>,
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

    pub fn finish<T>(self, value: T) -> AppResult<T> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// The default (empty) value stands in only where validation has failed.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// A URL key: lowercase letters and digits in groups joined by single hyphens.
    Slug
);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let well_formed = !raw.is_empty()
            && raw.len() <= SLUG_MAX
            && raw.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "must match {SLUG_PATTERN} and be at most {SLUG_MAX} characters"
            ))
        }
    }
}

string_newtype!(
    /// The CELEX number of an EU Council Decision: `3`, the year, `D`, four digits.
    Celex
);

impl Celex {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bytes = raw.as_bytes();
        let well_formed = bytes.len() == 10
            && bytes[0] == b'3'
            && bytes[1..5].iter().all(u8::is_ascii_digit)
            && bytes[5] == b'D'
            && bytes[6..].iter().all(u8::is_ascii_digit);
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be a CELEX number of a decision: 3, the year, D and four digits, e.g. 32019D2111".to_owned())
        }
    }

    pub fn year(&self) -> u32 {
        self.0[1..5].parse().unwrap_or_default()
    }

    pub fn number(&self) -> u32 {
        self.0[6..].parse().unwrap_or_default()
    }

    /// The decision's page on EUR-Lex.
    pub fn eur_lex_url(celex: &str) -> String {
        format!("https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:{celex}")
    }
}

string_newtype!(
    /// An ISO 3166-1 alpha-2 country code, or `EU`.
    CountryCode
);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw == "EU" || countries::is_iso_alpha2(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be an ISO 3166-1 alpha-2 country code such as RS, or EU".to_owned())
        }
    }
}

/// Region codes an observation may use besides country codes.
pub const REGIONS: &[(&str, &str)] = &[
    ("WB", "Western Balkans"),
    ("SEE", "South East Europe"),
    ("SEEE", "South East and East Europe"),
    ("EU", "European Union"),
    ("XK", "Kosovo (under UNSC Resolution 1244)"),
];

string_newtype!(
    /// Where an observation applies: an ISO 3166-1 alpha-2 country or a region code.
    Area
);

impl Area {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if countries::is_iso_alpha2(raw) || REGIONS.iter().any(|(code, _)| *code == raw) {
            Ok(Self(raw.to_owned()))
        } else {
            let regions: Vec<&str> = REGIONS.iter().map(|(code, _)| *code).collect();
            Err(format!(
                "must be an ISO 3166-1 alpha-2 country code such as RS, or a region code: {}",
                regions.join(", ")
            ))
        }
    }
}

string_newtype!(
    /// An absolute http(s) URL.
    HttpUrl
);

impl HttpUrl {
    /// The longest URL accepted, in characters.
    pub const MAX: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        match url::Url::parse(raw) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && raw.chars().count() <= Self::MAX =>
            {
                Ok(Self(raw.to_owned()))
            }
            _ => Err("must be an absolute http or https URL".to_owned()),
        }
    }
}

string_newtype!(
    /// An email address.
    Email
);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let domain_has_dot = raw
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.'));
        if raw.len() <= 254 && domain_has_dot && email_address::EmailAddress::is_valid(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be an email address such as seesac@undp.org".to_owned())
        }
    }
}

string_newtype!(
    /// A telephone number as dialled internationally: `+`, the country code, then
    /// groups of digits separated by single spaces, e.g. `+381 11 415 5300`.
    Phone
);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let error =
            || "must be written as dialled internationally, e.g. +381 11 415 5300".to_owned();
        let rest = raw.strip_prefix('+').ok_or_else(error)?;
        let groups: Vec<&str> = rest.split(' ').collect();
        let digits: usize = groups.iter().map(|group| group.len()).sum();
        let well_formed = groups
            .iter()
            .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()))
            && !rest.starts_with('0')
            && (7..=15).contains(&digits);
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(error())
        }
    }
}

// The schemas of the types above, for the OpenAPI document: each says what `parse`
// accepts, so that a body field declared with `value_type = Option<Slug>` tells
// clients the rule.

/// A string schema with a description.
fn text(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

macro_rules! schema_of {
    ($name:ident, $schema:expr) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

schema_of!(
    Slug,
    text("A URL key: lowercase letters and digits in groups joined by single hyphens.")
        .pattern(Some(SLUG_PATTERN))
        .min_length(Some(1))
        .max_length(Some(SLUG_MAX))
        .examples(["who-we-are"])
);
schema_of!(
    Celex,
    text("The CELEX number of an EU Council Decision: 3, the year, D and four digits.")
        .pattern(Some("^3[0-9]{4}D[0-9]{4}$"))
        .examples(["32019D2111"])
);
schema_of!(
    CountryCode,
    text("An ISO 3166-1 alpha-2 country code, or EU.")
        .enum_values(Some(countries::iso_alpha2().chain(["EU"])))
        .examples(["RS"])
);
schema_of!(
    Area,
    text(
        "An ISO 3166-1 alpha-2 country code, or a region: WB (Western Balkans), SEE (South \
         East Europe), SEEE (South East and East Europe), EU, XK (Kosovo under UNSCR 1244)."
    )
    .enum_values(Some(
        countries::iso_alpha2().chain(REGIONS.iter().map(|(code, _)| *code))
    ))
    .examples(["WB"])
);
schema_of!(
    HttpUrl,
    text("An absolute http or https URL, at most 2000 characters.")
        .format(Some(SchemaFormat::Custom("uri".to_owned())))
        .pattern(Some("^[Hh][Tt][Tt][Pp][Ss]?://"))
        .max_length(Some(HttpUrl::MAX))
        .examples(["https://www.seesac.org/"])
);
schema_of!(
    Email,
    text("An email address, at most 254 characters.")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(254))
        .examples(["seesac@undp.org"])
);
schema_of!(
    Phone,
    text(
        "A telephone number as dialled internationally: +, then 7 to 15 digits, which \
         single spaces may group."
    )
    .pattern(Some(r"^\+[1-9]( ?[0-9]){6,14}$"))
    .examples(["+381 11 415 5300"])
);

/// An item's id, a UUID, as the document describes it.
#[derive(Debug)]
pub struct Id;

schema_of!(
    Id,
    text("A UUID.").format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
);

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

    #[test]
    fn slugs_follow_the_contract() {
        for good in ["who-we-are", "a", "mission2", "10-monitoring"] {
            assert!(Slug::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Who",
            "a--b",
            "-a",
            "a-",
            "a_b",
            "a b",
            "é",
            &"a".repeat(101),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn celex_numbers_are_checked_and_split() {
        let celex = Celex::parse("32019D2111").ok();
        assert_eq!(celex.as_ref().map(Celex::year), Some(2019));
        assert_eq!(celex.as_ref().map(Celex::number), Some(2111));
        for bad in [
            "32019R2111",
            "2019D2111",
            "32019D211",
            "32019d2111",
            "3201XD2111",
            "42019D2111",
        ] {
            assert!(Celex::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_international() {
        assert!(Phone::parse("+381 11 415 5300").is_ok());
        assert!(Phone::parse("+38111415530").is_ok());
        for bad in [
            "(+381) 11 415 5300",
            "011 415 5300",
            "+381  11",
            "+381-11-415",
            "+0 11 415 5300",
            "+12",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_urls_countries_and_areas() {
        assert!(Email::parse("seesac@undp.org").is_ok());
        assert!(Email::parse("seesac@undp").is_err());
        assert!(Email::parse("not an email").is_err());
        assert!(HttpUrl::parse("https://www.seesac.org/").is_ok());
        assert!(HttpUrl::parse("javascript:alert(1)").is_err());
        assert!(HttpUrl::parse("ftp://example.org").is_err());
        assert!(CountryCode::parse("RS").is_ok());
        assert!(CountryCode::parse("EU").is_ok());
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("rs").is_err());
        assert!(Area::parse("WB").is_ok());
        assert!(Area::parse("SEE").is_ok());
        assert!(Area::parse("BA").is_ok());
        assert!(Area::parse("ZZZ").is_err());
    }

    #[test]
    fn dates_have_four_digit_years() {
        assert!(parse_date("2019-12-31").is_ok());
        for bad in [
            "-5000-01-01",
            "+12019-01-01",
            "0000-01-01",
            "2019-1-1",
            "2019-02-30",
            "31.12.2019",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert!(parse_timestamp("2024-05-08T09:00:00+02:00").is_ok());
        assert!(parse_timestamp("-5000-05-08T09:00:00Z").is_err());
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
