//! The OpenAPI descriptions of history's operations, for any kind, and its routes:
//! the revisions of every registered kind, and the audit log.

use utoipa::ToSchema;

use super::revisions::{self as rev, Asked, JSON_PATCH, Revision, RevisionList};
use crate::engine::Kind;
use crate::engine::docs::a;
use crate::features::translations::{self, Translation};
use crate::platform::auth::Permission;
use crate::platform::openapi::problems::{
    BadBody, BadParameter, Conflict, Forbidden, Invalid, NoToken, NotFound, PreconditionFailed,
    Unavailable,
};
use crate::platform::openapi::{Answer, Doc, Security, schemas};
use crate::platform::query::{self, ListMeta};
use crate::platform::routing::Table;

/// Whose revisions an operation is about: an item's, or its translation's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Of {
    Items,
    Translations,
}

impl Of {
    /// An operation on the item (or translation) of `kind`: `verb` and `name`
    /// (`page_revisions`, or `page_translation_revisions`) make its id.
    fn on(self, kind: &'static dyn Kind, verb: &str, name: &str, summary: String) -> Doc {
        let d = kind.descriptor();
        match self {
            Self::Items => kind.on_item(verb, &format!("{}_{name}", d.name), summary),
            Self::Translations => translations::locale_param(kind.on_item(
                verb,
                &format!("{}_translation_{name}", d.name),
                format!("{summary}'s translation"),
            )),
        }
    }

    /// What the versions are of, in a sentence.
    fn noun(self, kind: &'static dyn Kind) -> String {
        match self {
            Self::Items => kind.descriptor().name.to_owned(),
            Self::Translations => format!("{}'s translation", kind.descriptor().name),
        }
    }
}

/// The revisions of every kind, under each item's path, and of each translation of
/// the kinds with translatable fields, under its path.
pub fn routes(t: &mut Table, kinds: &'static [&'static dyn Kind]) {
    for &kind in kinds {
        let d = kind.descriptor();
        let item = d.item_path();
        revision_routes(t, kind, &item, Of::Items);
        if d.spec.translatable().next().is_some() && d.parent.is_none() {
            let translation = format!("{item}/translations/{{locale}}");
            revision_routes(t, kind, &translation, Of::Translations);
        }
    }
}

fn revision_routes(t: &mut Table, kind: &'static dyn Kind, path: &str, of: Of) {
    let base = format!("{path}/revisions");
    let one = format!("{base}/{{version}}");
    t.get(base, Asked::handler(kind, rev::list), move || {
        list_doc(kind, of)
    });
    t.get(one.clone(), Asked::handler(kind, rev::get), move || {
        get_doc(kind, of)
    });
    t.get(
        format!("{one}/diff"),
        Asked::handler(kind, rev::diff),
        move || diff_doc(kind, of),
    );
    t.post(
        format!("{one}/restore"),
        Asked::handler(kind, super::restore::restore),
        move || restore_doc(kind, of),
    );
}

/// The version's path parameter: a whole number from 1.
fn version_param(doc: Doc) -> Doc {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let number = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(i32::MAX));
    doc.typed_path_param("The version", Some("1"), number.into())
}

const WHO: &str = "Editors and admins only (a person's token; no API token scope reads history).";

pub fn list_doc(kind: &'static dyn Kind, of: Of) -> Doc {
    let d = kind.descriptor();
    of.on(
        kind,
        "list",
        "revisions",
        format!("List the revisions of {}", a(d.name)),
    )
    .describe(format!(
        "Every version of the {name} the service kept, newest first: the {name} as it is now \
             (`current`), then each version a write replaced, with who wrote it and when. A \
             deleted {name} keeps its revisions, so it can be restored under its key. A renamed \
             {name}'s earlier versions stay under its earlier key. {WHO}",
        name = of.noun(kind)
    ))
    .security(Security::Needs(Permission::ReadHistory))
    .params(query::openapi::paging_parameters())
    .schema::<Revision>()
    .schema::<RevisionList>()
    .schema::<ListMeta>()
    .answer(
        Answer::json(200, "A page of revisions", &RevisionList::name())
            .header("Link", "first, prev, next and last pages (RFC 8288)"),
    )
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}

pub fn get_doc(kind: &'static dyn Kind, of: Of) -> Doc {
    let d = kind.descriptor();
    version_param(of.on(
        kind,
        "get",
        "revision",
        format!("Read a revision of {}", a(d.name)),
    ))
    .describe(format!("One version of the {}. {WHO}", of.noun(kind)))
    .security(Security::Needs(Permission::ReadHistory))
    .schema::<Revision>()
    .answer(Answer::json(200, "The version", &Revision::name()))
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}

pub fn diff_doc(kind: &'static dyn Kind, of: Of) -> Doc {
    let d = kind.descriptor();
    let patch = utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::schema::ObjectBuilder::new())
        .into();
    version_param(of.on(
        kind,
        "diff",
        "revisions",
        format!("Compare two revisions of {}", a(d.name)),
    ))
    .describe(format!(
        "What changed from this version to version `to` (by default the {} as it is now), as a \
         JSON Patch (RFC 6902) over the kept fields: applied to this version's `item`, it gives \
         the other's. {WHO}",
        of.noun(kind)
    ))
    .security(Security::Needs(Permission::ReadHistory))
    .params([schemas::integer_query(
        "to",
        "The version to compare with; the current one if left out",
    )])
    .answer(Answer::with_content(
        200,
        "The JSON Patch",
        JSON_PATCH,
        patch,
    ))
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}

pub fn restore_doc(kind: &'static dyn Kind, of: Of) -> Doc {
    let d = kind.descriptor();
    let doc = of.on(
        kind,
        "restore",
        "revision",
        format!("Restore a revision of {}", a(d.name)),
    );
    let (doc, shown, about) = match of {
        Of::Items => {
            let (doc, item) = kind.with_item_schema(doc);
            let about = format!(
                "Writes this version's fields back as a new version, exactly as a PUT of them \
                 would: validated like any write, so a version whose references no longer hold \
                 (a parent that is gone) is a 422 and nothing is written, and under `If-Match`. \
                 It writes to the {name} this version belongs to, under the key it had then. A \
                 deleted {name} comes back with its own id and its next version (201); if \
                 another {name} holds the key by then, the restore is a 409. {WHO} Restoring \
                 needs the right to write the {name} too.",
                name = d.name
            );
            (doc, item, about)
        }
        Of::Translations => (
            doc.schema::<Translation>(),
            Translation::name().to_string(),
            format!(
                "Writes this version's fields and status back as the translation's next \
                 version, exactly as a PUT of them would (under `If-Match`); a deleted \
                 translation comes back (201). The {name} must be there. {WHO} Restoring needs \
                 the right to write translations too.",
                name = d.name
            ),
        ),
    };
    version_param(doc)
        .describe(about)
        .security(Security::Needs(Permission::ReadHistory))
        .params(schemas::precondition_headers())
        .answer(
            Answer::json(200, "Restored; the body is as it now is", &shown)
                .header("ETag", "The new tag"),
        )
        .answer(
            Answer::json(201, "Created again", &shown)
                .header("ETag", "The new tag")
                .header("Location", "Where it lives"),
        )
        .problems::<(
            BadBody,
            NoToken,
            Forbidden,
            NotFound,
            Conflict,
            PreconditionFailed,
            Invalid,
            Unavailable,
        )>()
}

pub fn list_audit_doc() -> Doc {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let text = |pattern: &str| -> utoipa::openapi::Schema {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .pattern(Some(pattern))
            .into()
    };
    let mut params = query::openapi::paging_parameters();
    params.extend([
        schemas::query_param(
            "actor",
            "Only writes by this actor (`user:anna`, `token:<id>`, `system:import`, \
             `database:<role>`).",
            text("^(user|token|system|database):[^\\x00]+$"),
        ),
        schemas::query_param(
            "type",
            "Only items of this type.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(super::audit::types())),
        ),
        schemas::query_param(
            "key",
            "Only the item with this key.",
            text("^[^\\x00]*[^\\x00 \\t\\n\\r\\x0b\\x0c][^\\x00]*$"),
        ),
        schemas::query_param(
            "since",
            "Only writes at or after this instant (RFC 3339, or a date: its midnight UTC).",
            query::openapi::instant(),
        ),
        schemas::query_param(
            "until",
            "Only writes before this instant (RFC 3339, or a date: its midnight UTC).",
            query::openapi::instant(),
        ),
    ]);
    Doc::new("list_audit", "audit", "Read the audit log")
        .describe(
            "Every write of every item, newest first: who (user or token, and its partner), \
             what (type, key, action, the versions before and after, the change as a JSON \
             Patch), when, the request's id and the client's address. Writes made outside the \
             service (psql) are there too, by their database role. Entries are never changed; \
             operators prune old ones with `seesac-api audit prune --before DATE`. Admins only.",
        )
        .security(Security::Needs(Permission::ReadAudit))
        .params(params)
        .schema::<super::audit::AuditEntry>()
        .schema::<super::audit::AuditList>()
        .schema::<ListMeta>()
        .answer(
            Answer::json(200, "A page of the audit log", "AuditList")
                .header("Link", "first, prev, next and last pages (RFC 8288)"),
        )
        .answer(Answer::not_modified())
        .problems::<(BadParameter, NoToken, Forbidden, Unavailable)>()
}
