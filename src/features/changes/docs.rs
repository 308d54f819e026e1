//! The feed's description in the OpenAPI document.

use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};

use super::feed::{ChangeList, ChangeView, DEFAULT_PER_PAGE, FeedMeta, MAX_PER_PAGE, kind_names};
use crate::platform::openapi::problems::{BadParameter, BadToken, Gone, Unavailable};
use crate::platform::openapi::schemas::{comma_list, query_param};
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
    Doc::new("list_changes", "changes", "Follow the changes")
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
        .params([since, kinds, per_page])
        .schema::<ChangeList>()
        .schema::<ChangeView>()
        .schema::<FeedMeta>()
        .answer(Answer::json(200, "The entries", "ChangeList").header("ETag", "The answer's tag"))
        .answer(Answer::not_modified())
        .problems::<(BadParameter, BadToken, Gone, Unavailable)>()
}
