//! The checks of a batch inside its transaction, against what is stored: the
//! scopes its items name exist (for this caller: one who does not see drafts does
//! not see a draft scope), the caller may write each item, and each write fits
//! what it replaces and its scope. Each check notes every item it refuses and goes
//! on, so that one answer names them all.

use std::collections::HashMap;

use diesel::PgConnection;

use super::{Batched, Checked, Mistakes, Planned};
use crate::engine::Target;
use crate::platform::auth::Caller;
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::visibility::Access;

/// The scopes the items name that exist and the caller may see, held in key
/// order; an item naming another is a mistake under the parent's field.
pub(super) fn scopes<R: Batched>(
    conn: &mut PgConnection,
    items: &[Checked<R>],
    caller: &Caller,
    mistakes: &mut Mistakes,
) -> AppResult<HashMap<String, R::Scope>> {
    let access = if caller.sees_everything() {
        Access::Everything
    } else {
        Access::Public
    };
    let mut keys: Vec<&str> = items.iter().map(|i| R::scope_of(&i.natural)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut found = HashMap::new();
    let mut missing = HashMap::new();
    for key in keys {
        match R::resolve_scope(conn, key, access, true) {
            Ok(scope) => {
                found.insert(key.to_owned(), scope);
            }
            Err(AppError::NotFound(detail)) => {
                missing.insert(key.to_owned(), detail);
            }
            Err(other) => return Err(other),
        }
    }
    let (field, code) = R::DESCRIPTOR
        .parent
        .as_ref()
        .map_or(("", codes::UNKNOWN_REFERENCE), |p| (p.column, p.unknown));
    for item in items {
        if let Some(detail) = missing.get(R::scope_of(&item.natural)) {
            let error = FieldError::coded(code, format!("/{field}"), detail.clone());
            mistakes.add(item.index, item.place, [error]);
        }
    }
    Ok(found)
}

/// Who may write what: every refusal, each under its item.
pub(super) fn authorise<R: Batched>(
    caller: &Caller,
    items: &[Checked<R>],
    scopes: &HashMap<String, R::Scope>,
    existing: &HashMap<R::Natural, R::Row>,
    mistakes: &mut Mistakes,
) {
    for item in items {
        let Some(scope) = scopes.get(R::scope_of(&item.natural)) else {
            continue;
        };
        let old = existing.get(&item.natural);
        let refused = match &item.plan {
            Planned::Write { input, .. } => R::authorise(caller, scope, old, Some(input)),
            Planned::Delete(_) => match old {
                Some(old) => R::authorise(caller, scope, Some(old), None),
                None => Ok(()),
            },
        };
        if let Err(error) = refused {
            mistakes.add(item.index, item.place, [error]);
        }
    }
}

/// Checks the writes again against what they replace (a published figure sent
/// without a date keeps its date, as a PUT would) and against their scopes.
pub(super) fn recheck<R: Batched>(
    items: &mut [Checked<R>],
    scopes: &HashMap<String, R::Scope>,
    existing: &HashMap<R::Natural, R::Row>,
    mistakes: &mut Mistakes,
) -> AppResult<()> {
    for item in items.iter_mut() {
        let Planned::Write { scope, input, body } = &mut item.plan else {
            continue;
        };
        if let Some(old) = existing.get(&item.natural) {
            match R::validate(body.clone(), Target::of(old)) {
                Ok(checked) => *input = checked,
                Err(AppError::Validation(errors)) => {
                    mistakes.add(item.index, item.place, errors);
                    continue;
                }
                Err(other) => return Err(other),
            }
        }
        if let Some(scope) = scopes.get(scope.as_str())
            && let Err(error) = R::fits(scope, input)
        {
            mistakes.add(item.index, item.place, [error]);
        }
    }
    Ok(())
}
