//! What admins manage besides content, each a resource on the engine: user
//! accounts (`users`; people log in with `login`), machine tokens (`tokens`) and the
//! partner organisations tokens write for (`partners`).

pub mod login;
pub mod me;
pub mod partners;
pub mod tokens;
pub mod users;

use crate::engine::Kind;

/// The admin resources on the engine.
pub static RESOURCES: &[&dyn Kind] = &[&users::Users, &partners::Partners, &tokens::Tokens];
