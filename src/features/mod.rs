//! Features that plug into the engine: the change log and its feed (`changes`),
//! revisions and the audit log (`history`), `webhooks`, export and import
//! (`transfer`), `search` and localised content (`translations`). Only the wiring in `app` names them.

pub mod changes;
pub mod history;
pub mod search;
pub mod transfer;
pub mod translations;
pub mod webhooks;
