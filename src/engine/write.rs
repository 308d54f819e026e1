//! The one write path for a single item: create, replace (PUT), merge-patch,
//! delete and restore, each in one transaction that says who it writes for
//! (`transaction::begin_write`), locks the row, checks `If-Match` against the
//! stored ETag, validates, authorises and saves. The database logs what it wrote
//! (the change log and the audit log are written by its triggers), so nothing here
//! appends to a log, and an error writes nothing.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::paths::{item_url, not_found, path_params};
use super::transaction::{
    Author, COMMON_READ_ONLY, LockMode, Revival, WriteContext, begin_write, body_fields,
    parse_body, writable,
};
use super::{Resource, Save, Stored, Target};
use crate::platform::auth::{Caller, JwtKeys};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::{self, Preconditions};
use crate::platform::idempotency;
use crate::platform::query::Params;
use crate::platform::visibility::Access;

/// The representation of one row, as GET shows it to an editor.
fn represent_one<R: Resource>(conn: &mut diesel::PgConnection, row: R::Row) -> AppResult<Value> {
    let mut item = R::represent(conn, vec![row], &Default::default(), Access::Everything)?
        .pop()
        .ok_or_else(|| AppError::internal("represent returned nothing"))?;
    super::paths::add_links(R::DESCRIPTOR, &mut item);
    Ok(item)
}

/// A body's checks made before the write (`Resource::prepare`) and its validation,
/// as one answer: every invalid field of both is named.
fn together<T>(prepared: AppResult<()>, validated: AppResult<T>) -> AppResult<T> {
    match (prepared, validated) {
        (Ok(()), validated) => validated,
        (Err(AppError::Validation(mut first)), Err(AppError::Validation(more))) => {
            let new: Vec<_> = more
                .into_iter()
                .filter(|error| !first.iter().any(|seen| seen.pointer == error.pointer))
                .collect();
            first.extend(new);
            Err(AppError::Validation(first))
        }
        (Err(error), _) => Err(error),
    }
}

/// The answer to a write: the item as an editor reads it, with its stored tag.
fn answer(status: StatusCode, item: &Value, etag: &str, location: Option<String>) -> HttpResponse {
    http::written_tagged(status, item, Some(etag), location)
}

/// What a write with a body starts with, in this order: the scope and key the
/// path names, the permission to write, no query parameters, and the body, a JSON
/// object.
async fn with_body<R: Resource>(
    caller: &Caller,
    req: &HttpRequest,
    payload: web::Payload,
) -> AppResult<(String, String, Map<String, Value>)> {
    let (scope, key) = path_params::<R>(req)?;
    caller.require(R::DESCRIPTOR.write)?;
    Params::none(req.query_string())?;
    let object = http::json_object(req, payload).await?;
    Ok((scope, key, object))
}

pub async fn create<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let (scope, _, object) = with_body::<R>(&caller, &req, payload).await?;
    let prepared = R::prepare(&req, &object).await;
    let mode = LockMode::of::<R>(&object, None);
    let values = R::DESCRIPTOR.values_named(&object);
    let body = parse_body::<R>(object)?;
    let author = Author::of(&caller, &req);
    let (mut item, key, etag, secret) = db
        .transaction(move |conn| {
            let input = together(prepared, R::validate(body, Target::NEW))?;
            let scope = begin_write::<R>(conn, &author, &scope, mode)?;
            R::authorise(&caller, &scope, None, Some(&input))?;
            let secret = R::shown_once(&input);
            let save = Save {
                scope: &scope,
                existing: None,
                input,
                context: &WriteContext::of(&caller),
            };
            let row = R::save(conn, save)?;
            let (key, etag) = (row.key(), row.etag().to_owned());
            Ok((represent_one::<R>(conn, row)?, key, etag, secret))
        })
        .await
        .map_err(|error| R::DESCRIPTOR.explain(error, &values))?;
    let location = item_url(&req, &key, false);
    let (Some(secret), Some((field, _))) = (secret, R::DESCRIPTOR.shown_once) else {
        return Ok(answer(StatusCode::CREATED, &item, &etag, Some(location)));
    };
    if let Value::Object(fields) = &mut item {
        fields.insert(field.to_owned(), Value::String(secret));
    }
    let mut response = answer(StatusCode::CREATED, &item, &etag, Some(location));
    // A secret is shown once: never kept for an Idempotency-Key replay.
    response.extensions_mut().insert(idempotency::ShownOnce);
    Ok(response)
}

/// A creation whose input is not a JSON body: an upload, whose fields the server
/// derived from its bytes. The same transaction as `create` from there on (who it
/// is for, the lock, the permission, the save, the logs), answered alike: 201
/// with the item and its `Location`.
pub async fn create_input<R: Resource>(
    db: &Db,
    caller: Caller,
    req: &HttpRequest,
    input: R::Input,
) -> AppResult<HttpResponse>
where
    R::Input: Send + 'static,
{
    caller.require(R::DESCRIPTOR.write)?;
    let author = Author::of(&caller, req);
    let mode = LockMode::of::<R>(&Map::new(), None);
    let (item, key, etag) = db
        .transaction(move |conn| {
            let scope = begin_write::<R>(conn, &author, "", mode)?;
            R::authorise(&caller, &scope, None, Some(&input))?;
            let save = Save {
                scope: &scope,
                existing: None,
                input,
                context: &WriteContext::of(&caller),
            };
            let row = R::save(conn, save)?;
            let (key, etag) = (row.key(), row.etag().to_owned());
            Ok((represent_one::<R>(conn, row)?, key, etag))
        })
        .await?;
    let location = item_url(req, &key, false);
    Ok(answer(StatusCode::CREATED, &item, &etag, Some(location)))
}

pub async fn replace<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let (scope, key, object) = with_body::<R>(&caller, &req, payload).await?;
    let location = req.path().to_owned();
    put::<R>(
        &db,
        caller,
        &req,
        Put {
            scope,
            key,
            object,
            location,
            revive: None,
            kept: None,
        },
    )
    .await
}

/// A PUT: what to write, where.
pub struct Put {
    pub scope: String,
    pub key: String,
    pub object: Map<String, Value>,
    /// Where the item lives, for the `Location` of a creation.
    pub location: String,
    /// For a restore: the item the kept version belongs to, brought back under its
    /// own id if it is gone.
    pub revive: Option<Revival>,
    /// For a restore: the kept version's stored fields.
    pub kept: Option<Value>,
}

/// A PUT of `object` to the item `key`: creates it (201, `Location`) or replaces it
/// whole (200), under `If-Match`/`If-None-Match`, validated like any write. A
/// restore is one too (`revive`): it writes to the item with the kept version's id
/// wherever its key now is, brings it back if it is gone, and is a 409 if another
/// item holds the key.
pub async fn put<R: Resource>(
    db: &Db,
    caller: Caller,
    req: &HttpRequest,
    put: Put,
) -> AppResult<HttpResponse> {
    let Put {
        scope,
        key,
        object,
        location,
        revive,
        kept,
    } = put;
    let prepared = R::prepare(req, &object).await;
    let preconditions = Preconditions::of(req);
    let mode = LockMode::of::<R>(&object, Some(&key));
    let mut values = R::DESCRIPTOR.values_named(&object);
    values.push((R::DESCRIPTOR.key.to_owned(), key.clone()));
    let author = Author::of(&caller, req);
    let (item, created, etag) = db
        .transaction(move |conn| {
            let scope = begin_write::<R>(conn, &author, &scope, mode)?;
            let existing = match revive {
                None => R::find(conn, &scope, &key, true)?,
                Some(revival) => revived::<R>(conn, &scope, &key, revival)?,
            };
            // RFC 9110: the preconditions before the body.
            preconditions.check(existing.as_ref().map(Stored::etag))?;
            let input = together(
                prepared,
                R::validate(
                    parse_body::<R>(object)?,
                    Target {
                        key: Some(&key),
                        existing: existing.as_ref(),
                        kept: kept.as_ref().filter(|_| existing.is_none()),
                    },
                ),
            )?;
            R::authorise(&caller, &scope, existing.as_ref(), Some(&input))?;
            let context = WriteContext {
                caller: &caller,
                revive: revive.filter(|_| existing.is_none()),
            };
            let save = Save {
                scope: &scope,
                existing: existing.as_ref(),
                input,
                context: &context,
            };
            let row = R::save(conn, save)?;
            let etag = row.etag().to_owned();
            Ok((represent_one::<R>(conn, row)?, existing.is_none(), etag))
        })
        .await
        .map_err(|error| R::DESCRIPTOR.explain(error, &values))?;
    Ok(if created {
        answer(StatusCode::CREATED, &item, &etag, Some(location))
    } else {
        answer(StatusCode::OK, &item, &etag, None)
    })
}

/// The item a restore writes to: the one with the kept version's id, locked, or
/// none if it is gone; a 409 if another item holds the key meanwhile.
fn revived<R: Resource>(
    conn: &mut diesel::PgConnection,
    scope: &R::Scope,
    key: &str,
    revival: Revival,
) -> AppResult<Option<R::Row>> {
    if let Some(holder) = R::find(conn, scope, key, true)?
        && holder.id() != revival.id
    {
        let d = R::DESCRIPTOR;
        return Err(AppError::conflict_at(
            format!("/{}", d.key),
            format!(
                "another {} holds {} {key} now (id {}): rename or delete it first, or restore \
                 a version of that one",
                d.name,
                d.key,
                holder.id()
            ),
        ));
    }
    R::find_by_id(conn, revival.id, true)
}

pub async fn update<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let (scope, key, mut patch) = with_body::<R>(&caller, &req, payload).await?;
    for field in COMMON_READ_ONLY.iter().chain(R::DESCRIPTOR.read_only) {
        patch.remove(*field);
    }
    let prepared = R::prepare(&req, &patch).await;
    let preconditions = Preconditions::of(&req);
    let mode = LockMode::of::<R>(&patch, Some(&key));
    let mut values = R::DESCRIPTOR.values_named(&patch);
    values.push((R::DESCRIPTOR.key.to_owned(), key.clone()));
    let author = Author::of(&caller, &req);
    let keys = req.app_data::<web::Data<JwtKeys>>().cloned();
    let (mut item, new_key, etag, fresh) = db
        .transaction(move |conn| {
            let scope = begin_write::<R>(conn, &author, &scope, mode)?;
            let existing =
                R::find(conn, &scope, &key, true)?.ok_or_else(|| not_found::<R>(&key))?;
            preconditions.check(Some(existing.etag()))?;
            let input = together(prepared, merged::<R>(patch, &existing))?;
            R::authorise(&caller, &scope, Some(&existing), Some(&input))?;
            let save = Save {
                scope: &scope,
                existing: Some(&existing),
                input,
                context: &WriteContext::of(&caller),
            };
            let row = R::save(conn, save)?;
            let fresh = match (&keys, R::DESCRIPTOR.refreshed) {
                (Some(keys), Some(_)) => R::refreshed(&caller, &existing, &row, keys)?,
                _ => None,
            };
            let (new_key, etag) = (row.key(), row.etag().to_owned());
            let moved = new_key != key;
            Ok((
                represent_one::<R>(conn, row)?,
                moved.then_some(new_key),
                etag,
                fresh,
            ))
        })
        .await
        .map_err(|error| R::DESCRIPTOR.explain(error, &values))?;
    let refreshed = fresh.zip(R::DESCRIPTOR.refreshed);
    if let (Some((fresh, (field, _))), Value::Object(fields)) = (&refreshed, &mut item) {
        fields.insert((*field).to_owned(), Value::String(fresh.clone()));
    }
    let mut response = answer(StatusCode::OK, &item, &etag, None);
    if refreshed.is_some() {
        // Shown once: never kept.
        response.extensions_mut().insert(idempotency::ShownOnce);
    }
    let moved_to = new_key.map(|key| item_url(&req, &key, true));
    if let Some(location) = moved_to.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
        // The key changed: say where the item lives now.
        response
            .headers_mut()
            .insert(header::CONTENT_LOCATION, location);
    }
    Ok(response)
}

/// A merge patch (RFC 7396) applied to the body the item would be read back as,
/// and validated as a whole: a rule it breaks, by itself or together with what is
/// stored, is a 422 naming the fields.
fn merged<R: Resource>(patch: Map<String, Value>, existing: &R::Row) -> AppResult<R::Input> {
    // The patch is read as a body first: an unknown field is named even when it is
    // null, which the merge would drop without a trace.
    http::from_object::<R::Body>(patch.clone())?;
    let mut merged = Value::Object(writable(&body_fields::<R>(), R::as_body(existing)));
    json_patch::merge(&mut merged, &Value::Object(patch));
    let Value::Object(merged) = merged else {
        return Err(AppError::internal("merge gave a non-object"));
    };
    R::validate(parse_body::<R>(merged)?, Target::of(existing))
}

pub async fn delete<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (scope, key) = path_params::<R>(&req)?;
    caller.require(R::DESCRIPTOR.write)?;
    let mut params = Params::parse(req.query_string())?;
    let cascade = match R::DESCRIPTOR.cascade {
        Some(_) => params.flag("cascade")?,
        None => false,
    };
    params.finish()?;
    let preconditions = Preconditions::of(&req);
    let author = Author::of(&caller, &req);
    let values = vec![(R::DESCRIPTOR.key.to_owned(), key.clone())];
    db.transaction(move |conn| {
        let scope = begin_write::<R>(conn, &author, &scope, LockMode::Exclusive)?;
        let existing = R::find(conn, &scope, &key, true)?.ok_or_else(|| not_found::<R>(&key))?;
        preconditions.check(Some(existing.etag()))?;
        R::authorise(&caller, &scope, Some(&existing), None)?;
        R::delete(conn, &existing, cascade, &WriteContext::of(&caller))
    })
    .await
    .map_err(|error| R::DESCRIPTOR.explain(error, &values))?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
