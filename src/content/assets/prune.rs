//! `seesac-api assets prune --older-than AGE`: deletes the assets nothing uses
//! that have not changed for AGE, then the files no asset names any more (and the
//! uploads that never finished) older than AGE. The deletions are the service's
//! (`system:prune` in the change log and the audit log); an asset something uses
//! is left, whatever uses it (the database's guard says so, and the prune asks
//! it, one asset at a time). With object storage, its files are pruned there
//! too, by the same rule.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use diesel::prelude::*;
use diesel::sql_types::{Interval, Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::engine::transaction::{Author, begin};
use crate::platform::error::{AppError, AppResult};
use crate::platform::storage::FileStore;
use crate::platform::storage::remote::Remote;

/// What a prune removed (or, dry, would remove).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub assets: usize,
    pub files: usize,
    pub bytes: u64,
}

/// Why a candidate's deletion was undone.
enum Undone {
    /// A dry run: it would have been deleted.
    Dry,
    /// Something uses it.
    InUse,
    /// It was deleted meanwhile.
    Gone,
    Failed(AppError),
}

impl From<diesel::result::Error> for Undone {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(error.into())
    }
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct Hash {
    #[diesel(sql_type = Text)]
    sha256: String,
}

/// Prunes what is older than `age`; with `dry_run`, only counts.
pub fn prune(
    conn: &mut PgConnection,
    store: &FileStore,
    age: Duration,
    dry_run: bool,
) -> AppResult<Pruned> {
    let mut pruned = Pruned::default();
    let interval = diesel::data_types::PgInterval::from_microseconds(
        i64::try_from(age.as_micros()).unwrap_or(i64::MAX),
    );
    let candidates: Vec<Candidate> = diesel::sql_query(
        "SELECT id FROM assets WHERE updated_at < now() - $1 ORDER BY created_at",
    )
    .bind::<Interval, _>(interval)
    .load(conn)?;
    let mut gone: Vec<Uuid> = Vec::new();
    for candidate in candidates {
        // One transaction each: an asset something uses is refused by the guard,
        // and only its deletion is undone; a dry run undoes every one.
        let outcome = conn.transaction(|conn| -> Result<(), Undone> {
            begin(conn, &Author::system("prune"), None).map_err(Undone::Failed)?;
            let deleted = diesel::sql_query("DELETE FROM assets WHERE id = $1")
                .bind::<SqlUuid, _>(candidate.id)
                .execute(conn);
            match deleted {
                Ok(0) => Err(Undone::Gone),
                Ok(_) if dry_run => Err(Undone::Dry),
                Ok(_) => Ok(()),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                    _,
                )) => Err(Undone::InUse),
                Err(other) => Err(Undone::Failed(other.into())),
            }
        });
        match outcome {
            Ok(()) | Err(Undone::Dry) => {
                pruned.assets += 1;
                gone.push(candidate.id);
            }
            Err(Undone::InUse | Undone::Gone) => {}
            Err(Undone::Failed(error)) => return Err(error),
        }
    }
    // The files the assets that stay name (a dry run's deleted ones are still
    // there, and do not count).
    let named: HashSet<String> =
        diesel::sql_query("SELECT DISTINCT sha256 FROM assets WHERE NOT id = ANY($1)")
            .bind::<diesel::sql_types::Array<SqlUuid>, _>(&gone)
            .load::<Hash>(conn)?
            .into_iter()
            .map(|hash| hash.sha256)
            .collect();
    let before = SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    for path in store.files() {
        let unnamed = hash_of(&path).is_none_or(|hash| !named.contains(hash));
        if unnamed && older(&path, before) {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if !dry_run {
                std::fs::remove_file(&path).map_err(AppError::internal)?;
            }
            pruned.files += 1;
            pruned.bytes += size;
        }
    }
    if let Some(remote) = store.remote() {
        // The command line has no runtime of its own: this part needs one.
        let (files, bytes) = actix_web::rt::System::new()
            .block_on(prune_remote(remote, &named, before, dry_run))
            .map_err(|error| AppError::internal(format!("{}: {error}", remote.described)))?;
        pruned.files += files;
        pruned.bytes += bytes;
    }
    Ok(pruned)
}

/// Deletes the files in object storage that no asset names, older than `before`:
/// how many, and their bytes.
async fn prune_remote(
    remote: &Remote,
    named: &HashSet<String>,
    before: SystemTime,
    dry_run: bool,
) -> std::io::Result<(usize, u64)> {
    let (mut files, mut bytes) = (0, 0);
    for object in remote.objects().await? {
        let unnamed = hash_of(Path::new(&object.name)).is_none_or(|hash| !named.contains(hash));
        if unnamed && object.modified < before {
            if !dry_run {
                remote.delete(&object.name).await?;
            }
            files += 1;
            bytes += object.size;
        }
    }
    Ok((files, bytes))
}

/// The hash of the bytes a file of the store holds or was made from: its name, or
/// for a variant (`variants/<hash>/<key>`) its directory's.
fn hash_of(path: &Path) -> Option<&str> {
    let parent = path.parent()?;
    let is_variant = parent
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|name| name == "variants");
    let named = if is_variant { parent } else { path };
    named.file_name()?.to_str()
}

fn older(path: &Path, before: SystemTime) -> bool {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .is_ok_and(|modified| modified < before)
}

/// An age: a whole number with a unit, `s`, `m`, `h` or `d` (`30d`).
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not an age such as 30d, 12h, 90m or 3600s"
            ));
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(seconds))
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is not an age such as 30d, 12h, 90m or 3600s"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_age;

    #[test]
    fn ages_have_units() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(5400)));
        assert!(parse_age("30").is_err());
        assert!(parse_age("d").is_err());
        assert!(parse_age("-1d").is_err());
    }
}
