//! Sync for partners' systems: batch upserts of observations by natural key, in
//! JSON or CSV (`batch`).

pub mod batch;
