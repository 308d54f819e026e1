//! The feed's description in the OpenAPI document.

use serde_json::{Map, Value, json};
use utoipa::PartialSchema;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};

use super::feed::{ChangeList, ChangeView, DEFAULT_PER_PAGE, FeedMeta, MAX_PER_PAGE, kind_names};
use crate::content::KINDS;
use crate::platform::openapi::problems::{BadParameter, BadToken, Gone, Unavailable};
use crate::platform::openapi::schemas::{comma_list, from_json, query_param, to_json};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query;

pub fn list_changes_doc() -> Doc {
    let since = query_param(
        "since",
        "A cursor (`meta.next` of an earlier answer, or an entry's `cursor`): the entries \
         after it. `0` (the default) is the start of the log; `now` gives no entries and the \
         cursor of the head, to follow from after a full sync. A cursor past the head is a 400.",
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^(0|[1-9][0-9]{0,17})$")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["now"])),
            ),
    );
    let kinds = comma_list(
        "type",
        "Only entries of these kinds, comma-separated.",
        kind_names(),
        query::MAX_LIST_VALUES,
    );
    let per_page = query_param(
        "per_page",
        "Entries per answer.",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1.0))
            .maximum(Some(MAX_PER_PAGE as f64))
            .default(Some(json!(DEFAULT_PER_PAGE))),
    );
    let doc = Doc::new("list_changes", "changes", "Follow the changes")
        .describe(
            "The change log after a cursor, oldest first. An entry keeps its meaning: read \
             again, it has the same action and version, and it carries the item's stored fields \
             at that version, to a caller who may see the item now (`item` is null otherwise). \
             Anonymous callers see the public site change (publishing is a creation; \
             unpublishing, archiving and deleting are tombstones; a draft edited does not show; \
             a scheduled publication shows when its time comes); a token that may read drafts \
             sees every write, and `published`/`unpublished` when what anonymous readers see \
             changed without a new version. Keep `meta.next` and ask again from there. The feed \
             follows the commits within a fraction of a second. A cursor before the log's \
             horizon (history pruned by an operator) is a 410, and the sync starts over.",
        )
        .security(Security::Public)
        .params([since, kinds, per_page]);
    typed_entries(doc)
        .schema::<FeedMeta>()
        .answer(Answer::json(200, "The entries", "ChangeList").header("ETag", "The answer's tag"))
        .answer(Answer::not_modified())
        .problems::<(BadParameter, BadToken, Gone, Unavailable)>()
}

/// The feed's entries as a union told apart by `type`, so that a generated client
/// narrows an entry's `item` by its kind: for each kind, `{Kind}Change`, whose
/// `item` is the kind's item as stored (every field optional, as a sparse read)
/// or a translation at one of its versions, or null.
fn typed_entries(mut doc: Doc) -> Doc {
    let entry = to_json(ChangeView::schema());
    let mut variants = Vec::new();
    let mut mapping = Map::new();
    for kind in KINDS {
        let names = kind.read_schemas();
        let Some(sparse) = names.iter().find(|name| name.starts_with("Sparse")) else {
            continue;
        };
        let name = format!("{}Change", &sparse["Sparse".len()..]);
        let reference = format!("#/components/schemas/{name}");
        let mut schema = entry.clone();
        if let Some(object) = schema.as_object_mut() {
            object.remove("example");
        }
        let kind_name = kind.descriptor().kind;
        schema["properties"]["type"] = json!({"type": "string", "enum": [kind_name]});
        schema["properties"]["item"] = json!({
            "description": "The item's stored fields at this version, if the caller may see \
                the item now; null otherwise. A translation's entry: the translation at this \
                version.",
            "anyOf": [
                {"type": "null"},
                {"$ref": format!("#/components/schemas/{sparse}")},
                {"$ref": "#/components/schemas/TranslationVersion"}
            ]
        });
        doc = doc.schema_named(name, from_json(schema));
        variants.push(json!({"$ref": reference}));
        mapping.insert(kind_name.to_owned(), Value::String(reference));
    }
    let mut list = to_json(ChangeList::schema());
    list["properties"]["data"]["items"] = json!({
        "oneOf": variants,
        "discriminator": {"propertyName": "type", "mapping": mapping}
    });
    doc.schema_named("ChangeList", from_json(list))
        .schema_named("TranslationVersion", from_json(translation_version()))
}

/// A translation at one of its versions, as the feed and revisions keep it.
fn translation_version() -> Value {
    json!({
        "type": "object",
        "description": "A translation at one of its versions.",
        "required": ["locale", "status", "fields", "source_version", "version"],
        "properties": {
            "locale": {"type": "string", "examples": ["sq"]},
            "status": {"type": "string", "enum": ["draft", "published"]},
            "fields": {"type": "object", "description": "The translated fields."},
            "source_version": {"type": "integer", "description": "The item's version it was translated from."},
            "version": {"type": "integer"}
        }
    })
}
