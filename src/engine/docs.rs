//! The OpenAPI descriptions of the generic handlers, one per operation, from what a
//! resource declares: its names, its list spec, its body and item schemas, and its
//! own validation (a field is `required` in the document when validating a body
//! without it says "is required").

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{PartialSchema, ToSchema};

use super::{Resource, Target};
use crate::platform::error::AppError;
use crate::platform::openapi::problems::{
    BadParameter, BadToken, BodyWrite, Conflict, Forbidden, NoToken, NotFound, PreconditionFailed,
    Unavailable,
};
use crate::platform::openapi::schemas::{self, BodyUse};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{ListMeta, openapi};
use crate::platform::validate::{REQUIRED, Slug};

/// The body media types of POST and PUT.
const JSON: &[&str] = &["application/json"];
/// PATCH takes a merge patch, under its own media type or as plain JSON.
const MERGE_PATCH: &[&str] = &["application/merge-patch+json", "application/json"];

fn snake(name: &str) -> String {
    name.to_lowercase().replace(' ', "_")
}

/// "a page", "an impact metric".
pub fn a(name: &str) -> String {
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// The base of the schema names of a resource: `Page` of `PageItem`.
fn base<R: Resource>() -> String {
    let item = R::Item::name();
    item.strip_suffix("Item").unwrap_or(&item).to_owned()
}

/// The body fields a resource requires on creation, read from its validation.
pub fn required_fields<R: Resource>() -> Vec<String> {
    match R::validate(R::Body::default(), Target::NEW) {
        Err(AppError::Validation(errors)) => errors
            .into_iter()
            .filter(|error| error.detail == REQUIRED)
            .map(|error| error.pointer.trim_start_matches('/').to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// An operation of `R`, with its scope's path parameter if it is nested.
fn operation<R: Resource>(verb: &str, name: &str, summary: String) -> Doc {
    let doc = Doc::new(
        format!("{verb}_{}", snake(name)),
        R::DESCRIPTOR.tag.name,
        summary,
    );
    match &R::DESCRIPTOR.parent {
        Some(parent) => doc.typed_path_param(parent.param.0, Some(parent.param.1), Slug::schema()),
        None => doc,
    }
}

/// An operation on one item of `R`.
fn on_item<R: Resource>(verb: &str, summary: String) -> Doc {
    on_item_named::<R>(verb, R::DESCRIPTOR.name, summary)
}

/// An operation on one item of `R` whose id is `verb` and `name` (`list`,
/// `page_revisions`: `list_page_revisions`).
pub fn on_item_named<R: Resource>(verb: &str, name: &str, summary: String) -> Doc {
    operation::<R>(verb, name, summary).typed_path_param(
        R::DESCRIPTOR.key_description,
        Some(R::DESCRIPTOR.key_example),
        R::Key::schema(),
    )
}

/// The schema of a body of `R` for one use, registered under its name.
fn body_schema<R: Resource>(doc: Doc, usage: BodyUse) -> (Doc, String) {
    let name = usage.name(&base::<R>());
    let mut schema = schemas::body(
        R::Body::schema(),
        &required_fields::<R>(),
        R::DESCRIPTOR.key,
        usage,
    );
    if usage == BodyUse::Patch && !R::DESCRIPTOR.operations.rename {
        schema = schemas::without(schema, R::DESCRIPTOR.key);
    }
    (
        doc.dependencies_of::<R::Body>()
            .schema_named(name.clone(), schema),
        name,
    )
}

/// The answer to a write: the complete item, with its tag.
fn item_answer<R: Resource>(status: u16, description: &str) -> Answer {
    Answer::json(status, description, &R::Item::name()).header("ETag", "The item's new tag")
}

/// Who may read `R`, in words, the security of a read, and its 401s and 403s.
fn reading<R: Resource>(doc: Doc) -> (Doc, &'static str) {
    match R::DESCRIPTOR.read {
        None => (
            doc.security(Security::Public).problems::<BadToken>(),
            "Anonymous callers see only what is published, and whose publication date has \
             passed; a token with the right to read drafts shows everything.",
        ),
        Some(permission) => (
            doc.security(Security::Needs(permission))
                .problems::<(NoToken, Forbidden)>(),
            "Admins only.",
        ),
    }
}

pub fn list<R: Resource>() -> Doc {
    listing::<R>(operation::<R>(
        "list",
        R::DESCRIPTOR.plural,
        format!("List {}", R::DESCRIPTOR.plural),
    ))
}

/// The list of a nested resource across every scope: observations of every metric.
pub fn list_everywhere<R: Resource>() -> Doc {
    let doc = Doc::new(
        format!("list_all_{}", snake(R::DESCRIPTOR.plural)),
        R::DESCRIPTOR.tag.name,
        format!(
            "List {} across everything they belong to",
            R::DESCRIPTOR.plural
        ),
    );
    listing::<R>(doc)
}

fn listing<R: Resource>(doc: Doc) -> Doc {
    let base = base::<R>();
    let sparse = format!("Sparse{base}");
    let list = format!("{base}List");
    let (doc, who) = reading::<R>(doc);
    let csv = if R::DESCRIPTOR.csv.is_some() {
        " With `Accept: text/csv` the page comes as CSV (RFC 4180, a header row, the columns \
         `fields` picks), formulas made inert."
    } else {
        ""
    };
    let mut answer = Answer::json(200, &format!("A page of {}", R::DESCRIPTOR.plural), &list)
        .header("ETag", "The answer's tag, for If-None-Match")
        .header("Link", "first, prev, next and last pages (RFC 8288)");
    if R::DESCRIPTOR.csv.is_some() {
        answer = answer.also(
            "text/csv",
            ObjectBuilder::new().schema_type(Type::String).into(),
        );
    }
    let mut doc = doc
        .describe(format!(
            "One page of {plural}. {who} Filter, sort, search and pick fields with the \
             parameters below; the `Link` header points to the other pages.{csv}",
            plural = R::DESCRIPTOR.plural
        ))
        .params(openapi::list_parameters(R::DESCRIPTOR.spec))
        .item_schema::<R::Item>()
        .schema::<ListMeta>()
        .schema_named(sparse.clone(), schemas::sparse::<R::Item>())
        .schema_named(list.clone(), schemas::list_of(&sparse))
        .answer(answer)
        .answer(Answer::not_modified())
        .problems::<(BadParameter, Unavailable)>();
    if R::DESCRIPTOR.parent.is_some() {
        doc = doc.problems::<NotFound>();
    }
    doc
}

pub fn get<R: Resource>() -> Doc {
    let sparse = format!("Sparse{}", base::<R>());
    let (doc, who) = reading::<R>(on_item::<R>(
        "get",
        format!("Read {}", a(R::DESCRIPTOR.name)),
    ));
    doc.describe(format!(
        "{} by its key. {who} What a caller may not see is a 404, exactly as if it did not \
         exist. Every field is there unless `fields` picks some.",
        capitalised(&a(R::DESCRIPTOR.name))
    ))
    .params(openapi::item_parameters(R::DESCRIPTOR.spec))
    .item_schema::<R::Item>()
    .schema_named(sparse.clone(), schemas::sparse::<R::Item>())
    .answer(
        Answer::json(200, &format!("The {}", R::DESCRIPTOR.name), &sparse)
            .header("ETag", "Send it back in If-Match to update safely"),
    )
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NotFound, Unavailable)>()
}

pub fn create<R: Resource>() -> Doc {
    let doc = operation::<R>(
        "create",
        R::DESCRIPTOR.name,
        format!("Create {}", a(R::DESCRIPTOR.name)),
    )
    .describe(format!(
        "Creates {}{}. Read-only fields in the body are ignored.",
        a(R::DESCRIPTOR.name),
        if R::DESCRIPTOR.read.is_none() {
            " (a draft unless `status` says otherwise)"
        } else {
            ""
        }
    ))
    .security(Security::Needs(R::DESCRIPTOR.write));
    let (doc, body) = body_schema::<R>(doc, BodyUse::Create);
    let doc = doc.body(body, JSON).item_schema::<R::Item>();
    let (doc, created) = match R::DESCRIPTOR.shown_once {
        None => (
            doc,
            item_answer::<R>(201, "Created; the body is the new item"),
        ),
        Some((field, description)) => {
            let name = format!("Created{}", base::<R>());
            let schema = serde_json::json!({"allOf": [
                {"$ref": format!("#/components/schemas/{}", R::Item::name())},
                {"type": "object", "required": [field],
                 "properties": {field: {"type": "string", "description": description}}}
            ]});
            (
                doc.schema_named(name.clone(), schemas::from_json(schema)),
                Answer::json(201, "Created; the body shows the secret, once", &name)
                    .header("ETag", "The item's new tag"),
            )
        }
    };
    let mut doc = doc
        .answer(created.header("Location", "Where it lives"))
        .problems::<BodyWrite>();
    if R::DESCRIPTOR.parent.is_some() {
        doc = doc.problems::<NotFound>();
    }
    doc
}

pub fn replace<R: Resource>() -> Doc {
    let doc = on_item::<R>(
        "replace",
        format!("Create or replace {}", a(R::DESCRIPTOR.name)),
    )
    .describe(format!(
        "Idempotent: creates the {name} at this key (201) or replaces it whole (200); \
             fields left out are cleared. The URL carries the key; a body read with GET can be \
             sent back unchanged, as read-only fields (and a key equal to the URL's) are \
             ignored. With `If-Match`, a stale tag is a 412 and nothing is written; \
             `If-None-Match: *` creates only. Preconditions are checked before the body. \
             A key that no item can have (a control character) is a 404.",
        name = R::DESCRIPTOR.name
    ))
    .security(Security::Needs(R::DESCRIPTOR.write))
    .params(schemas::precondition_headers());
    let (doc, body) = body_schema::<R>(doc, BodyUse::Replace);
    // 404: a key no item can have (a control character), or a metric that does not
    // exist for an observation.
    doc.body(body, JSON)
        .item_schema::<R::Item>()
        .answer(item_answer::<R>(200, "Replaced"))
        .answer(item_answer::<R>(201, "Created").header("Location", "Where it lives"))
        .problems::<BodyWrite>()
        .problems::<(NotFound, PreconditionFailed)>()
}

pub fn update<R: Resource>() -> Doc {
    let doc = on_item::<R>("update", format!("Update {}", a(R::DESCRIPTOR.name)))
        .describe(
            "A JSON merge patch (RFC 7396): the fields sent replace those of the item, `null` \
             clears an optional field, the others stay. Send it as application/merge-patch+json \
             or application/json. Changing the key moves the item (see Content-Location). \
             Preconditions are checked before the body.",
        )
        .security(Security::Needs(R::DESCRIPTOR.write))
        .params(schemas::precondition_headers());
    let (doc, body) = body_schema::<R>(doc, BodyUse::Patch);
    let doc = doc.body(body, MERGE_PATCH).item_schema::<R::Item>();
    let (doc, updated) = match R::DESCRIPTOR.refreshed {
        None => (doc, item_answer::<R>(200, "Updated")),
        Some((field, description)) => {
            let name = format!("Updated{}", base::<R>());
            let schema = serde_json::json!({"allOf": [
                {"$ref": format!("#/components/schemas/{}", R::Item::name())},
                {"type": "object",
                 "properties": {field: {"type": "string", "description": description}}}
            ]});
            (
                doc.schema_named(name.clone(), schemas::from_json(schema)),
                Answer::json(200, "Updated", &name).header("ETag", "The item's new tag"),
            )
        }
    };
    doc.answer(updated.header(
        "Content-Location",
        "Where the item lives now, if the patch changed its key",
    ))
    .problems::<BodyWrite>()
    .problems::<(NotFound, PreconditionFailed)>()
}

pub fn delete<R: Resource>() -> Doc {
    let mut params = schemas::precondition_headers();
    if let Some(cascade) = R::DESCRIPTOR.cascade {
        params.push(schemas::boolean_query("cascade", cascade));
    }
    on_item::<R>("delete", format!("Delete {}", a(R::DESCRIPTOR.name)))
        .describe(R::DESCRIPTOR.delete_does.unwrap_or("Deletes it."))
        .security(Security::Needs(R::DESCRIPTOR.write))
        .params(params)
        .answer(Answer::empty(204, "Deleted"))
        .problems::<(
            BadParameter,
            NoToken,
            Forbidden,
            NotFound,
            Conflict,
            PreconditionFailed,
            Unavailable,
        )>()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_grammar() {
        assert_eq!(a("impact metric"), "an impact metric");
        assert_eq!(a("observation"), "an observation");
        assert_eq!(a("Council Decision"), "a Council Decision");
        assert_eq!(a("page"), "a page");
        assert_eq!(snake("Annual Report"), "annual_report");
        assert_eq!(capitalised("an impact metric"), "An impact metric");
    }
}
