//! `export` and `import`: the content as one JSON document on standard output, and
//! such a document loaded back, with a progress bar on a terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::{open, open_existing};
use crate::app::config::Config;
use crate::features::transfer;
use crate::platform::error::AppError;
use crate::platform::storage::FileStore;

pub(super) fn export(config: &Config) -> Result<(), String> {
    let (_database, mut conn) = open_existing(config)?;
    let document = transfer::export(&mut conn).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
    text.push('\n');
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the export: {e}"))
}

pub(super) fn import(config: &Config, file: &Path, replace: bool) -> Result<(), String> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let document: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
    let (_database, mut conn) = open(config)?;
    let bar = ProgressBar::shown_on_a_terminal();
    let mode = if replace {
        transfer::Mode::Replace
    } else {
        transfer::Mode::Merge
    };
    let imported = transfer::import(&mut conn, &document, mode, &bar);
    bar.finish();
    match imported {
        Ok(imported) => {
            println!("imported {}:\n{imported}", file.display());
            let missing = missing_files(&mut conn, &config.limits.uploads.store)?;
            if missing > 0 {
                eprintln!(
                    "warning: {missing} assets name files this instance's store does not hold: \
                     copy the assets/ directory of the source's data directory into \
                     {}, or set SEESAC_STORAGE_URL to the bucket that holds them",
                    config.data_dir.display()
                );
            }
            Ok(())
        }
        Err(error) => Err(import_failure(&error)),
    }
}

/// How many assets name a file the store holds neither on disk nor in its bucket:
/// an export carries the assets' metadata, not their bytes.
fn missing_files(conn: &mut diesel::PgConnection, store: &FileStore) -> Result<usize, String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sha256: String,
    }
    let hashes: Vec<Hash> = diesel::sql_query("SELECT DISTINCT sha256 FROM assets")
        .load(conn)
        .map_err(|e| e.to_string())?;
    let names: Vec<String> = hashes
        .iter()
        .map(|hash| FileStore::name_of(&hash.sha256))
        .filter(|name| !store.local(name).is_file())
        .collect();
    let Some(remote) = store.remote() else {
        return Ok(names.len());
    };
    actix_web::rt::System::new().block_on(async {
        let mut missing = 0;
        for name in &names {
            if !remote.has(name).await.map_err(|e| e.to_string())? {
                missing += 1;
            }
        }
        Ok(missing)
    })
}

/// Why an import failed, every bad item on a line of its own.
fn import_failure(error: &AppError) -> String {
    let mut message = format!("nothing was imported: {error}");
    let errors = match error {
        AppError::Validation(errors) | AppError::Conflict { errors, .. } => errors.as_slice(),
        _ => &[],
    };
    for e in errors {
        message.push_str(&format!("\n  {}: {}", e.pointer, e.detail));
    }
    message
}

/// An import's progress bar, drawn on standard error when it is a terminal.
struct ProgressBar(indicatif::ProgressBar);

impl ProgressBar {
    fn shown_on_a_terminal() -> Self {
        let bar = if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::new(0)
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} items {msg}")
        {
            bar.set_style(style);
        }
        Self(bar)
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl transfer::Progress for ProgressBar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }

    fn advance(&self, items: u64, doing: &str) {
        self.0.inc(items);
        self.0.set_message(doing.to_owned());
    }
}
