//! Assets in object storage (`SEESAC_STORAGE_URL=s3://…`), against a real
//! S3-compatible server: moto's server mode, installed from PyPI into a virtual
//! environment under the system temp dir the first time (python3 must be on the
//! machine), and started by the test on a free port of 127.0.0.1.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use awc::http::Method;
use seesac_api::platform::db::cluster::free_port;
use seesac_api::platform::storage::remote::Remote;
use seesac_api::platform::storage::{FileStore, Uploads};

use crate::assets::{app_with_uploads, png, sha256, store_dir};
use crate::helpers::{Options, TestApp};
use seesac_api::app::config::ServerLimits;

/// The moto release the tests run against.
const MOTO: &str = "moto[server]==5.2.6";

/// What moto takes as a signed request.
const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/s3/aws4_request, \
                      SignedHeaders=host, Signature=0";

/// One installation at a time (the tests run in parallel in one process).
static INSTALLING: Mutex<()> = Mutex::new(());

/// The Python of a virtual environment with moto in it, made if it is not there:
/// built beside its place, then renamed into it, so that a half-made one is never
/// used (its `python` finds its packages wherever the directory is).
fn moto_python() -> PathBuf {
    let _installing = INSTALLING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let venv = std::env::temp_dir().join("seesac-test-moto-5.2.6");
    let python = venv.join("bin").join("python");
    if python.exists() {
        return python;
    }
    let building = std::env::temp_dir().join(format!("seesac-test-moto-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let run = |command: &mut Command, what: &str| {
        let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            output.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&building),
        "python3 -m venv (python3 is needed for the object storage tests)",
    );
    run(
        Command::new(building.join("bin").join("python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO,
        ]),
        "pip install moto[server] (from PyPI)",
    );
    if std::fs::rename(&building, &venv).is_err() {
        // Another test process made it meanwhile.
        let _ = std::fs::remove_dir_all(&building);
    }
    python
}

/// A moto server on 127.0.0.1 with one bucket, stopped when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
}

impl Moto {
    pub async fn start() -> Self {
        let port = free_port().unwrap();
        let child = Command::new(moto_python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "seesac-assets".to_owned(),
        };
        let client = awc::Client::default();
        let started = Instant::now();
        // S3 creates a bucket with a PUT of its name.
        loop {
            match client
                .put(format!("{}/{}", moto.endpoint, moto.bucket))
                .insert_header(("Authorization", SIGNED))
                .send()
                .await
            {
                Ok(response) if response.status().is_success() => break,
                _ if started.elapsed() < Duration::from_secs(30) => {
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                }
                other => panic!("moto did not start: {:?}", other.map(|r| r.status())),
            }
        }
        moto
    }

    pub fn url(&self) -> String {
        format!(
            "s3://test:secret@{}?endpoint={}&region=us-east-1",
            self.bucket, self.endpoint
        )
    }

    /// The object `name` in the bucket, if it is there (moto checks that a read
    /// is signed, not the signature).
    pub async fn object(&self, name: &str) -> Option<Vec<u8>> {
        let mut response = awc::Client::default()
            .get(format!("{}/{}/{name}", self.endpoint, self.bucket))
            .insert_header(("Authorization", SIGNED))
            .send()
            .await
            .unwrap();
        if response.status() == 404 {
            return None;
        }
        let status = response.status();
        let body = response.body().limit(64 << 20).await.unwrap().to_vec();
        assert_eq!(status, 200, "{name}: {}", String::from_utf8_lossy(&body));
        return Some(body);
        #[allow(unreachable_code)]
        Some(response.body().limit(64 << 20).await.unwrap().to_vec())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uploads(dir: &std::path::Path, moto: &Moto) -> Uploads {
    Uploads {
        store: FileStore::new(dir).with_remote(Remote::parse(&moto.url()).unwrap()),
        ..Uploads::default()
    }
}

#[actix_web::test]
async fn files_go_to_object_storage_and_every_instance_serves_them() {
    let moto = Moto::start().await;
    let (first_dir, second_dir) = (store_dir(), store_dir());
    let first = app_with_uploads(uploads(&first_dir, &moto)).await;
    let token = first.editor();
    let image = png(200, 100);
    let sha = sha256(&image);
    let asset = first
        .request(Method::POST, "/api/v1/assets?title=Logo&alt=The%20logo")
        .bearer(&token)
        .header("Content-Disposition", "attachment; filename=\"logo.png\"")
        .raw("application/octet-stream", image.clone())
        .send()
        .await
        .ok(201);
    let name = format!("{}/{sha}", &sha[..2]);
    assert_eq!(moto.object(&name).await.as_deref(), Some(image.as_slice()));

    // Another instance, on the same database, with nothing on its own disk.
    let second = TestApp::spawn_with(Options {
        database: Some(first.database.clone()),
        limits: Some(ServerLimits {
            uploads: uploads(&second_dir, &moto),
            ..ServerLimits::default()
        }),
        ..Options::default()
    })
    .await;
    assert!(!second_dir.join(&name).exists());
    let url = asset["url"].as_str().unwrap();
    // Eight readers at once of a file this instance lacks: each gets the whole
    // file (they wait for one fetch rather than race to place it).
    let readers = (0..8).map(|_| second.request(Method::GET, url).bearer(&token).send());
    for served in futures_util::future::join_all(readers).await {
        assert_eq!(served.status(), 200);
        assert_eq!(served.body, image);
    }
    assert!(second_dir.join(&name).is_file(), "kept as a local copy");
    let part = second
        .request(Method::GET, url)
        .bearer(&token)
        .header("Range", "bytes=0-7")
        .send()
        .await;
    assert_eq!(part.status(), 206);
    assert_eq!(part.body, image[..8]);

    // A variant made by one instance is shared with the other.
    let thumb = asset["variants"]["thumb"].as_str().unwrap();
    let made = second
        .request(Method::GET, thumb)
        .bearer(&token)
        .send()
        .await;
    assert_eq!(made.status(), 200);
    let variant = format!("variants/{sha}/w160-h160-cover-q80.png");
    assert_eq!(
        moto.object(&variant).await.as_deref(),
        Some(made.body.as_slice())
    );
    let again = first
        .request(Method::GET, thumb)
        .bearer(&token)
        .send()
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.body, made.body);
}

#[actix_web::test]
async fn a_prune_deletes_from_object_storage_what_no_asset_names() {
    let moto = Moto::start().await;
    let data = store_dir();
    let app = app_with_uploads(uploads(&data.join("assets"), &moto)).await;
    let token = app.editor();
    let mut names = Vec::new();
    for (query, bytes) in [
        ("title=Kept&alt=Kept", png(3, 3)),
        ("title=Dropped&alt=Dropped", png(4, 4)),
    ] {
        let asset = app
            .request(Method::POST, &format!("/api/v1/assets?{query}"))
            .bearer(&token)
            .raw("image/png", bytes.clone())
            .send()
            .await
            .ok(201);
        let sha = sha256(&bytes);
        names.push((
            asset["id"].as_str().unwrap().to_owned(),
            format!("{}/{sha}", &sha[..2]),
        ));
    }
    let funder = serde_json::json!({"slug": "norway", "name": "Norway", "kind": "government", "logo": names[0].0});
    app.put(&token, "/api/v1/funders/norway", funder)
        .await
        .ok(201);
    let mut command = crate::binary::command();
    command
        .args(["assets", "prune", "--older-than", "0s"])
        .env("DATABASE_URL", &app.database.url)
        .env("SEESAC_DATA_DIR", &data)
        .env("SEESAC_STORAGE_URL", moto.url());
    let output = crate::binary::run(command, "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // One asset; its file here and in the bucket.
    assert!(stdout.contains("deleted 1 assets and 2 files"), "{stdout}");
    assert!(
        moto.object(&names[0].1).await.is_some(),
        "the logo's file stays"
    );
    assert!(moto.object(&names[1].1).await.is_none(), "the other's went");
}

#[test]
fn a_storage_url_is_checked_before_the_service_starts() {
    for (url, says) in [
        ("ftp://bucket", "must start with s3://"),
        ("s3:///path", "names no bucket"),
        ("s3://bucket?endpont=http://127.0.0.1:1", "\"endpont\""),
        ("s3://key@bucket", "without its secret"),
        ("not a url", "is not a URL"),
    ] {
        let error = Remote::parse(url).expect_err(url);
        assert!(error.contains(says), "{url}: {error}");
        assert!(error.starts_with("SEESAC_STORAGE_URL"), "{error}");
    }
    let remote = Remote::parse("s3://KEY:SECRET@bucket/site?endpoint=http://127.0.0.1:1").unwrap();
    assert!(!remote.described.contains("SECRET"), "{}", remote.described);
}

#[actix_web::test]
async fn a_bucket_that_does_not_answer_is_a_503_and_keeps_nothing() {
    // A port of 127.0.0.1 where nothing listens.
    let port = free_port().unwrap();
    let url = format!("s3://test:secret@seesac-assets?endpoint=http://127.0.0.1:{port}");
    let dir = store_dir();
    let app = app_with_uploads(Uploads {
        store: FileStore::new(&dir).with_remote(Remote::parse(&url).unwrap()),
        ..Uploads::default()
    })
    .await;
    let token = app.editor();
    let refused = app
        .request(Method::POST, "/api/v1/assets?title=Logo&alt=Logo")
        .bearer(&token)
        .raw("image/png", png(5, 5))
        .send()
        .await;
    refused.problem(503, "unavailable");
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 0);
}
