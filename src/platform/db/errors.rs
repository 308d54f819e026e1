//! How database errors become answers. They are classified by what the driver
//! reports: the kind of error (from its SQLSTATE), the constraint and the table,
//! never by the words of a message. diesel reports no SQLSTATE for a deadlock, a
//! lock or statement timeout, or a data exception; only there is the message read,
//! and every session runs with `lc_messages = 'C'` (see `SessionSettings`) so that
//! it is the English one. PostgreSQL's detail is passed on only as text for people.

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

use crate::platform::error::{AppError, FieldError};

/// Constraints whose name does not follow PostgreSQL's `{table}_{column}_{suffix}`,
/// and the body fields they guard.
const NAMED_CONSTRAINTS: &[(&str, &[&str])] = &[
    (
        "observations_natural_key",
        &["area", "period_start", "period_end"],
    ),
    ("contacts_one_primary", &["primary"]),
];

/// Columns whose body field has another name.
const RENAMED_COLUMNS: &[(&str, &str)] = &[("is_primary", "primary")];

/// The body fields a constraint guards, by its name: PostgreSQL names a unique,
/// foreign key, check or not-null constraint on one column `{table}_{column}_key`,
/// `_fkey`, `_check` or `_not_null`; a check over several columns gets no column.
pub fn fields_of(table: Option<&str>, constraint: &str) -> Vec<String> {
    if let Some((_, fields)) = NAMED_CONSTRAINTS
        .iter()
        .find(|(name, _)| *name == constraint)
    {
        return fields.iter().map(|field| (*field).to_owned()).collect();
    }
    let column = table
        .and_then(|table| constraint.strip_prefix(table))
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|rest| {
            ["_key", "_fkey", "_check", "_not_null"]
                .iter()
                .find_map(|suffix| rest.strip_suffix(suffix))
        })
        .filter(|column| !column.is_empty());
    column
        .map(|column| {
            RENAMED_COLUMNS
                .iter()
                .find(|(from, _)| *from == column)
                .map_or(column, |(_, to)| to)
                .to_owned()
        })
        .into_iter()
        .collect()
}

/// The JSON pointers of the fields a violated constraint guards, with a detail each.
fn field_errors(info: &dyn DatabaseErrorInformation, detail: &str) -> Vec<FieldError> {
    let fields = match (info.constraint_name(), info.column_name()) {
        (Some(constraint), _) => fields_of(info.table_name(), constraint),
        // NOT NULL violations name the column, not a constraint.
        (None, Some(column)) => vec![column.to_owned()],
        (None, None) => Vec::new(),
    };
    fields
        .into_iter()
        .map(|field| FieldError::new(format!("/{field}"), detail))
        .collect()
}

/// PostgreSQL's detail, or its message: text for people, never parsed.
fn for_people(info: &dyn DatabaseErrorInformation) -> String {
    info.details().unwrap_or(info.message()).to_owned()
}

/// Errors diesel gives no kind for, told apart by their message in the C locale:
/// writers that met head-on, lock and statement timeouts.
fn is_transient(message: &str) -> bool {
    [
        "deadlock detected",
        "could not obtain lock",
        "canceling statement due to statement timeout",
        "canceling statement due to lock timeout",
    ]
    .iter()
    .any(|sign| message.contains(sign))
}

/// A value PostgreSQL cannot hold that got past validation (SQLSTATE class 22).
fn is_data_exception(message: &str) -> bool {
    [
        "invalid byte sequence",
        "out of range",
        "invalid input syntax",
        "value too long",
        "character with byte sequence",
    ]
    .iter()
    .any(|sign| message.contains(sign))
}

impl From<DieselError> for AppError {
    fn from(error: DieselError) -> Self {
        let (kind, info) = match error {
            DieselError::NotFound => return Self::NotFound("no such item".to_owned()),
            DieselError::DatabaseError(kind, info) => (kind, info),
            other => return Self::Internal(format!("database error: {other}")),
        };
        let text = for_people(info.as_ref());
        match kind {
            DatabaseErrorKind::UniqueViolation => Self::Conflict {
                errors: field_errors(info.as_ref(), "another item has this value"),
                detail: format!("an item with this key exists already: {text}"),
            },
            DatabaseErrorKind::ForeignKeyViolation | DatabaseErrorKind::RestrictViolation => {
                Self::Conflict {
                    errors: field_errors(info.as_ref(), "names an item that does not exist"),
                    detail: text,
                }
            }
            // Validation normally catches these first; if it missed one, the
            // request is still at fault, not the server.
            DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => {
                let mut errors = field_errors(info.as_ref(), "is refused by the database");
                if errors.is_empty() {
                    errors.push(FieldError::new("/", "is refused by the database"));
                }
                Self::Validation(errors)
            }
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                Self::Unavailable(info.message().to_owned())
            }
            DatabaseErrorKind::SerializationFailure => {
                Self::Unavailable(format!("concurrent write, retry: {}", info.message()))
            }
            _ if is_transient(info.message()) => {
                Self::Unavailable(format!("busy, retry: {}", info.message()))
            }
            _ if is_data_exception(info.message()) => {
                Self::bad_request("/", format!("a value was refused: {}", info.message()))
            }
            _ => Self::Internal(format!("database error: {}", info.message())),
        }
    }
}

/// For deletes: a foreign key that still points to the row is a 409 about the row
/// itself, with no field to blame.
pub fn on_delete(error: DieselError) -> AppError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            AppError::conflict(format!(
                "other items still refer to it; change or delete them first ({})",
                for_people(info.as_ref())
            ))
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constraint_names_its_field() {
        let fields = |table, constraint| fields_of(Some(table), constraint);
        assert_eq!(fields("pages", "pages_slug_key"), ["slug"]);
        assert_eq!(fields("pages", "pages_parent_fkey"), ["parent"]);
        assert_eq!(
            fields("funders", "funders_country_code_check"),
            ["country_code"]
        );
        assert_eq!(fields("contacts", "contacts_is_primary_check"), ["primary"]);
        assert_eq!(
            fields("council_decisions", "council_decisions_funder_fkey"),
            ["funder"]
        );
        assert_eq!(
            fields("observations", "observations_natural_key"),
            ["area", "period_start", "period_end"]
        );
        assert!(fields("observations", "observations_check").is_empty());
        assert!(fields("pages", "something_else").is_empty());
        assert!(fields_of(None, "pages_slug_key").is_empty());
    }
}
