//! What admins manage besides content: user accounts (`users`, with the login),
//! machine tokens (`tokens`) and the partner organisations tokens write for
//! (`partners`).

pub mod partners;
pub mod tokens;
pub mod users;

use crate::engine::Kind;

/// The admin resources on the engine.
pub static RESOURCES: &[&dyn Kind] = &[&partners::Partners];
