//! The pieces the OpenAPI document is made of, shared by every module that
//! describes an operation (the document itself is assembled in `apidoc`, from the
//! route table):
//!
//! - `operation`: `Doc`, the description of one operation;
//! - `params`: parameters in the query or a header;
//! - `problems`: the error answers, declared as types;
//! - `schemas`: schemas derived from a resource's body and item (create, replace,
//!   patch; complete and sparse items);
//! - `security`: who may call an operation.

pub mod localised;
pub mod operation;
pub mod params;
pub mod problems;
pub mod schemas;
pub mod security;

pub use operation::{Answer, Doc};
pub use security::Security;
