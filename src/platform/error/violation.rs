//! A rule of the database that a write broke, as the driver reports it, and how
//! it becomes a 409 or a 422 in our words once the writer names the fields.

use super::{AppError, FieldError, codes};

/// Which rule of the database a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violated {
    /// A unique key: another item has the value.
    Unique,
    /// A reference: it names an item that does not exist, or an item others still
    /// name was deleted.
    Reference,
    /// A check or a missing value: validation should have caught it.
    Rule,
}

/// A broken rule of the database, as the driver reports it: the kind (from the
/// SQLSTATE), the constraint and the table, never the words of a message.
#[derive(Debug, Clone)]
pub struct Violation {
    pub violated: Violated,
    pub table: Option<String>,
    pub constraint: Option<String>,
    pub column: Option<String>,
}

impl Violation {
    /// The column a constraint guards, by its name: PostgreSQL names a unique,
    /// foreign key, check or not-null constraint on one column `{table}_{column}_key`,
    /// `_fkey`, `_check` or `_not_null`; a check over several columns gets none.
    pub fn column(&self) -> Option<String> {
        let named = self.constraint.as_deref().and_then(|constraint| {
            let rest = constraint
                .strip_prefix(self.table.as_deref()?)?
                .strip_prefix('_')?;
            ["_key", "_fkey", "_check", "_not_null"]
                .iter()
                .find_map(|suffix| rest.strip_suffix(suffix))
                .filter(|column| !column.is_empty())
                .map(str::to_owned)
        });
        named.or_else(|| self.column.clone())
    }

    /// The error, its fields named by `fields` (the body fields the violated
    /// constraint guards; none if it is not about one), in our words: `what` the
    /// item is ("page"), and the values the request gave the fields, where known.
    pub fn explained(
        &self,
        fields: &[String],
        values: &[(String, String)],
        what: &str,
    ) -> AppError {
        let value_of = |field: &str| {
            values
                .iter()
                .find(|(name, _)| name == field)
                .map(|(_, value)| value.as_str())
        };
        let each = |code: &'static str, words: &dyn Fn(&str, Option<&str>) -> String| {
            fields
                .iter()
                .map(|field| {
                    FieldError::coded(code, format!("/{field}"), words(field, value_of(field)))
                })
                .collect::<Vec<_>>()
        };
        match self.violated {
            // A rule about no field: the state of other rows.
            Violated::Unique if fields.is_empty() => {
                AppError::conflict(format!("another {what} has this key or value"))
            }
            Violated::Reference if fields.is_empty() => AppError::conflict(
                "it is still referenced by other items; change or delete them first",
            ),
            Violated::Unique => {
                AppError::Validation(each(codes::TAKEN, &|field, value| match value {
                    Some(value) => format!("another {what} has the {field} {value} already"),
                    None => format!("another {what} has this {field} already"),
                }))
            }
            Violated::Reference => {
                AppError::Validation(each(codes::UNKNOWN_REFERENCE, &|_, value| match value {
                    Some(value) => format!("names {value}, which does not exist"),
                    None => "names an item that does not exist".to_owned(),
                }))
            }
            Violated::Rule => {
                let mut errors = each(codes::INVALID, &|_, _| {
                    "is refused by the database".to_owned()
                });
                if errors.is_empty() {
                    errors.push(FieldError::new("", "is refused by the database"));
                }
                AppError::Validation(errors)
            }
        }
    }

    /// The error with the fields its constraint's name says.
    pub(super) fn as_named(&self) -> AppError {
        self.explained(&self.column().into_iter().collect::<Vec<_>>(), &[], "item")
    }
}
