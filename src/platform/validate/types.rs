//! The typed values request fields become (a `Slug`, a `Celex`, an `Area`, ...),
//! each with the `parse` that checks it, and the OpenAPI schema that tells clients
//! the same rule.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use super::{NOT_BLANK, SLUG_MAX, SLUG_PATTERN, countries, whole_number};

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

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
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

/// A name, title or label (a page's title, a funder's name, what a token is for),
/// as the document describes it: text that is not blank, of at most `Name::MAX`
/// characters, which `Check::text` reads.
#[derive(Debug)]
pub struct Name;

impl Name {
    /// The most characters a name has.
    pub const MAX: usize = 200;
}

schema_of!(
    Name,
    text("A name, title or label: 1 to 200 characters, not blank.")
        .min_length(Some(1))
        .max_length(Some(Name::MAX))
        .pattern(Some(NOT_BLANK))
);

/// The place of an item among others, smallest first (a page among its siblings),
/// as a body sends it: a whole number, `3` or `3.0` alike (`whole_number`), which
/// `Check::position` keeps between `MIN` and `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Position(pub i64);

impl Position {
    pub const MIN: i64 = -1_000_000;
    pub const MAX: i64 = 1_000_000;
}

impl<'de> serde::Deserialize<'de> for Position {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        whole_number(value)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

schema_of!(
    Position,
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .description(Some(
            "A place among others, smallest first: a whole number from -1000000 to 1000000."
        ))
        .minimum(Some(Position::MIN))
        .maximum(Some(Position::MAX))
);

/// An item's id, a UUID, as the document describes it.
#[derive(Debug)]
pub struct Id;

impl Id {
    /// A UUID, as a reference to an item (a funder's logo) gives it.
    pub fn parse(raw: &str) -> Result<uuid::Uuid, String> {
        uuid::Uuid::parse_str(raw.trim()).map_err(|_| "must be a UUID".to_owned())
    }
}

schema_of!(
    Id,
    text("A UUID.").format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
);
