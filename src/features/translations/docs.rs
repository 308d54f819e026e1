//! The routes of translations, for every kind with translatable fields, and how
//! the document describes them.

use actix_web::{HttpRequest, web};
use serde_json::{Map, json};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, path::Parameter};

use super::stored::Translation;
use super::write::{self, Asked};
use crate::engine::docs::a;
use crate::engine::{Descriptor, Kind};
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::openapi::problems::{
    BadParameter, BodyWrite, Forbidden, NoToken, NotFound, PreconditionFailed, Unavailable,
};
use crate::platform::openapi::{Answer, Doc, Security, schemas};
use crate::platform::routing::Table;

/// `{item}/translations` and `{item}/translations/{locale}` for each kind of
/// `kinds` with translatable fields (and no scope: observations have none).
pub fn routes(t: &mut Table, kinds: &'static [&'static dyn Kind]) {
    for &kind in kinds {
        let d = kind.descriptor();
        if d.spec.translatable().next().is_none() || d.parent.is_some() {
            continue;
        }
        let base = format!("{}/translations", d.item_path());
        let one = format!("{base}/{{locale}}");
        let asked = move |db: Db, caller: Caller, req: HttpRequest| Asked {
            kind,
            db,
            caller,
            req,
        };
        t.get(
            base,
            move |db, caller, req| write::list(asked(db, caller, req)),
            move || list_doc(kind),
        );
        t.get(
            one.clone(),
            move |db, caller, req| write::get(asked(db, caller, req)),
            move || get_doc(kind),
        );
        t.put(
            one.clone(),
            move |db, caller, req, payload: web::Payload| {
                write::put(asked(db, caller, req), payload)
            },
            move || write_doc(kind, false),
        );
        t.patch(
            one.clone(),
            move |db, caller, req, payload: web::Payload| {
                write::patch(asked(db, caller, req), payload)
            },
            move || write_doc(kind, true),
        );
        t.delete(
            one,
            move |db, caller, req| write::delete(asked(db, caller, req)),
            move || delete_doc(kind),
        );
    }
}

/// The path parameter of a translation's locale.
pub fn locale_param(doc: Doc) -> Doc {
    let tag = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"))
        .max_length(Some(35));
    doc.typed_path_param(
        "An enabled locale other than the default (GET /api/v1/locales)",
        Some("sq"),
        tag.into(),
    )
}

fn on_translation(kind: &'static dyn Kind, verb: &str, summary: String) -> Doc {
    let d = kind.descriptor();
    locale_param(kind.on_item(verb, &format!("{}_translation", d.name), summary))
}

/// The body of a translation of `d`: its translatable fields and a status.
fn body_schema(d: &Descriptor, merge: bool) -> RefOr<Schema> {
    let mut fields = Map::new();
    for field in d.spec.translatable() {
        let max = field.translatable.unwrap_or_default();
        let schema = match field.translated_in {
            // A list translated in place: the texts, in order.
            Some(key) => json!({"type": ["array", "null"], "maxItems": 50,
                "items": {"type": ["string", "null"], "maxLength": max},
                "description": format!("The `{key}` of each of the {} that has one, in \
                this locale, in order (a page's Markdown blocks); null or empty for one left \
                to the fallback", field.name)}),
            None => json!({"type": ["string", "null"], "maxLength": max,
                "description": format!("The {} in this locale; empty or left out: the \
                fallback's is shown", field.name.replace('_', " "))}),
        };
        fields.insert(field.name.to_owned(), schema);
    }
    let dropping = if merge {
        " A field sent as null is no longer translated."
    } else {
        " A field left out is not translated."
    };
    serde_json::from_value(json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "fields": {"type": "object", "additionalProperties": false, "properties": fields,
                       "description": format!("The translated fields.{dropping}")},
            "status": {"type": ["string", "null"], "enum": ["draft", "published", null],
                       "description": "Default `draft` (a merge patch keeps it): readers see a \
                       published translation of an item they may see."},
            "key": {"description": "Read-only, ignored"},
            "locale": {"description": "Read-only, ignored"},
            "outdated": {"description": "Read-only, ignored"},
            "source_version": {"description": "Read-only, ignored"},
            "version": {"description": "Read-only, ignored"},
            "created_at": {"description": "Read-only, ignored"},
            "updated_at": {"description": "Read-only, ignored"}
        }
    }))
    .unwrap_or_else(|_| RefOr::T(Schema::default()))
}

fn schema_name(d: &Descriptor, merge: bool) -> String {
    let base: String = d
        .name
        .split(' ')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    format!("{base}Translation{}", if merge { "Patch" } else { "" })
}

pub fn list_doc(kind: &'static dyn Kind) -> Doc {
    let d = kind.descriptor();
    let list = ObjectBuilder::new()
        .property(
            "data",
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(utoipa::openapi::Ref::from_schema_name(Translation::name())),
        )
        .required("data");
    kind.on_item(
        "list",
        &format!("{}_translations", d.name),
        format!("List the translations of {}", a(d.name)),
    )
    .describe(format!(
        "Every translation of the {}, by locale, with the fields whose source has changed \
         since they were translated (`outdated`). Editors, and tokens that read drafts.",
        d.name
    ))
    .security(Security::Needs(Permission::ReadDrafts))
    .schema::<Translation>()
    .answer(Answer::with_content(
        200,
        "Its translations",
        "application/json",
        list.into(),
    ))
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}

pub fn get_doc(kind: &'static dyn Kind) -> Doc {
    let d = kind.descriptor();
    on_translation(kind, "get", format!("Read a translation of {}", a(d.name)))
        .describe("One translation, with its own version and ETag.")
        .security(Security::Needs(Permission::ReadDrafts))
        .schema::<Translation>()
        .answer(
            Answer::json(200, "The translation", &Translation::name()).header("ETag", "Its tag"),
        )
        .answer(Answer::not_modified())
        .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}

pub fn write_doc(kind: &'static dyn Kind, merge: bool) -> Doc {
    let d = kind.descriptor();
    let (verb, summary, describe) = if merge {
        (
            "update",
            format!("Update a translation of {}", a(d.name)),
            "A JSON merge patch of the translation's `fields` and `status`.",
        )
    } else {
        (
            "replace",
            format!("Create or replace a translation of {}", a(d.name)),
            "The translation whole: its fields (only those the kind translates; keys, numbers, \
             dates and references are the same in every locale) and its status. It records \
             the item's version and values it translates, so that a later change of the source \
             marks a field `outdated`. With `If-Match`, a stale tag is a 412.",
        )
    };
    let name = schema_name(d, merge);
    let media = if merge {
        &["application/merge-patch+json", "application/json"][..]
    } else {
        &["application/json"][..]
    };
    let params: Vec<Parameter> = schemas::precondition_headers();
    let doc = on_translation(kind, verb, summary)
        .describe(describe)
        .security(Security::Needs(Permission::WriteTranslations))
        .params(params)
        .schema_named(&name, body_schema(d, merge))
        .body(name, media)
        .schema::<Translation>()
        .answer(Answer::json(200, "Written", &Translation::name()).header("ETag", "Its tag"));
    let doc = if merge {
        doc
    } else {
        doc.answer(
            Answer::json(201, "Created", &Translation::name())
                .header("ETag", "Its tag")
                .header("Location", "Where it lives"),
        )
    };
    doc.problems::<BodyWrite>()
        .problems::<(NotFound, PreconditionFailed)>()
}

pub fn delete_doc(kind: &'static dyn Kind) -> Doc {
    let d = kind.descriptor();
    on_translation(
        kind,
        "delete",
        format!("Delete a translation of {}", a(d.name)),
    )
    .describe("Readers see the fallback's fields again. With `If-Match`, a stale tag is a 412.")
    .security(Security::Needs(Permission::WriteTranslations))
    .params(schemas::precondition_headers())
    .answer(Answer::empty(204, "Deleted"))
    .problems::<(BadParameter, NoToken, Forbidden, Unavailable)>()
    .problems::<(NotFound, PreconditionFailed)>()
}
