//! How a file arrives: as a `multipart/form-data` form, under an
//! `Idempotency-Key` whatever its size, and never left half-written when its
//! sender stops.

use std::path::PathBuf;
use std::time::Duration;

use awc::http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::assets::{PDF, app_with_uploads, kept, png, store_dir};
use crate::helpers::TestApp;
use seesac_api::platform::storage::{FileStore, Uploads};

/// A form: `(name, filename, bytes)` parts, and its Content-Type.
fn form(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match filename {
            Some(filename) => {
                format!(
                    "form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream"
                )
            }
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn app_in(dir: &std::path::Path) -> TestApp {
    app_with_uploads(Uploads {
        store: FileStore::new(dir),
        ..Uploads::default()
    })
    .await
}

#[actix_web::test]
async fn a_form_uploads_a_file_with_its_metadata_in_any_order() {
    let dir = store_dir();
    let app = app_in(&dir).await;
    let token = app.editor();
    let image = png(40, 30);
    let (content_type, body) = form(
        "b0und4ry",
        &[
            ("title", None, b"Mine action in Bosnia"),
            ("file", Some("field visit.png"), &image),
            ("alt", None, "Deminers at work near Sarajevo".as_bytes()),
            ("focal_x", None, b"0.25"),
            ("focal_y", None, b"0.75"),
        ],
    );
    let asset = app
        .request(Method::POST, "/api/v1/assets?status=published")
        .bearer(&token)
        .raw(&content_type, body)
        .send()
        .await
        .ok(201);
    assert_eq!(asset["title"], "Mine action in Bosnia");
    assert_eq!(asset["alt"], "Deminers at work near Sarajevo");
    assert_eq!(asset["filename"], "field-visit.png");
    assert_eq!(asset["media_type"], "image/png");
    assert_eq!(asset["width"], 40);
    assert_eq!(asset["status"], "published");
    assert_eq!(asset["focal_x"], 0.25);
    let served = app.get(asset["url"].as_str().unwrap()).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.body, image);
}

#[actix_web::test]
async fn a_form_without_its_file_or_with_two_is_refused_and_leaves_nothing() {
    let dir = store_dir();
    let app = app_in(&dir).await;
    let token = app.editor();
    let send = |query: &'static str, (content_type, body): (String, Vec<u8>)| {
        app.request(Method::POST, query)
            .bearer(&token)
            .raw(&content_type, body)
            .send()
    };
    let missing = send("/api/v1/assets", form("x1", &[("title", None, b"Report")])).await;
    missing.problem(422, "validation_failed");
    assert_eq!(missing.pointers(), ["/file"]);
    let two = form(
        "x2",
        &[
            ("title", None, b"Report"),
            ("file", Some("a.pdf"), PDF),
            ("file", Some("b.pdf"), PDF),
        ],
    );
    send("/api/v1/assets", two)
        .await
        .problem(400, "invalid_request");
    let twice = form(
        "x3",
        &[("title", None, b"Report"), ("file", Some("a.pdf"), PDF)],
    );
    send("/api/v1/assets?title=Again", twice)
        .await
        .problem(400, "invalid_request");
    let unknown = form(
        "x4",
        &[("colour", None, b"red"), ("file", Some("a.pdf"), PDF)],
    );
    send("/api/v1/assets", unknown)
        .await
        .problem(400, "invalid_request");
    let no_title = form("x5", &[("file", Some("a.pdf"), PDF)]);
    let invalid = send("/api/v1/assets", no_title).await;
    invalid.problem(422, "validation_failed");
    assert_eq!(invalid.pointers(), ["/title"]);
    let broken = (
        "multipart/form-data; boundary=x6".to_owned(),
        b"--x6\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n%PDF".to_vec(),
    );
    send("/api/v1/assets?title=Cut", broken)
        .await
        .problem(400, "invalid_request");
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 0);
    assert_eq!(kept(&dir), Vec::<PathBuf>::new(), "nothing is left behind");
}

#[actix_web::test]
async fn an_idempotency_key_replays_an_upload_of_any_size() {
    let dir = store_dir();
    let app = app_in(&dir).await;
    let token = app.editor();
    // Larger than the 1 MiB a JSON body may have.
    let report = [PDF, &vec![b' '; 3 << 20]].concat();
    let upload = |key: &'static str, body: Vec<u8>| {
        app.request(Method::POST, "/api/v1/assets?title=Annual%20report")
            .bearer(&token)
            .header("Idempotency-Key", key)
            .raw("application/pdf", body)
            .send()
    };
    let first = upload("report-2025", report.clone()).await;
    let created = first.ok(201);
    let retry = upload("report-2025", report.clone()).await;
    assert_eq!(retry.ok(201), created);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 1);

    let other = [PDF, &vec![b'\n'; 3 << 20]].concat();
    upload("report-2025", other.clone())
        .await
        .problem(422, "validation_failed");
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 1);
    upload("report-2025-b", other).await.ok(201);
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 2);

    // A form sent again has another boundary, and is the same request.
    let image = png(8, 8);
    let sent = |boundary: &'static str| {
        let (content_type, body) = form(
            boundary,
            &[
                ("title", None, b"Logo"),
                ("alt", None, b"The logo"),
                ("file", Some("logo.png"), &image),
            ],
        );
        app.request(Method::POST, "/api/v1/assets")
            .bearer(&token)
            .header("Idempotency-Key", "logo")
            .raw(&content_type, body)
            .send()
    };
    let logo = sent("one").await.ok(201);
    let again = sent("two").await;
    assert_eq!(again.ok(201), logo);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 3);
}

#[actix_web::test]
async fn an_upload_whose_sender_stops_leaves_no_file() {
    let dir = store_dir();
    let app = app_with_uploads(Uploads {
        store: FileStore::new(&dir),
        timeout: Duration::from_secs(1),
        ..Uploads::default()
    })
    .await;
    let token = app.editor();
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/assets?title=Slow HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/pdf\r\nContent-Length: 1000000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&[PDF, &[b' '; 300_000]].concat())
        .await
        .unwrap();
    let mut answer = vec![0; 4096];
    let read = actix_web::rt::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the server answers within its deadline")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(
        kept(&dir),
        Vec::<PathBuf>::new(),
        "the partial file is gone"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 0);
}

#[actix_web::test]
async fn a_deleted_asset_is_restored_with_its_file_and_an_earlier_version_with_its_metadata() {
    let dir = store_dir();
    let app = app_in(&dir).await;
    let token = app.editor();
    let image = png(12, 12);
    let asset = app
        .request(
            Method::POST,
            "/api/v1/assets?title=Logo&alt=The%20logo&status=published",
        )
        .bearer(&token)
        .raw("image/png", image.clone())
        .send()
        .await
        .ok(201);
    let id = asset["id"].as_str().unwrap();
    let item = format!("/api/v1/assets/{id}");
    app.patch(&token, &item, serde_json::json!({"title": "SEESAC logo"}))
        .await
        .ok(200);
    // Version 1's metadata back on the asset that exists; its bytes stay.
    let current = app.get_as(&token, &item).await;
    let restored = app
        .request(Method::POST, &format!("{item}/revisions/1/restore"))
        .bearer(&token)
        .header("If-Match", &current.etag())
        .send()
        .await
        .ok(200);
    assert_eq!(restored["title"], "Logo");
    assert_eq!(restored["version"], 3);
    assert_eq!(restored["sha256"], asset["sha256"]);

    assert_eq!(app.delete(&token, &item).await.status(), 204);
    app.get(&item).await.problem(404, "not_found");
    let back = app
        .request(Method::POST, &format!("{item}/revisions/2/restore"))
        .bearer(&token)
        .send()
        .await
        .ok(201);
    assert_eq!(back["id"], asset["id"]);
    assert_eq!(back["title"], "SEESAC logo");
    for field in ["media_type", "size", "sha256", "width", "height", "url"] {
        assert_eq!(back[field], asset[field], "{field}");
    }
    assert_eq!(back["version"], 4);
    let served = app.get(back["url"].as_str().unwrap()).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.body, image);
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 1);
}

/// `seesac-api import FILE` into `url`, with `data` as its data directory: its
/// standard error (it must succeed).
fn import_into(url: &str, data: &std::path::Path, document: &str) -> String {
    let file = data.join("export.json");
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(&file, document).unwrap();
    let mut import = crate::binary::command();
    import
        .arg("import")
        .arg(&file)
        .env("DATABASE_URL", url)
        .env("SEESAC_DATA_DIR", data);
    let output = crate::binary::run(import, "");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[actix_web::test]
async fn assets_are_exported_and_imported_and_an_import_says_which_files_it_lacks() {
    let data = store_dir();
    let app = app_in(&data.join("assets")).await;
    let token = app.editor();
    let logo = app
        .request(
            Method::POST,
            "/api/v1/assets?title=EU%20flag&alt=The%20EU%20flag&status=published",
        )
        .bearer(&token)
        .raw("image/png", png(6, 4))
        .send()
        .await
        .ok(201);
    let funder = serde_json::json!({"slug": "european-union", "name": "European Union",
        "kind": "multilateral", "status": "published", "logo": logo["id"]});
    app.put(&token, "/api/v1/funders/european-union", funder)
        .await
        .ok(201);

    let mut export = crate::binary::command();
    export.arg("export").env("DATABASE_URL", &app.database.url);
    let output = crate::binary::run(export, "");
    assert!(output.status.success());
    let document = String::from_utf8(output.stdout).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&document).unwrap();
    let exported = &parsed["assets"][0];
    for field in ["id", "sha256", "media_type", "size", "width", "alt"] {
        assert_eq!(exported[field], logo[field], "{field}");
    }

    // Into an instance without the files: imported, and said.
    let bare = crate::helpers::TestDatabase::new();
    let warned = import_into(&bare.url, &store_dir(), &document);
    assert!(warned.contains("1 assets name files"), "{warned}");
    // Into one that has them (the same data directory): nothing to say.
    let whole = crate::helpers::TestDatabase::new();
    let quiet = import_into(&whole.url, &data, &document);
    assert!(!quiet.contains("warning"), "{quiet}");
    let copy = TestApp::spawn_with(crate::helpers::Options {
        database: Some(std::rc::Rc::new(whole)),
        limits: Some(seesac_api::app::config::ServerLimits {
            uploads: Uploads {
                store: FileStore::new(data.join("assets")),
                ..Uploads::default()
            },
            ..seesac_api::app::config::ServerLimits::default()
        }),
        ..crate::helpers::Options::default()
    })
    .await;
    let shown = copy
        .get("/api/v1/funders/european-union?include=logo")
        .await
        .ok(200);
    assert_eq!(shown["logo_asset"]["url"], logo["url"]);
    assert_eq!(copy.get(logo["url"].as_str().unwrap()).await.status(), 200);
}

#[actix_web::test]
async fn assets_have_tags_to_find_them_by() {
    let dir = store_dir();
    let app = app_in(&dir).await;
    let token = app.editor();
    let logo = app
        .request(
            Method::POST,
            "/api/v1/assets?title=Logo&alt=Logo&tags=Logo,%20eu,logo",
        )
        .bearer(&token)
        .raw("image/png", png(3, 3))
        .send()
        .await
        .ok(201);
    assert_eq!(logo["tags"], serde_json::json!(["logo", "eu"]));
    let (content_type, body) = form(
        "t1",
        &[
            ("title", None, b"Annual report"),
            ("tags", None, b"report,2024"),
            ("file", Some("report.pdf"), PDF),
        ],
    );
    let report = app
        .request(Method::POST, "/api/v1/assets")
        .bearer(&token)
        .raw(&content_type, body)
        .send()
        .await
        .ok(201);
    assert_eq!(report["tags"], serde_json::json!(["report", "2024"]));
    let titles = |list: serde_json::Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let tagged = app.get_as(&token, "/api/v1/assets?tags=eu").await.ok(200);
    assert_eq!(titles(tagged), ["Logo"]);
    let either = app
        .get_as(&token, "/api/v1/assets?tags[in]=report,eu&sort=title")
        .await
        .ok(200);
    assert_eq!(titles(either), ["Annual report", "Logo"]);
    let none = app
        .get_as(&token, "/api/v1/assets?tags=campaign")
        .await
        .ok(200);
    assert_eq!(titles(none), Vec::<String>::new());

    let item = format!("/api/v1/assets/{}", logo["id"].as_str().unwrap());
    let patched = app
        .patch(&token, &item, serde_json::json!({"tags": ["campaign"]}))
        .await
        .ok(200);
    assert_eq!(patched["tags"], serde_json::json!(["campaign"]));
    let bad = app
        .patch(&token, &item, serde_json::json!({"tags": ["no spaces"]}))
        .await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.pointers(), ["/tags"]);
    assert_eq!(
        app.text(&format!(
            "SELECT array_to_string(tags, ',') AS value FROM assets WHERE id = '{}'",
            logo["id"].as_str().unwrap()
        )),
        Some("campaign".to_owned())
    );
}
