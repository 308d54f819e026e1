//! The checks of a batch inside its transaction, against what is stored: the
//! scopes its items name exist, the caller may write each item, and each write
//! fits what it replaces and its scope. Each check names every item it refuses.

use std::collections::HashMap;

use diesel::PgConnection;

use super::{Batched, Checked, Planned, Source};
use crate::engine::Target;
use crate::platform::auth::Caller;
use crate::platform::error::{AppError, AppResult, FieldError};

/// The scopes the items name, held in key order.
pub(super) fn scopes<R: Batched>(
    conn: &mut PgConnection,
    items: &[Checked<R>],
    source: Source,
) -> AppResult<HashMap<String, R::Scope>> {
    let mut keys: Vec<&str> = items.iter().map(|i| R::scope_of(&i.natural)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut found = HashMap::new();
    let mut missing = HashMap::new();
    for key in keys {
        match R::resolve_scope(
            conn,
            key,
            crate::platform::visibility::Access::Everything,
            true,
        ) {
            Ok(scope) => {
                found.insert(key.to_owned(), scope);
            }
            Err(AppError::NotFound(detail)) => {
                missing.insert(key.to_owned(), detail);
            }
            Err(other) => return Err(other),
        }
    }
    let field = R::DESCRIPTOR.parent.as_ref().map_or("", |p| p.column);
    let errors: Vec<FieldError> = items
        .iter()
        .filter_map(|item| {
            let detail = missing.get(R::scope_of(&item.natural))?;
            Some(FieldError::new(
                source.pointer(item.index, &format!("/{field}")),
                detail.clone(),
            ))
        })
        .collect();
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(AppError::Conflict {
            detail: format!("{} items name what does not exist", errors.len()),
            errors,
        })
    }
}

/// Who may write what: every refusal, each under its item's pointer.
pub(super) fn authorise<R: Batched>(
    caller: &Caller,
    items: &[Checked<R>],
    scopes: &HashMap<String, R::Scope>,
    existing: &HashMap<R::Natural, R::Row>,
    source: Source,
) -> AppResult<()> {
    let mut refusals = Vec::new();
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
        if let Err(AppError::Forbidden(detail)) = refused {
            refusals.push(format!("{}: {detail}", source.pointer(item.index, "")));
        }
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(AppError::Forbidden(refusals.join("; ")))
    }
}

/// Checks the writes again against what they replace (a published figure sent
/// without a date keeps its date, as a PUT would) and against their scopes.
pub(super) fn recheck<R: Batched>(
    items: &mut [Checked<R>],
    scopes: &HashMap<String, R::Scope>,
    existing: &HashMap<R::Natural, R::Row>,
    source: Source,
) -> AppResult<()> {
    let mut conflicts = Vec::new();
    for item in items.iter_mut() {
        let Planned::Write { scope, input, body } = &mut item.plan else {
            continue;
        };
        if let Some(old) = existing.get(&item.natural) {
            *input = R::validate(body.clone(), Target::of(old))?;
        }
        if let Some(scope) = scopes.get(scope.as_str())
            && let Err(error) = R::fits(scope, input)
        {
            conflicts.extend(source.under(item.index, vec![error]));
        }
    }
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(AppError::Conflict {
            detail: format!("{} items do not fit what they belong to", conflicts.len()),
            errors: conflicts,
        })
    }
}
