//! The wiring at the top: the command line (`cli`), configuration (`config`),
//! start-up and background tasks (`startup`), the route table (`routes`), the
//! OpenAPI document (`apidoc`), the index and health checks (`ops`) and the sample
//! content (`seed`).

pub mod apidoc;
pub mod cli;
pub mod config;
pub mod ops;
pub mod routes;
pub mod seed;
pub mod startup;
