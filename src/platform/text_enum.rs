//! `text_enum!`: an enum stored as text, with its serde, utoipa and diesel glue and
//! the list of its values written once. Used by the content types and by `Status`.

/// Declares an enum whose variants are stored and sent as the given strings.
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::platform::text_enum::not_one_of(raw, Self::ALL)),
                }
            }
        }

        // By hand: utoipa's derive does not see serde renames that come through a macro.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::ALL.iter().copied()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>)
                -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let raw = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(value)?;
                Self::parse(&raw).map_err(Into::into)
            }
        }
    };
}
pub(crate) use text_enum;

/// Why `raw` is not one of `allowed`, naming the closest where one is near (the
/// same but for case, the start of one, or two letters away): "not one of
/// published, draft, archived; did you mean published?".
pub fn not_one_of(raw: &str, allowed: &[&str]) -> String {
    let closest = allowed
        .iter()
        .map(|value| {
            let lower = raw.to_lowercase();
            let distance = if value.eq_ignore_ascii_case(raw) {
                0
            } else if lower.len() >= 3 && value.starts_with(&lower) {
                1
            } else {
                strsim::levenshtein(&lower, value)
            };
            (distance, *value)
        })
        .min()
        .filter(|(distance, value)| *distance <= 2.min(value.len() / 2));
    let list = if allowed.len() > 12 {
        format!("{}, … ({} in all)", allowed[..12].join(", "), allowed.len())
    } else {
        allowed.join(", ")
    };
    match closest {
        Some((_, value)) => format!("not one of {list}; did you mean {value}?"),
        None => format!("not one of {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::not_one_of;

    #[test]
    fn the_closest_value_is_suggested_where_one_is_near() {
        let statuses = ["published", "draft", "archived"];
        assert_eq!(
            not_one_of("Published", &statuses),
            "not one of published, draft, archived; did you mean published?"
        );
        assert_eq!(
            not_one_of("drat", &statuses),
            "not one of published, draft, archived; did you mean draft?"
        );
        assert_eq!(
            not_one_of("pending", &statuses),
            "not one of published, draft, archived"
        );
        assert_eq!(
            not_one_of(
                "approx",
                &["exact", "at_least", "more_than", "approximately"]
            ),
            "not one of exact, at_least, more_than, approximately; did you mean approximately?"
        );
    }
}
