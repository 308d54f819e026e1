//! How database errors become answers. They are classified by what the driver
//! reports: the kind of error (from its SQLSTATE), the constraint and the table,
//! never by the words of a message. diesel reports no SQLSTATE for a deadlock, a
//! lock or statement timeout, or a data exception; only there is the message read,
//! and every session runs with `lc_messages = 'C'` (see `SessionSettings`) so that
//! it is the English one. PostgreSQL's detail is passed on only as text for people.

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

use crate::platform::error::{AppError, Violated, Violation};

/// A broken rule, as the driver reports it; PostgreSQL's own words are logged, not
/// sent.
fn violation(violated: Violated, info: &dyn DatabaseErrorInformation) -> AppError {
    log::debug!("the database refused a write: {}", for_people(info));
    AppError::Constraint(Box::new(Violation {
        violated,
        table: info.table_name().map(str::to_owned),
        constraint: info.constraint_name().map(str::to_owned),
        column: info.column_name().map(str::to_owned),
    }))
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
        match kind {
            DatabaseErrorKind::UniqueViolation => violation(Violated::Unique, info.as_ref()),
            DatabaseErrorKind::ForeignKeyViolation | DatabaseErrorKind::RestrictViolation => {
                violation(Violated::Reference, info.as_ref())
            }
            // Validation normally catches these first; if it missed one, the
            // request is still at fault, not the server.
            DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => {
                violation(Violated::Rule, info.as_ref())
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

/// The constraints our guard triggers name when an item something uses is deleted:
/// a page's block, a funder's logo or a page's image.
const NAMED_BY_A_GUARD: &[&str] = &["page_block_refs_named", "asset_users_named"];

/// For deletes: a foreign key that still points to the row is a 409 about the row
/// itself, with no field to blame.
pub fn on_delete(error: DieselError) -> AppError {
    match error {
        // What uses it is named by our own trigger's words: a page's block
        // (migration 000023), what uses an asset (migration 000026).
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)
            if info
                .constraint_name()
                .is_some_and(|name| NAMED_BY_A_GUARD.contains(&name)) =>
        {
            AppError::conflict(info.message().to_owned())
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            AppError::conflict("it is still referenced by other items; change or delete them first")
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::platform::error::{Violated, Violation};

    fn column(table: &str, constraint: &str) -> Option<String> {
        Violation {
            violated: Violated::Rule,
            table: Some(table.to_owned()),
            constraint: Some(constraint.to_owned()),
            column: None,
        }
        .column()
    }

    #[test]
    fn a_constraint_names_its_column() {
        assert_eq!(column("pages", "pages_slug_key").as_deref(), Some("slug"));
        assert_eq!(
            column("pages", "pages_parent_fkey").as_deref(),
            Some("parent")
        );
        assert_eq!(
            column("widgets", "widgets_country_code_check").as_deref(),
            Some("country_code")
        );
        assert_eq!(column("pages", "pages_check"), None);
        assert_eq!(column("pages", "something_else"), None);
    }
}
