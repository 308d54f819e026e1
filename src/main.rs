//! The `seesac-api` binary: parse the command line, initialise logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use seesac_api::app::cli::{self, Cli};

/// jemalloc, with a background thread that gives freed memory back to the system
/// within a second (its options are compiled in: `.cargo/config.toml`). glibc's
/// allocator kept a service that had answered a few large requests (a password
/// check takes 7 MiB) at several times its size for good.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    seesac_api::platform::db::init_tls();
    // A missing .env file is the normal case, not an error.
    let _ = dotenvy::dotenv();
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match std::env::var("SEESAC_LOG_FORMAT").as_deref().map(str::trim) {
        Ok("json") => {
            logger.format(seesac_api::platform::observe::json_line);
        }
        Ok("text" | "") | Err(_) => {}
        Ok(other) => {
            eprintln!("seesac-api: SEESAC_LOG_FORMAT must be text or json, not {other:?}");
            return ExitCode::FAILURE;
        }
    }
    logger.init();
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("seesac-api: {error}");
            ExitCode::FAILURE
        }
    }
}
