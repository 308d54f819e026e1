//! The caller itself: `GET /api/v1/me` says who a token is, and `PATCH /api/v1/me`
//! lets a person change their own password, given the current one.

use seesac_api::platform::auth::Role;
use serde_json::json;

use crate::auth::log_in as log_in_for;
use crate::helpers::TestApp;
use crate::tokens::{create_token, secret};

const PASSWORD: &str = "correct horse battery staple";

fn create_user(app: &TestApp, username: &str, role: Role) {
    seesac_api::admin::users::create(&mut app.database.connect(), username, PASSWORD, role)
        .unwrap();
}

async fn log_in(app: &TestApp, username: &str, password: &str) -> u16 {
    app.request(actix_web::http::Method::POST, "/api/v1/auth/token")
        .json(json!({"username": username, "password": password}))
        .send()
        .await
        .status()
}

#[actix_web::test]
async fn a_person_and_an_api_token_each_see_who_they_are() {
    let app = TestApp::spawn().await;
    create_user(&app, "anna", Role::Editor);
    let token = log_in_for(&app, "anna", PASSWORD).await;
    let me = app.get_as(&token, "/api/v1/me").await.ok(200);
    assert_eq!(
        (
            me["kind"].as_str(),
            me["name"].as_str(),
            me["role"].as_str()
        ),
        (Some("user"), Some("anna"), Some("editor"))
    );
    let expires = chrono::DateTime::parse_from_rfc3339(me["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let left = expires - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(55) && left <= chrono::Duration::hours(1),
        "{me}"
    );

    app.post(
        &app.admin(),
        "/api/v1/partners",
        json!({"slug": "mod-rs", "name": "MoD Serbia", "areas": ["RS"]}),
    )
    .await
    .ok(201);
    let created = create_token(&app, &["observations:write"], Some("mod-rs")).await;
    let machine = app.get_as(&secret(&created), "/api/v1/me").await.ok(200);
    assert_eq!(machine["kind"], "token");
    assert_eq!(machine["id"], created["id"]);
    assert_eq!(machine["name"], "a sync job");
    assert_eq!(machine["scopes"], json!(["observations:write"]));
    assert_eq!(machine["partner"], "mod-rs");
    assert_eq!(machine["expires_at"], created["expires_at"]);
    assert!(machine["role"].is_null());

    app.get("/api/v1/me").await.problem(401, "unauthorized");
    app.get_as(&token, "/api/v1/me?x=1")
        .await
        .problem(400, "invalid_request");
}

#[actix_web::test]
async fn a_person_changes_their_own_password_and_their_other_tokens_end() {
    let app = TestApp::spawn().await;
    create_user(&app, "anna", Role::Editor);
    let token = log_in_for(&app, "anna", PASSWORD).await;
    let other = log_in_for(&app, "anna", PASSWORD).await;
    let new = "a new and longer passphrase";

    let short = app
        .patch(
            &token,
            "/api/v1/me",
            json!({"current_password": PASSWORD, "password": "short"}),
        )
        .await;
    short.problem(422, "validation_failed");
    assert_eq!(short.pointers(), ["/password"]);
    app.patch(&token, "/api/v1/me", json!({"password": new}))
        .await
        .problem(422, "validation_failed");
    app.patch(
        &token,
        "/api/v1/me",
        json!({"current_password": "not the password", "password": new}),
    )
    .await
    .problem(401, "unauthorized");
    // Nothing changed: the old password still logs in.
    assert_eq!(log_in(&app, "anna", PASSWORD).await, 200);

    let changed = app
        .patch(
            &token,
            "/api/v1/me",
            json!({"current_password": PASSWORD, "password": new}),
        )
        .await
        .ok(200);
    let fresh = changed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_as(&fresh, "/api/v1/me").await.ok(200)["name"],
        "anna"
    );
    for old in [&token, &other] {
        app.get_as(old, "/api/v1/me")
            .await
            .problem(401, "unauthorized");
    }
    assert_eq!(log_in(&app, "anna", PASSWORD).await, 401);
    assert_eq!(log_in(&app, "anna", new).await, 200);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM audit WHERE type = 'user' AND key = 'anna' \
             AND actor = 'user:anna'"
        ),
        1,
        "the change is audited as the person's"
    );

    // An API token has no password.
    let created = create_token(&app, &["content:read"], None).await;
    app.patch(
        &secret(&created),
        "/api/v1/me",
        json!({"current_password": PASSWORD, "password": new}),
    )
    .await
    .problem(403, "forbidden");
}

#[actix_web::test]
async fn wrong_current_passwords_count_toward_the_login_lock() {
    let app = TestApp::spawn().await;
    create_user(&app, "anna", Role::Editor);
    let token = log_in_for(&app, "anna", PASSWORD).await;
    for _ in 0..10 {
        app.patch(
            &token,
            "/api/v1/me",
            json!({"current_password": "guess", "password": "a new and longer passphrase"}),
        )
        .await
        .problem(401, "unauthorized");
    }
    // The username is locked now, for logins and for changes alike.
    assert_eq!(log_in(&app, "anna", PASSWORD).await, 429);
    app.patch(
        &token,
        "/api/v1/me",
        json!({"current_password": PASSWORD, "password": "a new and longer passphrase"}),
    )
    .await
    .problem(429, "too_many_requests");
}
