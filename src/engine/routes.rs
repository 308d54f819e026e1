//! The routes of a resource: the operations its descriptor lists, at its paths,
//! answered by the generic handlers and described from the same declarations.
//! Anonymous reads of content come from the read cache.

use super::{Resource, docs, read, write};
use crate::platform::routing::Table;

pub fn crud<R: Resource>(t: &mut Table) {
    let d = R::DESCRIPTOR;
    let operations = d.operations;
    let cached = d.read.is_none();
    let item = d.item_path();
    if operations.list {
        t.get_as(cached, d.path, read::list::<R>, docs::list::<R>);
    }
    if operations.create {
        t.post(d.path, write::create::<R>, docs::create::<R>);
    }
    if operations.get {
        t.get_as(cached, item.clone(), read::get::<R>, docs::get::<R>);
    }
    if operations.replace {
        t.put(item.clone(), write::replace::<R>, docs::replace::<R>);
    }
    if operations.update {
        t.patch(item.clone(), write::update::<R>, docs::update::<R>);
    }
    if operations.delete {
        t.delete(item, write::delete::<R>, docs::delete::<R>);
    }
}
