//! A resource as a `Kind`: what the features (the feed, history, search, webhooks,
//! export and import) and the wiring hold of a kind of content without knowing its
//! type. Every `Resource` is one; the registry of kinds (`content::KINDS`) lists
//! them, and every list of kinds reads it.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use actix_web::{HttpRequest, HttpResponse};
use diesel::PgConnection;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::transaction::{self, parse_body};
use super::write::{self, Put};
use super::{Descriptor, Resource, Target, docs, routes};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::AppResult;
use crate::platform::openapi::Doc;
use crate::platform::routing::Table;
use crate::platform::visibility::Access;

/// An answer that is still being made.
pub type Answering = Pin<Box<dyn Future<Output = AppResult<HttpResponse>>>>;

/// A kind of resource, without its type.
pub trait Kind: Sync + 'static {
    fn descriptor(&self) -> &'static Descriptor;

    /// Its routes: the operations its descriptor lists.
    fn routes(&self, table: &mut Table);

    /// Of these ids, those `access` may see now.
    fn visible(
        &self,
        conn: &mut PgConnection,
        ids: &[Uuid],
        access: Access,
    ) -> AppResult<HashSet<Uuid>>;

    /// Stored versions (the feed's entries) as anonymous readers may see them,
    /// beyond their references (`hide_references`): `Resource::hide_stored`.
    fn hide_stored(&self, conn: &mut PgConnection, values: &mut [Value]) -> AppResult<()>;

    /// Checks stored fields (an item of an export) as the API checks a body: the
    /// fields a body has, each valid.
    fn check(&self, item: &Map<String, Value>) -> AppResult<()>;

    /// The fields a body has: what a PUT writes.
    fn body_fields(&self) -> Vec<String>;

    /// A PUT of kept fields (a restore), through the one write path.
    fn restore(&self, db: Db, caller: Caller, req: HttpRequest, put: Put) -> Answering;

    /// An operation on one item, for the document: `verb` and `name` make its id.
    fn on_item(&self, verb: &str, name: &str, summary: String) -> Doc;

    /// The name of its item's schema, registered in `doc`.
    fn with_item_schema(&self, doc: Doc) -> (Doc, String);

    /// The names of the schemas its items are read in: the item's, its row's (what
    /// embeddings show) and the sparse one of reads with `fields`.
    fn read_schemas(&self) -> Vec<String>;
}

impl<R: Resource> Kind for R {
    fn descriptor(&self) -> &'static Descriptor {
        R::DESCRIPTOR
    }

    fn routes(&self, table: &mut Table) {
        routes::crud::<R>(table);
    }

    fn visible(
        &self,
        conn: &mut PgConnection,
        ids: &[Uuid],
        access: Access,
    ) -> AppResult<HashSet<Uuid>> {
        Ok(R::visible(conn, ids, access)?.into_iter().collect())
    }

    fn hide_stored(&self, conn: &mut PgConnection, values: &mut [Value]) -> AppResult<()> {
        R::hide_stored(conn, values)
    }

    fn check(&self, item: &Map<String, Value>) -> AppResult<()> {
        let fields: HashSet<String> = self.body_fields().into_iter().collect();
        let body: Map<String, Value> = item
            .iter()
            .filter(|(name, _)| fields.contains(*name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        // The key goes where the API takes it from: the body, or the URL.
        let key = R::DESCRIPTOR.key;
        let url_key = (!fields.contains(key))
            .then(|| item.get(key).and_then(Value::as_str))
            .flatten();
        // The item is a stored one: what no body writes (an asset's file) is in it.
        let stored = Value::Object(item.clone());
        let target = Target {
            kept: Some(&stored),
            ..Target::at(url_key)
        };
        R::validate(parse_body::<R>(body)?, target).map(|_| ())
    }

    fn body_fields(&self) -> Vec<String> {
        transaction::body_fields::<R>()
    }

    fn restore(&self, db: Db, caller: Caller, req: HttpRequest, put: Put) -> Answering {
        Box::pin(async move { write::put::<R>(&db, caller, &req, put).await })
    }

    fn on_item(&self, verb: &str, name: &str, summary: String) -> Doc {
        docs::on_item_named::<R>(verb, name, summary)
    }

    fn with_item_schema(&self, doc: Doc) -> (Doc, String) {
        (doc.item_schema::<R::Item>(), R::Item::name().into_owned())
    }

    fn read_schemas(&self) -> Vec<String> {
        let item = R::Item::name().into_owned();
        let base = item.strip_suffix("Item").unwrap_or(&item).to_owned();
        vec![item.clone(), base.clone(), format!("Sparse{base}")]
    }
}
