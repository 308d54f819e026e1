//! HTTP plumbing shared by every endpoint:
//! - `body`: JSON request bodies (415, 413, 400 for what is not JSON);
//! - `reading`: a body's fields read into its type, each wrong one named (422);
//! - `conditional`: ETags, 304, `If-Match` (412) and caching headers;
//! - `csv`: CSV in and out;
//! - `links`: the `Link` header of a page of a list, and an item's `links`;
//! - `middleware`: problem+json for every error, `Server-Timing`.

pub mod body;
pub mod conditional;
pub mod csv;
pub mod links;
pub mod middleware;
pub mod reading;

pub use body::{BODY_LIMIT, is_json, json_object, parse_object};
pub use conditional::{
    Preconditions, etag_of, read, read_bytes, read_tagged, tags, written, written_tagged,
};
pub use links::{Links, as_links, link_header, page_links, read_page, read_page_in};
pub use reading::from_object;
