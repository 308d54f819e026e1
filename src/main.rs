//! The `seesac-api` binary: parse the command line, initialise logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use seesac_api::cli::{self, Cli};

fn main() -> ExitCode {
    // A missing .env file is the normal case, not an error.
    let _ = dotenvy::dotenv();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("seesac-api: {error}");
            ExitCode::FAILURE
        }
    }
}
