//! Image variants: asked for on an image's URL from a fixed grid, made once (also
//! when many ask at once), cropped around the focal point, never enlarged.

use std::io::Cursor;

use awc::http::Method;

use crate::assets::{app_with_uploads, png, store_dir};
use crate::helpers::TestApp;
use seesac_api::platform::storage::{FileStore, Uploads};

/// A PNG 400 x 200, its left half red and its right half blue.
fn halves() -> Vec<u8> {
    let image = image::RgbImage::from_fn(400, 200, |x, _| {
        if x < 200 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn decoded(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

#[actix_web::test]
async fn variants_are_made_once_from_the_grid_around_the_focal_point() {
    let dir = store_dir();
    let app = app_with_uploads(Uploads {
        store: FileStore::new(&dir),
        ..Uploads::default()
    })
    .await;
    let token = app.editor();
    let upload = |focal_x: &str| {
        app.request(
            Method::POST,
            &format!("/api/v1/assets?title=Halves&alt=Red%20and%20blue&status=published&focal_x={focal_x}&focal_y=0.5"),
        )
        .bearer(&token)
        .header("content-disposition", "attachment; filename=\"halves.png\"")
        .raw("image/png", halves())
        .send()
    };
    let right = upload("0.9").await.ok(201);
    let url = right["url"].as_str().unwrap().to_owned();
    let thumb_url = format!("{url}?preset=thumb&focus=0.900,0.500");
    assert_eq!(right["variants"]["thumb"], thumb_url);
    // A URL names one crop: without the asset's focal point (or with another) it
    // is sent to the one with it.
    let unfocused = app.get(&format!("{url}?preset=thumb")).await;
    assert_eq!(unfocused.status(), 302);
    assert_eq!(
        unfocused.header("location").unwrap(),
        format!("{url}?w=160&h=160&fit=cover&format=png&q=80&focus=0.900,0.500")
    );

    // A thumbnail covers 160 x 160, cropped around the focal point: on the right.
    let thumb = app.get(&thumb_url).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.header("content-type").unwrap(), "image/png");
    assert!(thumb.header("cache-control").unwrap().contains("immutable"));
    assert!(thumb.header("etag").unwrap().contains("w160-h160-cover"));
    let image = decoded(&thumb.body).to_rgb8();
    assert_eq!(image.dimensions(), (160, 160));
    assert_eq!(image.get_pixel(80, 80).0, [0, 0, 255]);
    let left = upload("0.1").await;
    // The same bytes, another asset with its own focal point: its own crop.
    let left = left.ok(201);
    let left_thumb = app.get(left["variants"]["thumb"].as_str().unwrap()).await;
    assert_eq!(
        decoded(&left_thumb.body).to_rgb8().get_pixel(80, 80).0,
        [255, 0, 0]
    );

    // Inside a width, proportions kept; never larger than the original.
    let small = app.get(&format!("{url}?w=320&format=jpeg&q=90")).await;
    assert_eq!(small.header("content-type").unwrap(), "image/jpeg");
    assert!(
        small
            .header("content-disposition")
            .unwrap()
            .contains("halves.jpg")
    );
    let small_image = decoded(&small.body);
    assert_eq!((small_image.width(), small_image.height()), (320, 160));
    let full = app.get(&format!("{url}?w=1920&format=webp")).await;
    assert_eq!(full.header("content-type").unwrap(), "image/webp");
    let full_image = decoded(&full.body);
    assert_eq!((full_image.width(), full_image.height()), (400, 200));

    // Many at once ask for a new variant: it is made once.
    let contained = format!("{url}?w=160&h=160&fit=contain");
    let requests = (0..8).map(|_| app.get(&contained));
    let answers = futures_util::future::join_all(requests).await;
    assert!(
        answers
            .iter()
            .all(|answer| answer.status() == 200 && answer.body == answers[0].body)
    );
    let sha = right["sha256"].as_str().unwrap();
    let made: Vec<_> = std::fs::read_dir(dir.join("variants").join(sha))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut made_sorted = made.clone();
    made_sorted.sort();
    assert_eq!(
        made_sorted,
        [
            "w160-h160-contain-q80.png",
            "w160-h160-cover-f0.100,0.500-q80.png",
            "w160-h160-cover-f0.900,0.500-q80.png",
            "w1920-h0-inside-q80.webp",
            "w320-h0-inside-q90.jpg"
        ],
        "each variant once, no temporary files left"
    );
    let contain = decoded(&answers[0].body).to_rgba8();
    assert_eq!(contain.dimensions(), (160, 160));
    assert_eq!(
        contain.get_pixel(80, 10).0[3],
        0,
        "contain fills with transparency"
    );

    // Only the grid, only images.
    app.get(&format!("{url}?w=333"))
        .await
        .problem(400, "invalid_request");
    app.get(&format!("{url}?fit=stretch&w=320"))
        .await
        .problem(400, "invalid_request");
    app.get(&format!("{url}?preset=card&w=320"))
        .await
        .problem(400, "invalid_request");
}

#[actix_web::test]
async fn an_image_that_cannot_be_decoded_has_no_variants() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    // A PNG whose header is whole and whose pixels are not.
    let mut broken = png(64, 64);
    let cut = broken.len() - 40;
    broken.truncate(cut);
    broken.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]);
    let asset = app
        .request(
            Method::POST,
            "/api/v1/assets?title=Broken&alt=Broken&status=published",
        )
        .bearer(&token)
        .raw("image/png", broken)
        .send()
        .await
        .ok(201);
    let url = asset["url"].as_str().unwrap();
    let refused = app.get(&format!("{url}?preset=thumb")).await;
    refused.problem(422, "validation_failed");
    assert_eq!(
        app.get(url).await.status(),
        200,
        "the original is still served"
    );
}

#[actix_web::test]
async fn a_signed_url_shows_a_drafts_bytes_to_an_img_for_an_hour() {
    let app = TestApp::spawn().await;
    let token = app.editor();
    let draft = app
        .request(
            Method::POST,
            "/api/v1/assets?title=Draft&alt=Not%20yet%20published",
        )
        .bearer(&token)
        .header("content-disposition", "attachment; filename=\"draft.png\"")
        .raw("image/png", halves())
        .send()
        .await
        .ok(201);
    let (id, url) = (
        draft["id"].as_str().unwrap(),
        draft["url"].as_str().unwrap(),
    );
    app.get(url).await.problem(404, "not_found");

    let signing = format!("/api/v1/assets/{id}/signed-url");
    app.get(&signing).await.problem(401, "unauthorized");
    let signed = app
        .request(Method::GET, &signing)
        .bearer(&token)
        .send()
        .await;
    assert_eq!(signed.header("cache-control").unwrap(), "no-store");
    let signed = signed.ok(200);
    let signed_url = signed["url"].as_str().unwrap();
    assert!(
        signed_url.starts_with(&format!("{url}?expires=")),
        "{signed_url}"
    );
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(signed["expires_at"].as_str().unwrap()).unwrap();
    let left = expires_at.timestamp() - chrono::Utc::now().timestamp();
    assert!((3590..=3600).contains(&left), "{left}");

    // Anyone with it reads the draft, and its variants, without a token.
    let read = app.get(signed_url).await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.body, halves());
    assert!(
        read.header("cache-control")
            .unwrap()
            .starts_with("private, max-age=")
    );
    let thumb = app.get(&format!("{signed_url}&preset=thumb")).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(decoded(&thumb.body).width(), 160);
    // With a focal point, the crop's URL carries it: the redirect keeps the signature.
    app.request(Method::PATCH, &format!("/api/v1/assets/{id}"))
        .bearer(&token)
        .merge_patch(serde_json::json!({"focal_x": 0.25, "focal_y": 0.5}))
        .send()
        .await
        .ok(200);
    let moved = app.get(&format!("{signed_url}&preset=thumb")).await;
    assert_eq!(moved.status(), 302);
    let location = moved.header("location").unwrap();
    assert!(
        location.contains("focus=0.250,0.500") && location.contains("&signature="),
        "{location}"
    );
    let focused = app.get(&location).await;
    assert_eq!(focused.status(), 200);
    assert_eq!(
        decoded(&focused.body).to_rgb8().get_pixel(80, 80).0,
        [255, 0, 0]
    );

    // A signature is for its path and its expiry, and no other.
    let tampered = signed_url.replace("expires=", "expires=1");
    app.get(&tampered).await.problem(404, "not_found");
    let half = signed_url.split("&signature=").next().unwrap();
    app.get(half).await.problem(404, "not_found");
    let other_id = uuid::Uuid::new_v4();
    let elsewhere = signed_url.replacen(id, &other_id.to_string(), 1);
    app.get(&elsewhere).await.problem(404, "not_found");
}
