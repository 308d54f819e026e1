//! History: the versions an item had (`revisions`) and the append-only audit log
//! of every write (`audit`), for editors and admins. Both read what the database
//! wrote in the writing transaction, whoever wrote: the change log's entries keep
//! every version of content, and the audit table what is not content. The service
//! says who it writes for with settings local to the transaction
//! (`engine::transaction::begin`).

pub mod audit;
pub mod docs;
pub mod restore;
pub mod revisions;

pub use docs::routes;
