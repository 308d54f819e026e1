//! A restore: a kept version written back through the same path as a PUT (an
//! item's) or as a translation's write (a translation's).

use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Nullable, Uuid as SqlUuid};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::revisions::{Asked, Versions};
use crate::engine::transaction;
use crate::engine::write::Put;
use crate::engine::{Kind, Revival};
use crate::features::translations;
use crate::platform::auth::Permission;
use crate::platform::error::{AppError, AppResult};
use crate::platform::query::Params;

/// The version's stored fields that a PUT writes: those of the kind's body.
fn writable(kind: &dyn Kind, item: &Value) -> Map<String, Value> {
    transaction::writable(&kind.body_fields(), kind.descriptor().from_stored(item))
}

/// The next version of the item `id`, after every one it had, and its first
/// creation: what a deleted item comes back with.
fn revival(conn: &mut PgConnection, id: Uuid, item: &Value) -> AppResult<Revival> {
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = Nullable<Int4>)]
        version: Option<i32>,
    }
    let last = diesel::sql_query("SELECT max(version) AS version FROM changes WHERE item_id = $1")
        .bind::<SqlUuid, _>(id)
        .get_result::<Last>(conn)?
        .version
        .unwrap_or_default();
    let created_at = item
        .get("created_at")
        .and_then(Value::as_str)
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map_or_else(Utc::now, |at| at.with_timezone(&Utc));
    Ok(Revival {
        id,
        version: last + 1,
        created_at,
    })
}

pub async fn restore(asked: Asked) -> AppResult<HttpResponse> {
    let versions = asked.versions()?;
    if versions.locale.is_some() {
        return restore_translation(asked, versions).await;
    }
    asked.caller.require(asked.kind.descriptor().write)?;
    Params::none(asked.req.query_string())?;
    let version = asked.version(&versions)?;
    let Asked {
        kind,
        db,
        caller,
        req,
    } = asked;
    let (scope, key) = (
        versions.parent.clone().unwrap_or_default(),
        versions.key.clone(),
    );
    let (object, revive, stored) = db
        .run(move |conn| {
            let kept = versions.find(conn, version)?;
            let id = kept
                .item_id
                .ok_or_else(|| AppError::conflict("this version names no item to restore"))?;
            let revive = revival(conn, id, &kept.item)?;
            let stored = kind.descriptor().from_stored(&kept.item);
            Ok((writable(kind, &kept.item), revive, stored))
        })
        .await?;
    let location = req
        .path()
        .rsplit_once("/revisions/")
        .map_or_else(|| req.path().to_owned(), |(item, _)| item.to_owned());
    let put = Put {
        scope,
        key,
        object,
        location,
        revive: Some(revive),
        kept: Some(stored),
    };
    kind.restore(db, caller, req, put).await
}

/// A translation's version written back as its next one, as a PUT of its fields
/// and status would write it (under `If-Match`). Its item must be there.
async fn restore_translation(asked: Asked, versions: Versions) -> AppResult<HttpResponse> {
    asked.caller.require(Permission::WriteTranslations)?;
    Params::none(asked.req.query_string())?;
    let version = asked.version(&versions)?;
    let kept = (asked.db)
        .run(move |conn| Ok(translations::kept(&versions.find(conn, version)?.item)))
        .await?;
    let Asked {
        kind,
        db,
        caller,
        req,
    } = asked;
    translations::restore(
        translations::Asked {
            kind,
            db,
            caller,
            req,
        },
        &kept,
    )
    .await
}
