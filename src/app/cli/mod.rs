//! The subcommands: `serve` (the default), `migrate`, `seed`, `users create`,
//! `export`, `import`, `audit prune`, `openapi`. Each finds its database the same way: `DATABASE_URL` if set, else the
//! embedded cluster under `$SEESAC_DATA_DIR`.

use std::io::{BufRead, IsTerminal, Write};
use std::net::TcpListener;

use clap::{Parser, Subcommand};
use diesel::PgConnection;

use crate::admin::users;
use crate::app::config::{Config, check_jwt_secret, check_signing_key};
use crate::app::startup::{self, AppState};
use crate::app::{apidoc, seed};
use crate::content::assets;
use crate::features::changes;
use crate::platform::auth::{JwtKeys, Role};
use crate::platform::db::cluster::{read_private, write_private};
use crate::platform::db::{self, embedded::Embedded};

mod transfer;

#[derive(Debug, Parser)]
#[command(
    name = "seesac-api",
    version,
    about = "The content REST API behind the SEESAC website",
    long_about = "The content REST API behind the SEESAC website.\n\n\
        Configuration comes from the environment (see the README): DATABASE_URL, \
        DATABASE_MIGRATION_URL, SEESAC_BIND, JWT_SECRET, SEESAC_DATA_DIR, SEESAC_CORS_ORIGINS, \
        SEESAC_PG_BINDIR, SEESAC_DB_POOL_SIZE, SEESAC_TRUSTED_PROXIES, SEESAC_WRITE_RATE_LIMIT, \
        SEESAC_HEADER_TIMEOUT, SEESAC_BODY_TIMEOUT, SEESAC_MAX_CONNECTIONS, SEESAC_METRICS_BIND, \
        SEESAC_UPLOAD_MAX_BYTES, SEESAC_UPLOAD_TIMEOUT, SEESAC_ASSET_LIMITS, SEESAC_STORAGE_URL, \
        SEESAC_LOG_FORMAT, RUST_LOG. Without DATABASE_URL, seesac-api runs its own PostgreSQL under SEESAC_DATA_DIR."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve {
        /// On the embedded default's first start, create the admin user but load no
        /// sample content (for an instance that an import will fill).
        #[arg(long, env = "SEESAC_NO_SAMPLE")]
        no_sample: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Load the sample content; items that exist are left alone.
    Seed,
    /// Manage user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Write all content (every type and status, partners; no users, no secrets)
    /// as one JSON document to standard output.
    Export,
    /// Load a document written by `export` (FILE, or - for standard input) in one
    /// transaction; items are matched by id, and items it does not hold are left
    /// (or, with --replace, deleted).
    Import {
        /// The document to load.
        file: std::path::PathBuf,
        /// Make the content equal to the file: delete every item and partner the
        /// file does not hold (the change log and history record it), for moving an
        /// instance to another that already has content, such as the sample.
        #[arg(long)]
        replace: bool,
    },
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Uploaded files.
    #[command(subcommand)]
    Assets(AssetsCommand),
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Delete the entries written before a date (YYYY-MM-DD, midnight UTC) or an
    /// instant (RFC 3339), as the schema's owner (DATABASE_MIGRATION_URL if set):
    /// the service's own role may not.
    Prune {
        #[arg(long, value_parser = parse_before)]
        before: chrono::DateTime<chrono::Utc>,
    },
}

/// An instant (RFC 3339) or a date (its midnight, UTC), as the API's lists take them.
fn parse_before(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    crate::platform::query::parse_instant(text).map_err(|detail| format!("--before {detail}"))
}

#[derive(Debug, Subcommand)]
pub enum AssetsCommand {
    /// Delete the assets nothing uses (no funder's logo, no page's image) that have
    /// not changed for an age (30d, 12h, 90m, 3600s), then the files no asset names
    /// and the unfinished uploads older than it.
    Prune {
        #[arg(long, value_parser = assets::prune::parse_age)]
        older_than: std::time::Duration,
        /// Say what would go, and delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: Role,
    },
}

pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command.unwrap_or(Command::Serve {
        no_sample: std::env::var("SEESAC_NO_SAMPLE").is_ok_and(|v| !v.is_empty() && v != "0"),
    }) {
        Command::Openapi => {
            print!("{}", apidoc::to_pretty_json()?);
            Ok(())
        }
        Command::Serve { no_sample } => serve(Config::from_env()?, !no_sample),
        Command::Migrate => {
            let (_database, _conn) = open(&Config::from_env()?)?;
            println!("the database is up to date");
            Ok(())
        }
        Command::Seed => {
            let (_database, mut conn) = open(&Config::from_env()?)?;
            let seeded = seed::load(&mut conn).map_err(|e| e.to_string())?;
            println!("{seeded}");
            Ok(())
        }
        Command::Export => transfer::export(&Config::from_env()?),
        Command::Import { file, replace } => transfer::import(&Config::from_env()?, &file, replace),
        Command::Audit(AuditCommand::Prune { before }) => {
            let database = database(&Config::from_env()?, true, false)?;
            drop(prepare(&database)?);
            let mut owner = db::connect(&database.migration_url)?;
            let (entries, audited) =
                changes::prune(&mut owner, before).map_err(|e| e.to_string())?;
            println!(
                "pruned the history written before {before}: {entries} entries of the change \
                 log (with the revisions they kept) and {audited} of the audit log"
            );
            Ok(())
        }
        Command::Assets(AssetsCommand::Prune {
            older_than,
            dry_run,
        }) => {
            let config = Config::from_env()?;
            let (_database, mut conn) = open_existing(&config)?;
            let store = &config.limits.uploads.store;
            let pruned = assets::prune::prune(&mut conn, store, older_than, dry_run)
                .map_err(|e| e.to_string())?;
            let verb = if dry_run { "would delete" } else { "deleted" };
            println!(
                "{verb} {} assets and {} files ({} bytes)",
                pruned.assets, pruned.files, pruned.bytes
            );
            Ok(())
        }
        Command::Users(UsersCommand::Create { username, role }) => {
            let config = Config::from_env()?;
            let password = read_password(&username)?;
            let (_database, mut conn) = open(&config)?;
            let user =
                users::create(&mut conn, &username, &password, role).map_err(|e| e.to_string())?;
            println!("created user {} ({})", user.username, user.role);
            Ok(())
        }
    }
}

/// The database a command works on, kept alive (and the embedded server running)
/// while it exists: `url` for the service's role, which reads and writes rows,
/// `migration_url` for the role that owns the schema.
pub(super) struct Database {
    url: String,
    migration_url: String,
    embedded: Option<Embedded>,
}

/// The database of `config`; the embedded default's is started (or joined, with
/// `shared`), and created if it does not exist only with `create`.
fn database(config: &Config, shared: bool, create: bool) -> Result<Database, String> {
    match (&config.database_url, &config.database_migration_url) {
        (None, Some(_)) => Err(
            "DATABASE_MIGRATION_URL is set without DATABASE_URL; the embedded default sets up \
             both roles itself"
                .to_owned(),
        ),
        (Some(url), migration_url) => Ok(Database {
            url: url.clone(),
            migration_url: migration_url.clone().unwrap_or_else(|| url.clone()),
            embedded: None,
        }),
        (None, None) => {
            let embedded = Embedded::start(
                &config.data_dir,
                config.pg_bindir.as_deref(),
                shared,
                create,
            )?;
            Ok(Database {
                url: embedded.url.clone(),
                migration_url: embedded.owner_url.clone(),
                embedded: Some(embedded),
            })
        }
    }
}

/// Migrates as the owner, grants the service's role its rows if it is another
/// role, and connects as the service's role.
fn prepare(database: &Database) -> Result<PgConnection, String> {
    let mut conn = db::connect(&database.url)?;
    if database.migration_url == database.url {
        db::migrate(&mut conn)?;
        return Ok(conn);
    }
    let role = db::current_role(&mut conn)?;
    let mut owner = db::connect(&database.migration_url)
        .map_err(|e| format!("{e} (DATABASE_MIGRATION_URL)"))?;
    db::migrate(&mut owner)?;
    if db::current_role(&mut owner)? != role {
        db::grant_rows_to(&mut owner, &role)?;
    }
    Ok(conn)
}

/// For the one-off commands that may create the database: it, migrated.
pub(super) fn open(config: &Config) -> Result<(Database, PgConnection), String> {
    let database = database(config, true, true)?;
    let conn = prepare(&database)?;
    Ok((database, conn))
}

/// For the commands that only read (or remove) what is there: the database, which
/// must exist already, migrated.
pub(super) fn open_existing(config: &Config) -> Result<(Database, PgConnection), String> {
    let database = database(config, true, false)?;
    let conn = prepare(&database)?;
    Ok((database, conn))
}

fn read_password(username: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for {username} (it will be shown): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err("no password on standard input; for example: echo 'a long passphrase' | seesac-api users create ...".into());
    }
    Ok(password)
}

fn serve(config: Config, sample: bool) -> Result<(), String> {
    // Refuse a bad configuration before anything is started.
    match (&config.database_url, &config.jwt_secret) {
        (Some(_), None) => {
            return Err(
                "JWT_SECRET is required with DATABASE_URL: at least 32 random bytes, for example \
                        the output of `openssl rand -hex 32`"
                    .to_owned(),
            );
        }
        (_, Some(secret)) => check_jwt_secret(secret)?,
        (None, None) => {}
    }
    let listener = TcpListener::bind(&config.bind)
        .map_err(|e| format!("cannot listen on {} (SEESAC_BIND): {e}", config.bind))?;
    let metrics = config
        .metrics_bind
        .as_ref()
        .map(|bind| {
            TcpListener::bind(bind)
                .map_err(|e| format!("cannot listen on {bind} (SEESAC_METRICS_BIND): {e}"))
        })
        .transpose()?;
    let database = database(&config, false, true)?;
    let mut conn = prepare(&database)?;
    if let Err(warning) = db::english_messages(&mut conn) {
        log::warn!("{warning}");
    }
    let secret = match (&config.jwt_secret, &database.embedded) {
        (Some(secret), _) => secret.clone(),
        (None, Some(embedded)) => first_start(&mut conn, embedded, sample)?,
        (None, None) => return Err("JWT_SECRET is required with DATABASE_URL".to_owned()),
    };
    drop(conn);
    let state = AppState {
        pool: db::pool(&database.url, config.pool_size),
        database_url: database.url.clone(),
        keys: JwtKeys::new(secret.as_bytes()),
        cors_origins: config.cors_origins.clone(),
        limits: config.limits.clone(),
    };
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    log::info!("serving on http://{address} (API docs at http://{address}/docs/)");
    if let Some(metrics) = metrics.as_ref().and_then(|m| m.local_addr().ok()) {
        log::info!("metrics on http://{metrics}/metrics");
    }
    actix_web::rt::System::new()
        .block_on(async move { startup::run_with_metrics(listener, metrics, state)?.await })
        .map_err(|e| format!("the server failed: {e}"))?;
    log::info!("stopped serving");
    drop(database);
    Ok(())
}

/// The embedded default's own set-up: a JWT secret, kept across runs, and on the
/// first start (no users yet) an `admin` user and, unless told not to, the sample
/// content.
fn first_start(
    conn: &mut PgConnection,
    embedded: &Embedded,
    sample: bool,
) -> Result<String, String> {
    let secret_file = embedded.path("jwt-secret");
    let secret = match read_private(&secret_file)? {
        Some(secret) => {
            // An empty or short key would let anyone sign tokens.
            let secret = secret.trim().to_owned();
            check_signing_key(&secret, &secret_file.display().to_string()).map_err(|e| {
                format!(
                    "{e}; or remove the file and a new secret is made (tokens signed with the \
                     old one stop working)"
                )
            })?;
            secret
        }
        None => {
            let secret = crate::platform::random::hex(32);
            write_private(&secret_file, &secret)?;
            secret
        }
    };
    // A database without users has never been set up (or was reset): that, not a
    // file beside it, is what makes a first start.
    if users::count(conn).map_err(|e| e.to_string())? == 0 {
        if sample {
            let seeded =
                seed::load(conn).map_err(|e| format!("cannot load the sample content: {e}"))?;
            log::info!("loaded the sample content: {seeded}");
        } else {
            log::info!("started without the sample content (--no-sample)");
        }
        let password = crate::platform::random::hex(12);
        users::create(conn, "admin", &password, Role::Admin).map_err(|e| e.to_string())?;
        let password_file = embedded.path("admin-password");
        write_private(&password_file, &format!("{password}\n"))?;
        // The password itself stays out of the log, which others may read.
        log::warn!(
            "created the user admin; its password is in {} (readable by this user only); \
             get a token with POST /api/v1/auth/token",
            password_file.display()
        );
    }
    Ok(secret)
}
