//! Reading and writing one item's translations:
//! `{item}/translations` and `{item}/translations/{locale}` (GET, PUT, PATCH,
//! DELETE), with `If-Match` as for the item itself.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::fields::{check_fields, with_html, without_html};
use super::stored::{Item, Stored};
use crate::content::assets;
use crate::engine::transaction::{Author, begin};
use crate::engine::{Descriptor, Kind, to_json};
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::http::{self, Preconditions, body};
use crate::platform::locale::{Locales, canonical};
use crate::platform::query::Params;

/// The body fields a client may send back from a GET and that are never written.
const READ_ONLY: &[&str] = &[
    "key",
    "locale",
    "outdated",
    "source_version",
    "version",
    "created_at",
    "updated_at",
];

/// A request about the translations of an item of `kind`.
pub struct Asked {
    pub kind: &'static dyn Kind,
    pub db: Db,
    pub caller: Caller,
    pub req: HttpRequest,
}

impl Asked {
    fn descriptor(&self) -> &'static Descriptor {
        self.kind.descriptor()
    }

    fn key(&self) -> String {
        let name = self.descriptor().key;
        self.req
            .match_info()
            .get(name)
            .unwrap_or_default()
            .to_owned()
    }

    /// The locale in the path: an enabled one other than the default, whose fields
    /// are the item's own; anything else names nothing (404).
    fn locale(&self) -> AppResult<String> {
        let raw = self.req.match_info().get("locale").unwrap_or_default();
        let locales = Locales::of(&self.req);
        let enabled = locales.translated();
        match canonical(raw)
            .ok()
            .and_then(|tag| locales.get(&tag).cloned())
        {
            Some(locale) if !locale.default => Ok(locale.tag),
            Some(locale) => Err(AppError::NotFound(format!(
                "{} is the default locale: its fields are the item's own; translations are in {}",
                locale.tag,
                enabled.join(", ")
            ))),
            None => Err(AppError::NotFound(format!(
                "{raw:?} is not an enabled locale; translations are in {}",
                enabled.join(", ")
            ))),
        }
    }

    fn no_item(&self, key: &str) -> AppError {
        AppError::NotFound(format!("there is no {} {key}", self.descriptor().name))
    }

    fn no_translation(&self, key: &str, locale: &str) -> AppError {
        AppError::NotFound(format!(
            "the {} {key} has no translation into {locale}",
            self.descriptor().name
        ))
    }
}

/// `GET {item}/translations`: every translation of the item.
pub async fn list(asked: Asked) -> AppResult<HttpResponse> {
    asked.caller.require(Permission::ReadDrafts)?;
    Params::none(asked.req.query_string())?;
    let (kind, key) = (asked.descriptor(), asked.key());
    let no_item = asked.no_item(&key);
    let shown = asked
        .db
        .run(move |conn| {
            let item = Item::find(conn, kind, &key, false)?.ok_or(no_item)?;
            Ok(Stored::of(conn, kind.kind, item.id, None, false)?
                .iter()
                .map(|stored| to_json(&stored.shown(kind, &key, &item)))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(http::read(
        &asked.req,
        &asked.caller,
        &json!({"data": shown}),
        &[],
    ))
}

/// `GET {item}/translations/{locale}`.
pub async fn get(asked: Asked) -> AppResult<HttpResponse> {
    asked.caller.require(Permission::ReadDrafts)?;
    Params::none(asked.req.query_string())?;
    let (kind, key, locale) = (asked.descriptor(), asked.key(), asked.locale()?);
    let (no_item, none) = (asked.no_item(&key), asked.no_translation(&key, &locale));
    let (shown, etag) = asked
        .db
        .run(move |conn| {
            let item = Item::find(conn, kind, &key, false)?.ok_or(no_item)?;
            let stored = Stored::of(conn, kind.kind, item.id, Some(&locale), false)?
                .pop()
                .ok_or(none)?;
            Ok((to_json(&stored.shown(kind, &key, &item)), stored.etag))
        })
        .await?;
    let bytes = serde_json::to_vec(&shown).unwrap_or_default();
    Ok(http::read_tagged(
        &asked.req,
        &asked.caller,
        bytes.into(),
        &etag,
        "application/json",
        &[],
    ))
}

/// `PUT {item}/translations/{locale}`: the translation whole (a field left out is
/// not translated).
pub async fn put(asked: Asked, payload: web::Payload) -> AppResult<HttpResponse> {
    write(asked, payload, false).await
}

/// `PATCH {item}/translations/{locale}`: a merge patch (`"fields": {"body": null}`
/// drops a field's translation).
pub async fn patch(asked: Asked, payload: web::Payload) -> AppResult<HttpResponse> {
    write(asked, payload, true).await
}

async fn write(asked: Asked, payload: web::Payload, merge: bool) -> AppResult<HttpResponse> {
    asked.caller.require(Permission::WriteTranslations)?;
    Params::none(asked.req.query_string())?;
    let object = body::json_object(&asked.req, payload).await?;
    let body = Body::check(asked.descriptor(), object, merge)?;
    let location = asked.req.path().to_owned();
    save(asked, body, location).await
}

/// `POST {item}/translations/{locale}/revisions/{version}/restore`: the version
/// (`kept`, as history shows it) written back as a PUT of its fields and status.
pub async fn restore(asked: Asked, kept: &Value) -> AppResult<HttpResponse> {
    let fields = match kept.get("fields") {
        Some(Value::Object(fields)) => without_html(asked.descriptor(), fields.clone()),
        _ => Map::new(),
    };
    let object = json!({"fields": fields, "status": kept.get("status")});
    let body = match object {
        Value::Object(object) => Body::check(asked.descriptor(), object, false)?,
        _ => return Err(AppError::internal("a translation's body is an object")),
    };
    let location = asked
        .req
        .path()
        .rsplit_once("/revisions/")
        .map_or_else(|| asked.req.path().to_owned(), |(path, _)| path.to_owned());
    save(asked, body, location).await
}

/// The asset images of the fields' rendered HTML with their width and height, as
/// an item's own Markdown has them (an unknown asset is refused).
fn sized_images(conn: &mut diesel::PgConnection, fields: &mut Map<String, Value>) -> AppResult<()> {
    for (name, value) in fields.iter_mut() {
        let Some(field) = name.strip_suffix("_html") else {
            continue;
        };
        match value {
            Value::String(html) => {
                *html = assets::sized_images(conn, html, &format!("fields/{field}"))?
            }
            Value::Array(htmls) => {
                for (at, html) in htmls.iter_mut().enumerate() {
                    if let Value::String(html) = html {
                        *html = assets::sized_images(conn, html, &format!("fields/{field}/{at}"))?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Writes a checked body as the translation's next version, under `If-Match`.
async fn save(asked: Asked, body: Body, location: String) -> AppResult<HttpResponse> {
    let (kind, key, locale) = (asked.descriptor(), asked.key(), asked.locale()?);
    let preconditions = Preconditions::of(&asked.req);
    let author = Author::of(&asked.caller, &asked.req);
    let (no_item, none) = (asked.no_item(&key), asked.no_translation(&key, &locale));
    let (status, shown, etag) = asked
        .db
        .transaction(move |conn| {
            begin(conn, &author, None)?;
            let item = Item::find(conn, kind, &key, true)?.ok_or(no_item)?;
            let before = Stored::of(conn, kind.kind, item.id, Some(&locale), true)?.pop();
            preconditions.check(before.as_ref().map(|b| b.etag.as_str()))?;
            if body.merge && before.is_none() {
                return Err(none);
            }
            let (mut fields, source, status) = body.applied_to(kind, &item, before.as_ref());
            sized_images(conn, &mut fields)?;
            let after = Stored::save(
                conn,
                kind.kind,
                &item,
                &locale,
                &fields,
                &source,
                &status,
                &author.actor,
            )?;
            let created = before.is_none();
            Ok((
                created,
                to_json(&after.shown(kind, &key, &item)),
                after.etag,
            ))
        })
        .await?;
    let code = if status {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = status.then_some(location);
    Ok(http::written_tagged(
        code,
        &shown,
        Some(etag.as_str()),
        location,
    ))
}

/// `DELETE {item}/translations/{locale}`.
pub async fn delete(asked: Asked) -> AppResult<HttpResponse> {
    asked.caller.require(Permission::WriteTranslations)?;
    Params::none(asked.req.query_string())?;
    let (kind, key, locale) = (asked.descriptor(), asked.key(), asked.locale()?);
    let preconditions = Preconditions::of(&asked.req);
    let author = Author::of(&asked.caller, &asked.req);
    let (no_item, none) = (asked.no_item(&key), asked.no_translation(&key, &locale));
    asked
        .db
        .transaction(move |conn| {
            use diesel::prelude::*;
            use diesel::sql_types::Text;
            begin(conn, &author, None)?;
            let item = Item::find(conn, kind, &key, true)?.ok_or(no_item)?;
            let before = Stored::of(conn, kind.kind, item.id, Some(&locale), true)?
                .pop()
                .ok_or(none)?;
            preconditions.check(Some(&before.etag))?;
            diesel::sql_query(
                "DELETE FROM translations WHERE kind = $1 AND item_id = $2 AND locale = $3",
            )
            .bind::<Text, _>(kind.kind)
            .bind::<diesel::sql_types::Uuid, _>(item.id)
            .bind::<Text, _>(&locale)
            .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A checked body: the fields it translates (`None`: not given; `Some(None)`:
/// removed, in a merge patch) and its status.
struct Body {
    fields: Option<Map<String, Value>>,
    status: Option<String>,
    merge: bool,
}

impl Body {
    /// Checks every field of the body and answers every mistake at once: a field
    /// that is not translatable (shared by all locales), a value that is not text or
    /// is too long, Markdown that does not render, a status that is neither.
    fn check(kind: &Descriptor, mut object: Map<String, Value>, merge: bool) -> AppResult<Self> {
        for field in READ_ONLY {
            object.remove(*field);
        }
        let mut errors = Vec::new();
        let status = match object.remove("status") {
            None | Some(Value::Null) => None,
            Some(Value::String(status)) if status == "draft" || status == "published" => {
                Some(status)
            }
            Some(_) => {
                errors.push(FieldError::new("/status", "not one of draft, published"));
                None
            }
        };
        let fields = match object.remove("fields") {
            None | Some(Value::Null) => None,
            Some(Value::Object(given)) => Some(check_fields(kind, given, merge, &mut errors)),
            Some(_) => {
                errors.push(FieldError::new(
                    "/fields",
                    "must be an object of the translated fields",
                ));
                None
            }
        };
        for name in object.keys() {
            errors.push(FieldError::coded(
                codes::UNKNOWN_FIELD,
                format!("/{name}"),
                "is not a field of a translation: send `fields` and `status`",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Self {
            fields,
            status,
            merge,
        })
    }

    /// The fields, source values and status to store, from what is stored before
    /// (a merge patch changes only what it names).
    fn applied_to(
        &self,
        kind: &Descriptor,
        item: &Item,
        before: Option<&Stored>,
    ) -> (Map<String, Value>, Map<String, Value>, String) {
        let object = |value: Option<&Value>| match value {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        let (mut fields, mut source) = match (self.merge, before) {
            (true, Some(before)) => (object(Some(&before.fields)), object(Some(&before.source))),
            _ => (Map::new(), Map::new()),
        };
        for (name, value) in self.fields.iter().flatten() {
            let html = format!("{name}_html");
            if value.is_null() {
                fields.remove(name);
                fields.remove(&html);
                source.remove(name);
                continue;
            }
            fields.insert(name.clone(), value.clone());
            source.insert(name.clone(), item.source(kind, name));
        }
        let fields = with_html(kind, fields);
        let status = self
            .status
            .clone()
            .or_else(|| {
                self.merge
                    .then(|| before.map(|b| b.status.clone()))
                    .flatten()
            })
            .unwrap_or_else(|| "draft".to_owned());
        (fields, source, status)
    }
}
