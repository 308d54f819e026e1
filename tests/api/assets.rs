//! Assets: files uploaded, told apart by their bytes, stored once by their hash,
//! served at a URL that carries the hash, and kept like any other kind.

use std::path::{Path, PathBuf};

use awc::http::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{Options, TestApp};
use seesac_api::app::config::ServerLimits;
use seesac_api::platform::storage::{FileStore, Uploads};

/// A valid PNG of `width` x `height` grey pixels (8-bit RGB, stored without
/// compression).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut raw = Vec::new();
    for _ in 0..height {
        raw.push(0);
        raw.extend(std::iter::repeat_n(0x80, width as usize * 3));
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65521;
        b = (b + a) % 65521;
    }
    let length = u16::try_from(raw.len()).unwrap();
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&length.to_le_bytes());
    zlib.extend_from_slice(&(!length).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An app whose uploads are `uploads`.
pub async fn app_with_uploads(uploads: Uploads) -> TestApp {
    TestApp::spawn_with(Options {
        limits: Some(ServerLimits {
            uploads,
            ..ServerLimits::default()
        }),
        ..Options::default()
    })
    .await
}

/// A directory of its own for a test's store.
pub fn store_dir() -> PathBuf {
    std::env::temp_dir().join(format!("seesac-assets-test-{}", uuid::Uuid::new_v4()))
}

/// An app whose uploads go to a directory of its own, at most `max_bytes` each.
async fn app_with_store(max_bytes: u64) -> (TestApp, PathBuf) {
    let dir = store_dir();
    let uploads = Uploads {
        store: FileStore::new(&dir),
        max_bytes,
        ..Uploads::default()
    };
    (app_with_uploads(uploads).await, dir)
}

/// Every file under the store's directory, those still being received (`incoming/`)
/// too: a test that nothing is left behind must see a partial file.
pub fn kept(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(kept(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[actix_web::test]
async fn an_image_is_told_by_its_bytes_kept_and_served_by_its_hash() {
    let (app, dir) = app_with_store(1 << 20).await;
    let token = app.editor();
    let image = png(3, 2);
    let uploaded = app
        .request(
            Method::POST,
            "/api/v1/assets?title=SEESAC%20logo&alt=The%20SEESAC%20logo",
        )
        .bearer(&token)
        .header(
            "content-disposition",
            "attachment; filename=\"SEESAC logo.png\"",
        )
        .raw("text/plain", image.clone())
        .send()
        .await;
    let asset = uploaded.ok(201);
    let id = asset["id"].as_str().unwrap().to_owned();
    assert_eq!(
        uploaded.header("location").unwrap(),
        format!("/api/v1/assets/{id}")
    );
    assert_eq!(
        asset["media_type"], "image/png",
        "the bytes say, not Content-Type"
    );
    assert_eq!(asset["size"], image.len());
    assert_eq!(asset["sha256"], sha256(&image));
    assert_eq!(
        (asset["width"].clone(), asset["height"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(asset["filename"], "SEESAC-logo.png");
    assert_eq!(asset["status"], "draft");
    let url = format!("/assets/{id}/{}/SEESAC-logo.png", sha256(&image));
    assert_eq!(asset["url"], url);
    assert_eq!(
        kept(&dir),
        [dir.join(&sha256(&image)[..2]).join(sha256(&image))]
    );
    assert_eq!(std::fs::read(&kept(&dir)[0]).unwrap(), image);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM changes WHERE type = 'asset' AND key = '{id}'"
        )),
        1,
        "the upload is in the change log"
    );

    // A draft's bytes are no one's but its editors'.
    app.get(&url).await.problem(404, "not_found");
    let read = app.request(Method::GET, &url).bearer(&token).send().await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.body, image);
    assert_eq!(read.header("content-type").unwrap(), "image/png");
    assert_eq!(
        read.header("etag").unwrap(),
        format!("\"{}\"", sha256(&image))
    );
    assert!(read.header("cache-control").unwrap().starts_with("private"));

    let published = app
        .request(Method::PATCH, &format!("/api/v1/assets/{id}"))
        .bearer(&token)
        .merge_patch(json!({"status": "published"}))
        .send()
        .await
        .ok(200);
    assert_eq!(published["version"], 2);
    let public = app.get(&url).await;
    assert_eq!(public.status(), 200);
    assert_eq!(public.body, image);
    assert_eq!(
        public.header("cache-control").unwrap(),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(public.header("x-content-type-options").unwrap(), "nosniff");
    assert!(
        public
            .header("content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
    assert!(
        public
            .header("content-disposition")
            .unwrap()
            .starts_with("inline")
    );

    let part = app
        .request(Method::GET, &url)
        .header("range", "bytes=0-7")
        .send()
        .await;
    assert_eq!(part.status(), 206);
    assert_eq!(part.body, image[..8]);
    assert_eq!(
        part.header("content-range").unwrap(),
        format!("bytes 0-7/{}", image.len())
    );
    let beyond = app
        .request(Method::GET, &url)
        .header("range", "bytes=5000-6000")
        .send()
        .await;
    assert_eq!(beyond.status(), 416);
    let again = app
        .request(Method::GET, &url)
        .header("if-none-match", &format!("\"{}\"", sha256(&image)))
        .send()
        .await;
    assert_eq!(again.status(), 304);

    let stable = app.get(&format!("/assets/{id}")).await;
    assert_eq!(stable.status(), 302);
    assert_eq!(stable.header("location").unwrap(), url);
    let other_hash = format!("/assets/{id}/{}/SEESAC-logo.png", sha256(b"other"));
    app.get(&other_hash).await.problem(404, "not_found");

    // A row whose file is gone (a copy without the data directory's assets) is the
    // store's fault, said as such, not a 500.
    std::fs::remove_file(&kept(&dir)[0]).unwrap();
    app.get(&url).await.problem(503, "unavailable");
}

#[actix_web::test]
async fn what_is_not_a_file_an_asset_may_be_is_refused_and_nothing_is_kept() {
    let (app, dir) = app_with_store(4096).await;
    let token = app.editor();
    let upload = |query: &'static str, content_type: &'static str, body: Vec<u8>| {
        app.request(Method::POST, query)
            .bearer(&token)
            .raw(content_type, body)
            .send()
    };
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    upload("/api/v1/assets?title=Logo&alt=Logo", "image/svg+xml", svg)
        .await
        .problem(415, "unsupported_media_type");
    upload(
        "/api/v1/assets?title=Gif&alt=Gif",
        "image/gif",
        b"GIF89a\x01\0\x01\0\0\0\0;".to_vec(),
    )
    .await
    .problem(415, "unsupported_media_type");
    upload("/api/v1/assets?title=Empty", "application/pdf", Vec::new())
        .await
        .problem(422, "validation_failed");
    let no_alt = upload("/api/v1/assets?title=Logo", "image/png", png(2, 2)).await;
    no_alt.problem(422, "validation_failed");
    assert_eq!(no_alt.pointers(), ["/alt"]);
    let bad = upload("/api/v1/assets?focal_x=0.5&credit=", "image/png", png(2, 2)).await;
    bad.problem(422, "validation_failed");
    let mut pointers = bad.pointers();
    pointers.sort();
    assert_eq!(pointers, ["/alt", "/focal_y", "/title"]);
    upload(
        "/api/v1/assets?title=Big",
        "application/pdf",
        [PDF, &[b' '; 5000]].concat(),
    )
    .await
    .problem(413, "payload_too_large");
    upload(
        "/api/v1/assets?title=Form",
        "multipart/form-data; boundary=x",
        PDF.to_vec(),
    )
    .await
    .problem(400, "invalid_request");
    upload(
        "/api/v1/assets?title=Report&colour=red",
        "application/pdf",
        PDF.to_vec(),
    )
    .await
    .problem(400, "invalid_request");
    app.request(Method::POST, "/api/v1/assets?title=Report")
        .raw("application/pdf", PDF.to_vec())
        .send()
        .await
        .problem(401, "unauthorized");
    app.post(&token, "/api/v1/assets", json!({"title": "JSON"}))
        .await
        .problem(415, "unsupported_media_type");

    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 0);
    assert_eq!(kept(&dir), Vec::<PathBuf>::new(), "nothing is left behind");
}

#[actix_web::test]
async fn identical_bytes_are_kept_once_and_derived_fields_are_the_servers() {
    let (app, dir) = app_with_store(1 << 20).await;
    let token = app.editor();
    let mut ids = Vec::new();
    for title in ["Annual%20report", "Annual%20report%20again"] {
        let asset = app
            .request(
                Method::POST,
                &format!("/api/v1/assets?title={title}&status=published"),
            )
            .bearer(&token)
            .header(
                "content-disposition",
                "attachment; filename=\"report-2024.pdf\"",
            )
            .raw("application/octet-stream", PDF.to_vec())
            .send()
            .await
            .ok(201);
        assert_eq!(asset["media_type"], "application/pdf");
        assert_eq!(asset["width"], json!(null));
        ids.push(asset["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(kept(&dir).len(), 1, "the same bytes are stored once");
    let document = app
        .get(&format!(
            "/assets/{}/{}/report-2024.pdf",
            ids[0],
            sha256(PDF)
        ))
        .await;
    assert_eq!(document.body, PDF);
    assert_eq!(document.header("content-type").unwrap(), "application/pdf");

    // What the server read from the bytes is not the client's to change.
    let edited = app
        .request(Method::PATCH, &format!("/api/v1/assets/{}", ids[0]))
        .bearer(&token)
        .merge_patch(
            json!({"title": "Report 2024", "sha256": "0".repeat(64), "size": 1,
                            "media_type": "image/png", "credit": "SEESAC"}),
        )
        .send()
        .await
        .ok(200);
    assert_eq!(edited["title"], "Report 2024");
    assert_eq!(edited["credit"], "SEESAC");
    assert_eq!(edited["sha256"], sha256(PDF));
    assert_eq!(edited["size"], PDF.len());
    assert_eq!(edited["media_type"], "application/pdf");
    assert_eq!(
        app.text(&format!(
            "SELECT title AS value FROM assets WHERE id = '{}'",
            ids[0]
        )),
        Some("Report 2024".to_owned())
    );
    // Its title is translated like any item's; a key that is not an id names nothing.
    app.request(
        Method::PUT,
        &format!("/api/v1/assets/{}/translations/sq", ids[0]),
    )
    .bearer(&token)
    .json(json!({"fields": {"title": "Raporti 2024"}, "status": "published"}))
    .send()
    .await
    .ok(201);
    let shown = app
        .get(&format!("/api/v1/assets/{}?locale=sq", ids[0]))
        .await
        .ok(200);
    assert_eq!(shown["title"], "Raporti 2024");
    app.request(Method::GET, "/api/v1/assets/not-an-id/translations")
        .bearer(&token)
        .send()
        .await
        .problem(404, "not_found");
    let listed = app.get("/api/v1/assets").await.ok(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);

    app.request(Method::DELETE, &format!("/api/v1/assets/{}", ids[1]))
        .bearer(&token)
        .send()
        .await
        .ok(204);
    app.get(&format!("/assets/{}", ids[1]))
        .await
        .problem(404, "not_found");
    app.get(&format!("/assets/{}", ids[0])).await;
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 1);
}

#[actix_web::test]
async fn prune_deletes_what_nothing_uses_and_no_more() {
    let data = store_dir();
    let dir = data.join("assets");
    let app = app_with_uploads(Uploads {
        store: FileStore::new(&dir),
        ..Uploads::default()
    })
    .await;
    let token = app.editor();
    let mut ids = Vec::new();
    for (query, body) in [
        ("title=Logo&alt=A%20logo", png(2, 2)),
        ("title=Old%20report", PDF.to_vec()),
        ("title=Another%20report", [PDF, b"% second\n"].concat()),
    ] {
        let asset = app
            .request(Method::POST, &format!("/api/v1/assets?{query}"))
            .bearer(&token)
            .raw("application/octet-stream", body)
            .send()
            .await
            .ok(201);
        ids.push(asset["id"].as_str().unwrap().to_owned());
    }
    let funder = json!({"slug": "norway", "name": "Norway", "kind": "government", "logo": ids[0]});
    app.put(&token, "/api/v1/funders/norway", funder)
        .await
        .ok(201);
    std::fs::create_dir_all(dir.join("incoming")).unwrap();
    std::fs::write(dir.join("incoming").join("abandoned"), b"half an upload").unwrap();
    // A variant of the logo, made by its first request.
    let logo = app
        .request(Method::GET, &format!("/api/v1/assets/{}", ids[0]))
        .bearer(&token)
        .send()
        .await
        .ok(200);
    let thumb = app
        .request(Method::GET, logo["variants"]["thumb"].as_str().unwrap())
        .bearer(&token)
        .send()
        .await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(kept(&dir).len(), 5);

    let prune = |args: &[&str]| {
        let mut command = crate::binary::command();
        command
            .args(["assets", "prune"])
            .args(args)
            .env("DATABASE_URL", &app.database.url)
            .env("SEESAC_DATA_DIR", &data);
        let output = crate::binary::run(command, "");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(prune(&["--older-than", "1d"]).contains("deleted 0 assets and 0 files"));
    let dry = prune(&["--older-than", "0s", "--dry-run"]);
    assert!(dry.contains("would delete 2 assets and 3 files"), "{dry}");
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 3);
    assert_eq!(kept(&dir).len(), 5);

    let done = prune(&["--older-than", "0s"]);
    assert!(done.contains("deleted 2 assets and 3 files"), "{done}");
    assert_eq!(
        app.text("SELECT string_agg(id::text, ',') AS value FROM assets"),
        Some(ids[0].clone()),
        "the logo is in use"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM changes WHERE type = 'asset' AND action = 'deleted' AND actor = 'system:prune'"),
        2
    );
    // The two reports' files and the unfinished upload went; the logo's and its
    // variant's stay.
    let logo_sha = sha256(&png(2, 2));
    let mut left = kept(&dir);
    left.sort();
    assert_eq!(
        left,
        [
            dir.join(&logo_sha[..2]).join(&logo_sha),
            dir.join("variants")
                .join(&logo_sha)
                .join("w160-h160-cover-q80.png"),
        ]
    );
    assert!(prune(&["--older-than", "0s"]).contains("deleted 0 assets and 0 files"));
    let bad = {
        let mut command = crate::binary::command();
        command
            .args(["assets", "prune", "--older-than", "a while"])
            .env("DATABASE_URL", &app.database.url);
        crate::binary::run(command, "")
    };
    assert!(!bad.status.success());
}

#[actix_web::test]
async fn each_type_of_file_has_the_limit_the_configuration_gives() {
    let dir = store_dir();
    let app = app_with_uploads(Uploads {
        store: FileStore::new(&dir),
        type_limits: vec![
            ("application/pdf".to_owned(), 0),
            ("image/png".to_owned(), 100),
        ],
        ..Uploads::default()
    })
    .await;
    let token = app.editor();
    let send = |body: Vec<u8>| {
        app.request(Method::POST, "/api/v1/assets?title=File&alt=A%20file")
            .bearer(&token)
            .raw("application/octet-stream", body)
            .send()
    };
    let refused = send(PDF.to_vec()).await;
    let problem = refused.problem(415, "unsupported_media_type");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("SEESAC_ASSET_LIMITS")
    );
    assert!(png(8, 8).len() > 100);
    send(png(8, 8)).await.problem(413, "payload_too_large");
    assert!(png(1, 1).len() <= 100);
    send(png(1, 1)).await.ok(201);
    assert_eq!(app.count("SELECT count(*) AS n FROM assets"), 1);
    assert_eq!(kept(&dir).len(), 1);
}
