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

/// HTML rendered from Markdown with its asset images' `width` and `height` (an
/// asset's never change); an image of an asset that does not exist is refused, as
/// `field`'s mistake.
pub fn sized_images(
    conn: &mut diesel::PgConnection,
    html: &str,
    field: &str,
) -> crate::platform::error::AppResult<String> {
    use crate::content::markdown::images;
    use diesel::RunQueryDsl;
    use diesel::sql_types::{Array, Nullable, Uuid as SqlUuid};
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = SqlUuid)]
        id: uuid::Uuid,
        #[diesel(sql_type = Nullable<diesel::sql_types::Int4>)]
        width: Option<i32>,
        #[diesel(sql_type = Nullable<diesel::sql_types::Int4>)]
        height: Option<i32>,
    }
    let ids = images::named(html);
    if ids.is_empty() {
        return Ok(html.to_owned());
    }
    let sizes: Vec<Size> =
        diesel::sql_query("SELECT id, width, height FROM assets WHERE id = ANY($1)")
            .bind::<Array<SqlUuid>, _>(&ids)
            .load(conn)?;
    if let Some(missing) = ids
        .iter()
        .find(|id| !sizes.iter().any(|size| size.id == **id))
    {
        return Err(crate::platform::error::FieldError::coded(
            crate::platform::error::codes::UNKNOWN_REFERENCE,
            format!("/{field}"),
            format!("names the image asset:{missing}, and there is no asset {missing}"),
        )
        .into());
    }
    Ok(images::sized(html, |id| {
        sizes
            .iter()
            .find(|size| size.id == id)
            .and_then(|size| size.width.zip(size.height))
    }))
}
