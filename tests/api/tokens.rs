//! API tokens for machines: created by admins with their secret shown once,
//! scoped, expiring and revocable; and people's tokens, checked against their user
//! on every request.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Response, TestApp, page};
use seesac_api::platform::auth::Role;

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

/// Creates a token with these scopes (and partner), as an admin; its answer.
pub async fn create_token(app: &TestApp, scopes: &[&str], partner: Option<&str>) -> Value {
    let body = json!({"name": "a sync job", "partner": partner, "scopes": scopes,
                      "expires_at": in_days(30)});
    app.post(&app.admin(), "/api/v1/tokens", body).await.ok(201)
}

/// The secret of a created token.
pub fn secret(created: &Value) -> String {
    created["token"].as_str().unwrap().to_owned()
}

/// Everything the database holds about tokens, as text.
fn stored(app: &TestApp) -> String {
    app.text("SELECT string_agg(row_to_json(t)::text, ' ') AS value FROM api_tokens t")
        .unwrap_or_default()
}

/// The problem of a request with a bad token, for comparing: every bad token gets
/// the same body.
fn problem_of(response: &Response) -> Value {
    let body = crate::helpers::without_request_id(response.problem(401, "unauthorized"));
    assert!(
        response
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    body
}

#[actix_web::test]
async fn an_admin_creates_a_token_whose_secret_is_shown_once_and_stored_as_a_hash() {
    let app = TestApp::spawn().await;
    let created = app
        .post(
            &app.admin(),
            "/api/v1/tokens",
            json!({"name": "preview", "scopes": ["content:read"], "expires_at": in_days(90)}),
        )
        .await;
    let location = created.header("location").unwrap();
    assert_eq!(created.header("cache-control").as_deref(), Some("no-store"));
    let created = created.ok(201);
    let secret = secret(&created);
    assert!(secret.starts_with("seesac_at_"), "{secret}");
    assert_eq!(secret.len(), "seesac_at_".len() + 43 + 6);
    assert!(seesac_api::platform::auth::secrets::is_well_formed(&secret));
    assert_eq!(created["scopes"], json!(["content:read"]));
    assert_eq!(created["created_by"], "user:test-admin");
    assert_eq!(created["hint"], secret[..14]);

    // Never again: not in the list, not in the item, not in the database.
    let list = app.get_as(&app.admin(), "/api/v1/tokens").await;
    let item = app.get_as(&app.admin(), &location).await;
    for answer in [&list, &item] {
        assert_eq!(answer.status(), 200);
        assert!(!String::from_utf8_lossy(&answer.body).contains(&secret));
    }
    assert_eq!(list.json()["data"][0]["id"], created["id"]);
    assert!(item.json().get("token").is_none());
    assert!(!stored(&app).contains(&secret[10..]));
    let hash: String = Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM api_tokens WHERE secret_hash = '\\x{hash}'::bytea"
        )),
        1
    );
}

#[actix_web::test]
async fn tokens_are_created_only_by_admins_and_only_as_asked() {
    let app = TestApp::spawn().await;
    let valid = json!({"name": "preview", "scopes": ["content:read"], "expires_at": in_days(30)});
    app.post(&app.editor(), "/api/v1/tokens", valid.clone())
        .await
        .problem(403, "forbidden");
    app.request(actix_web::http::Method::POST, "/api/v1/tokens")
        .json(valid.clone())
        .send()
        .await
        .problem(401, "unauthorized");
    let machine = secret(&create_token(&app, &["content:write", "content:read"], None).await);
    let refused = app.post(&machine, "/api/v1/tokens", valid.clone()).await;
    let problem = refused.problem(403, "forbidden");
    assert!(
        problem["detail"].as_str().unwrap().contains("no API token"),
        "{problem}"
    );

    let cases = [
        (
            json!({"name": "x", "scopes": ["content:read"]}),
            "/expires_at",
        ),
        (
            json!({"name": "x", "scopes": ["content:read"], "expires_at": in_days(-1)}),
            "/expires_at",
        ),
        (
            json!({"name": "x", "scopes": ["content:read"], "expires_at": in_days(400)}),
            "/expires_at",
        ),
        (
            json!({"name": "x", "scopes": [], "expires_at": in_days(1)}),
            "/scopes",
        ),
        (
            json!({"name": "x", "scopes": ["users:write"], "expires_at": in_days(1)}),
            "/scopes/0",
        ),
        (
            json!({"name": " ", "scopes": ["content:read"], "expires_at": in_days(1)}),
            "/name",
        ),
    ];
    for (body, pointer) in cases {
        let response = app.post(&app.admin(), "/api/v1/tokens", body.clone()).await;
        response.problem(422, "validation_failed");
        assert_eq!(response.pointers(), [pointer], "{body}");
    }
    let unknown_partner = app
        .post(
            &app.admin(),
            "/api/v1/tokens",
            json!({"name": "x", "partner": "nobody", "scopes": ["observations:write"],
                   "expires_at": in_days(1)}),
        )
        .await;
    unknown_partner.problem(422, "validation_failed");
    assert_eq!(unknown_partner.pointers(), ["/partner"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM api_tokens"), 1);
    // A scope given twice counts once.
    let twice = app
        .post(
            &app.admin(),
            "/api/v1/tokens",
            json!({"name": "x", "scopes": ["content:read", "content:read"], "expires_at": in_days(1)}),
        )
        .await
        .ok(201);
    assert_eq!(twice["scopes"], json!(["content:read"]));
}

#[actix_web::test]
async fn a_revoked_an_expired_and_a_malformed_token_get_the_same_401() {
    let app = TestApp::seeded().await;
    let created = create_token(&app, &["content:read"], None).await;
    let token = secret(&created);
    let draft = "/api/v1/pages?status=draft";
    app.get_as(&token, draft).await.ok(200);

    // Revoked: its very next request is refused.
    let id = created["id"].as_str().unwrap();
    let revoke = app
        .delete(&app.admin(), &format!("/api/v1/tokens/{id}"))
        .await;
    assert_eq!(revoke.status(), 204);
    let revoked = problem_of(&app.get_as(&token, draft).await);
    let listed = app
        .get_as(&app.admin(), &format!("/api/v1/tokens/{id}"))
        .await
        .ok(200);
    assert!(listed["revoked_at"].is_string(), "{listed}");
    // Revoking again changes nothing.
    assert_eq!(
        app.delete(&app.admin(), &format!("/api/v1/tokens/{id}"))
            .await
            .status(),
        204
    );

    // Expired.
    let expiring = secret(&create_token(&app, &["content:read"], None).await);
    app.get_as(&expiring, draft).await.ok(200);
    assert_eq!(
        app.execute(&format!(
            "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE hint = '{}'",
            &expiring[..14]
        )),
        1
    );
    let expired = problem_of(&app.get_as(&expiring, draft).await);

    // Malformed: a wrong checksum, and one that never existed.
    let mut typo = expiring.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let malformed = problem_of(&app.get_as(&String::from_utf8(typo).unwrap(), draft).await);
    let never = seesac_api::platform::auth::secrets::generate();
    let unknown = problem_of(&app.get_as(&never, draft).await);
    let jwt = problem_of(&app.get_as("eyJ.not.a-jwt", draft).await);
    for other in [&expired, &malformed, &unknown, &jwt] {
        assert_eq!(other, &revoked, "one answer for every bad token");
    }
    for body in [&revoked, &expired, &malformed, &unknown] {
        assert!(!body.to_string().contains("seesac_at_"), "{body}");
    }
}

#[actix_web::test]
async fn scopes_decide_what_a_token_may_do() {
    let app = TestApp::seeded().await;
    let reader = secret(&create_token(&app, &["content:read"], None).await);
    let writer = secret(&create_token(&app, &["content:write"], None).await);
    let figures = secret(&create_token(&app, &["observations:write"], None).await);
    app.post(&app.editor(), "/api/v1/pages", page("preview", "Preview"))
        .await
        .ok(201);

    // content:read sees drafts, and writes nothing.
    app.get_as(&reader, "/api/v1/pages/preview").await.ok(200);
    app.get("/api/v1/pages/preview")
        .await
        .problem(404, "not_found");
    let refused = app.post(&reader, "/api/v1/pages", page("no", "No")).await;
    let problem = refused.problem(403, "forbidden");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("content:write"),
        "the 403 names the missing right: {problem}"
    );

    // content:write writes content, not observations.
    app.post(&writer, "/api/v1/pages", page("news", "News"))
        .await
        .ok(201);
    let observation = json!({"area": "RS", "value": 10, "period_start": "2023-01-01",
                             "period_end": "2023-12-31"});
    let path = "/api/v1/impact-metrics/women-in-armed-forces/observations";
    let refused = app.post(&writer, path, observation.clone()).await;
    assert!(
        refused.problem(403, "forbidden")["detail"]
            .as_str()
            .unwrap()
            .contains("observations:write")
    );

    // observations:write writes observations, not pages; and it does not read drafts.
    app.post(&figures, path, observation).await.ok(201);
    app.post(&figures, "/api/v1/pages", page("no", "No"))
        .await
        .problem(403, "forbidden");
    app.get_as(&figures, "/api/v1/pages/preview")
        .await
        .problem(404, "not_found");

    // No token manages users, partners or tokens, whatever its scopes.
    let all = secret(
        &create_token(
            &app,
            &["content:read", "content:write", "observations:write"],
            None,
        )
        .await,
    );
    for path in ["/api/v1/users", "/api/v1/partners", "/api/v1/tokens"] {
        app.get_as(&all, path).await.problem(403, "forbidden");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'no'"),
        0
    );
}

#[actix_web::test]
async fn a_tokens_last_use_is_recorded() {
    let app = TestApp::seeded().await;
    let created = create_token(&app, &["content:read"], None).await;
    assert!(created["last_used_at"].is_null());
    app.get_as(&secret(&created), "/api/v1/pages").await.ok(200);
    let id = created["id"].as_str().unwrap();
    let token = app
        .get_as(&app.admin(), &format!("/api/v1/tokens/{id}"))
        .await
        .ok(200);
    assert!(token["last_used_at"].is_string(), "{token}");
}

#[actix_web::test]
async fn a_deleted_users_token_stops_working_on_its_next_request() {
    let app = TestApp::spawn().await;
    let mallory = app.user("mallory", Role::Admin);
    app.get_as(&mallory, "/api/v1/users").await.ok(200);
    assert_eq!(
        app.delete(&app.admin(), "/api/v1/users/mallory")
            .await
            .status(),
        204
    );
    // The deleted admin cannot create a new admin any more.
    let attempt = app
        .post(
            &mallory,
            "/api/v1/users",
            json!({"username": "mallory2", "password": "a long enough passphrase", "role": "admin"}),
        )
        .await;
    problem_of(&attempt);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username LIKE 'mallory%'"),
        0
    );
}

#[actix_web::test]
async fn a_demoted_admins_token_ends_and_a_new_one_has_the_new_role() {
    let app = TestApp::spawn().await;
    let chief = app.user("chief", Role::Admin);
    app.get_as(&chief, "/api/v1/users").await.ok(200);
    let demoted = app
        .patch(
            &app.admin(),
            "/api/v1/users/chief",
            json!({"role": "editor"}),
        )
        .await
        .ok(200);
    assert_eq!(demoted["role"], "editor");
    // The role change ended the token; a new one has the new role.
    app.get_as(&chief, "/api/v1/users")
        .await
        .problem(401, "unauthorized");
    let chief = app.user("chief", Role::Editor);
    app.get_as(&chief, "/api/v1/users")
        .await
        .problem(403, "forbidden");
    // As an editor it still writes content.
    app.post(&chief, "/api/v1/pages", page("mission", "Mission"))
        .await
        .ok(201);
}
