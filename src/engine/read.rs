//! Reading any resource: a list (JSON in the list envelope, or CSV) and an item,
//! each as the caller may see it, with fieldsets, embeddings, ETags and 304. The
//! route table names them with their resource: `read::list::<Pages>`.

use actix_web::{HttpRequest, HttpResponse};
use diesel::PgConnection;
use serde_json::Value;

use super::paths::{not_found, path_params};
use super::translated;
use super::{Resource, Stored, localise, present, present_translated, stream};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::AppResult;
use crate::platform::http::{self, csv};
use crate::platform::query::{self, ListQuery, View};
use crate::platform::visibility::Access;

/// What a caller sees of content: everything with the right to read drafts,
/// otherwise what is published.
pub fn access_of(caller: &Caller) -> Access {
    if caller.sees_everything() {
        Access::Everything
    } else {
        Access::Public
    }
}

/// What a caller may read of `R`: content is public (its drafts for those who may
/// read them); other resources need their right, and then show everything.
fn read_access<R: Resource>(caller: &Caller) -> AppResult<Access> {
    match R::DESCRIPTOR.read {
        None => Ok(access_of(caller)),
        Some(permission) => {
            caller.require(permission)?;
            Ok(Access::Everything)
        }
    }
}

pub async fn list<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (scope, _) = path_params::<R>(&req)?;
    let access = read_access::<R>(&caller)?;
    let spec = R::DESCRIPTOR.spec;
    let mut query = ListQuery::parse(spec, req.query_string())?;
    localise::resolve(&req, spec, &mut query.view)?;
    query.localised = localise::for_list(R::DESCRIPTOR, &query, access);
    let language = localise::content_language(&query.view);
    if let Some(columns) = R::DESCRIPTOR.csv
        && csv::wants_csv(&req)
    {
        let list = stream::CsvList {
            columns: stream::columns_of(columns, &query),
            query,
            load: move |conn: &mut diesel::PgConnection, query: &ListQuery| {
                let scope = R::resolve_scope(conn, &scope, access, false)?;
                let (rows, total) = R::list(conn, &scope, query, access)?;
                Ok((present::<R>(conn, rows, &query.view, access)?, total))
            },
        };
        return stream::answer(&db, &req, &caller, list).await;
    }
    let work_query = query.clone();
    let (items, total) = db
        .run(move |conn| {
            let scope = R::resolve_scope(conn, &scope, access, false)?;
            page_of::<R>(conn, &scope, &work_query, access)
        })
        .await?;
    Ok(http::read_page_in(
        &req,
        &caller,
        items,
        query.meta(total),
        &language,
    ))
}

/// One page of a list of `R`, as `access` sees it, in the query's view: the
/// items, and how many the whole list holds.
fn page_of<R: Resource>(
    conn: &mut PgConnection,
    scope: &R::Scope,
    query: &ListQuery,
    access: Access,
) -> AppResult<(Vec<Value>, i64)> {
    let (rows, total, token) = if translated::shown(R::DESCRIPTOR, &query.view) {
        R::list_translated(conn, scope, query, access)?
    } else {
        let (rows, total) = R::list(conn, scope, query, access)?;
        (rows, total, None)
    };
    let items = present_translated::<R>(conn, rows, token, &query.view, access)?;
    let view = &query.view;
    let items = items
        .into_iter()
        .map(|item| view.apply(R::DESCRIPTOR.spec, item))
        .collect();
    Ok((items, total))
}

/// The items of `R` that `query_string` (the list language) selects, as `access`
/// sees them, with `fields` (all without), in the locale of `shown_in`: what an
/// item embeds from another collection (a page's blocks), read as that
/// collection reads it. One page of the list.
pub fn select<R: Resource<Scope = ()>>(
    conn: &mut PgConnection,
    query_string: &str,
    fields: Option<Vec<&'static str>>,
    shown_in: &View,
    access: Access,
) -> AppResult<Vec<Value>> {
    let mut query = ListQuery::parse(R::DESCRIPTOR.spec, query_string)?;
    query.view.fields = fields;
    if R::DESCRIPTOR.spec.translatable().next().is_some() {
        query.view.locale.clone_from(&shown_in.locale);
        query.view.fallback = shown_in.fallback;
    }
    query.localised = localise::for_list(R::DESCRIPTOR, &query, access);
    Ok(page_of::<R>(conn, &(), &query, access)?.0)
}

pub async fn get<R: Resource>(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    let (scope, key) = path_params::<R>(&req)?;
    let access = read_access::<R>(&caller)?;
    let spec = R::DESCRIPTOR.spec;
    let mut view = query::parse_item_view(spec, req.query_string())?;
    localise::resolve(&req, spec, &mut view)?;
    let language = localise::content_language(&view);
    // An item in the default locale, as stored, is tagged by what is stored.
    let as_stored = view
        .locale
        .as_ref()
        .is_none_or(|requested| requested.locale.default && !requested.named);
    let translated = translated::shown(R::DESCRIPTOR, &view);
    let (item, etag) = db
        .run(move |conn| {
            let scope = R::resolve_scope(conn, &scope, access, false)?;
            let found = if translated {
                R::find_translated(conn, &scope, &key)?
            } else {
                R::find(conn, &scope, &key, false)?.map(|row| (row, None))
            };
            let (row, token) = found
                .filter(|(row, _)| {
                    row.publication()
                        .is_none_or(|(status, published_at)| access.may_see(status, published_at))
                })
                .ok_or_else(|| not_found::<R>(&key))?;
            // What an editor reads of the whole item is what the stored tag names;
            // anything else (a public reader's view, hiding drafts; a fieldset) is
            // tagged by its bytes.
            let etag = (access == Access::Everything && view.is_whole() && as_stored)
                .then(|| row.etag().to_owned());
            let item = present_translated::<R>(conn, vec![row], token, &view, access)?
                .pop()
                .unwrap_or(Value::Null);
            Ok((view.apply(spec, item), etag))
        })
        .await?;
    Ok(match etag {
        Some(etag) => {
            let bytes = serde_json::to_vec(&item).unwrap_or_default();
            http::read_tagged(
                &req,
                &caller,
                bytes.into(),
                &etag,
                "application/json",
                &language,
            )
        }
        None => http::read(&req, &caller, &item, &language),
    })
}
