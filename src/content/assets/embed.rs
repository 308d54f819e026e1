//! The assets items of other kinds use (a funder's logo, a page's image), embedded
//! with `include=`: read as the assets collection reads them (what the reader may
//! see, in the reader's locale, with their `url` and links), in one query per 100
//! assets whatever the number of items.

use std::collections::HashMap;

use diesel::PgConnection;
use serde_json::Value;
use uuid::Uuid;

use super::Assets;
use crate::engine::read;
use crate::platform::error::AppResult;
use crate::platform::query::View;
use crate::platform::visibility::Access;

/// The assets of a page of items, by id, if the view includes them.
pub struct Embedded {
    included: bool,
    found: HashMap<Uuid, Value>,
}

impl Embedded {
    /// The assets `id_of` names in `rows`, read only if the view includes `name`.
    pub fn load<Row>(
        conn: &mut PgConnection,
        view: &View,
        name: &str,
        rows: &[Row],
        id_of: impl Fn(&Row) -> Option<Uuid>,
        access: Access,
    ) -> AppResult<Self> {
        let included = view.includes(name);
        let mut found = HashMap::new();
        if included {
            let mut ids: Vec<Uuid> = rows.iter().filter_map(id_of).collect();
            ids.sort_unstable();
            ids.dedup();
            for chunk in ids.chunks(100) {
                let listed: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
                let query = format!("per_page=100&id[in]={}", listed.join(","));
                for item in read::select::<Assets>(conn, &query, None, view, access)? {
                    if let Some(id) = item["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()) {
                        found.insert(id, item);
                    }
                }
            }
        }
        Ok(Self { included, found })
    }

    /// What an item that names `id` embeds: `None` without the include (the item
    /// leaves the field out), else the asset, or null if it has none the reader
    /// may see.
    pub fn take(&mut self, id: Option<Uuid>) -> Option<Option<Value>> {
        self.included
            .then(|| id.and_then(|id| self.found.get(&id).cloned()))
    }
}
