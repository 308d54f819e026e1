//! The pieces the OpenAPI document is made of, shared by every module that
//! describes an operation (the document itself is assembled in `apidoc`, from the
//! route table):
//!
//! - `operation`: `Doc`, the description of one operation;
//! - `problems`: the error answers, declared as types;
//! - `schemas`: schemas derived from a resource's body and item (create, replace,
//!   patch; complete and sparse items).

pub mod localised;
pub mod operation;
pub mod problems;
pub mod schemas;

pub use operation::{Answer, Doc, Security};
