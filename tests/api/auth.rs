//! Tokens, roles, and what a write without the right token gets.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use seesac_api::platform::auth::Role;
use seesac_api::platform::auth::jwt::{AUDIENCE, Claims, ISSUER};
use serde_json::json;

use crate::helpers::{JWT_SECRET, TestApp, page};

fn create_user(app: &TestApp, username: &str, password: &str, role: Role) {
    seesac_api::admin::users::create(&mut app.database.connect(), username, password, role)
        .unwrap();
}

#[actix_web::test]
async fn a_user_gets_a_bearer_token_that_lets_them_write() {
    let app = TestApp::spawn().await;
    create_user(&app, "editor", "correct horse battery staple", Role::Editor);
    let response = app
        .request(actix_web::http::Method::POST, "/api/v1/auth/token")
        .json(json!({"username": "editor", "password": "correct horse battery staple"}))
        .send()
        .await;
    let token = response.ok(200);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
    let access = token["access_token"].as_str().unwrap();
    let claims = app.keys.verify(access).unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.role, claims.exp - claims.iat),
        ("editor", Role::Editor, 3600)
    );
    assert_eq!(
        (claims.iss.as_str(), claims.aud.as_str()),
        (ISSUER, AUDIENCE)
    );
    app.post(access, "/api/v1/pages", page("mission", "Mission"))
        .await
        .ok(201);
    let hash = app
        .text("SELECT password_hash AS value FROM users WHERE username = 'editor'")
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[actix_web::test]
async fn a_wrong_username_and_a_wrong_password_get_the_same_401() {
    let app = TestApp::spawn().await;
    create_user(&app, "admin", "correct horse battery staple", Role::Admin);
    let attempt = |username: &str, password: &str| {
        app.request(actix_web::http::Method::POST, "/api/v1/auth/token")
            .json(json!({"username": username, "password": password}))
            .send()
    };
    let wrong_password = attempt("admin", "wrong horse battery staple").await;
    let wrong_user = attempt("nobody", "correct horse battery staple").await;
    assert_eq!(
        crate::helpers::without_request_id(wrong_password.problem(401, "unauthorized")),
        crate::helpers::without_request_id(wrong_user.problem(401, "unauthorized"))
    );
    assert!(
        wrong_password
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    let missing = app
        .request(actix_web::http::Method::POST, "/api/v1/auth/token")
        .json(json!({"username": "admin"}))
        .send()
        .await;
    missing.problem(422, "validation_failed");
    assert_eq!(missing.pointers(), ["/password"]);
}

#[actix_web::test]
async fn a_write_without_a_token_is_a_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let response = app
        .request(actix_web::http::Method::POST, "/api/v1/pages")
        .json(page("mission", "Mission"))
        .send()
        .await;
    response.problem(401, "unauthorized");
    assert!(
        response
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    // The token is checked before the body: a bad body does not change the answer.
    let bad_body = app
        .request(actix_web::http::Method::PUT, "/api/v1/pages/mission")
        .raw("text/plain", b"x".to_vec());
    bad_body.send().await.problem(401, "unauthorized");
    app.request(actix_web::http::Method::DELETE, "/api/v1/pages/mission")
        .send()
        .await
        .problem(401, "unauthorized");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

fn forge(claims: &Claims, secret: &[u8], algorithm: Algorithm) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[actix_web::test]
async fn a_token_that_is_forged_expired_early_or_for_someone_else_is_a_401() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now().timestamp();
    app.user("mallory", Role::Admin);
    let valid = Claims {
        sub: "mallory".into(),
        stamp: crate::helpers::stamp_of(&mut app.database.connect(), "mallory"),
        role: Role::Admin,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        nbf: now,
        exp: now + 600,
        jti: "x".into(),
    };
    let good = forge(&valid, JWT_SECRET.as_bytes(), Algorithm::HS256);
    app.post(&good, "/api/v1/pages", page("ok", "Ok"))
        .await
        .ok(201);

    let tokens = [
        forge(
            &valid,
            b"another-secret-another-secret-another",
            Algorithm::HS256,
        ),
        forge(&valid, JWT_SECRET.as_bytes(), Algorithm::HS512),
        forge(
            &Claims {
                exp: now - 3600,
                iat: now - 7200,
                nbf: now - 7200,
                ..clone(&valid)
            },
            JWT_SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        forge(
            &Claims {
                nbf: now + 3600,
                ..clone(&valid)
            },
            JWT_SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        forge(
            &Claims {
                iss: "someone-else".into(),
                ..clone(&valid)
            },
            JWT_SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        forge(
            &Claims {
                aud: "another-api".into(),
                ..clone(&valid)
            },
            JWT_SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        // Signed with the right key, but living a year: the service never issues
        // such a token, so it was not made here.
        forge(
            &Claims {
                exp: now + 365 * 24 * 3600,
                ..clone(&valid)
            },
            JWT_SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        // alg: none, unsigned
        format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&serde_json::to_string(&valid).unwrap())
        ),
        "not-a-token".to_owned(),
        // The right key, a stamp the user does not have.
        forge(
            &Claims {
                stamp: "5eed0000-0000-4000-8000-000000000000".into(),
                ..clone(&valid)
            },
            JWT_SECRET.as_bytes(),
            Algorithm::HS256,
        ),
    ];
    for token in tokens {
        let response = app
            .post(&token, "/api/v1/pages", page("forged", "Forged"))
            .await;
        response.problem(401, "unauthorized");
        assert!(
            response
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_token")
        );
        // A bad token is refused on reads too, rather than silently ignored.
        app.get_as(&token, "/api/v1/pages")
            .await
            .problem(401, "unauthorized");
    }
    let basic = app
        .request(actix_web::http::Method::GET, "/api/v1/pages")
        .header("authorization", "Basic YWRtaW46YWRtaW4=");
    basic.send().await.problem(401, "unauthorized");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'forged'"),
        0
    );
}

fn clone(claims: &Claims) -> Claims {
    serde_json::from_value(serde_json::to_value(claims).unwrap()).unwrap()
}

fn b64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[actix_web::test]
async fn only_admins_manage_users_and_editors_get_a_403() {
    let app = TestApp::spawn().await;
    let new_user = json!({"username": "partner-desk", "password": "a long enough passphrase", "role": "editor"});
    app.post(&app.editor(), "/api/v1/users", new_user.clone())
        .await
        .problem(403, "forbidden");
    app.get_as(&app.editor(), "/api/v1/users")
        .await
        .problem(403, "forbidden");
    app.get("/api/v1/users").await.problem(401, "unauthorized");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'partner-desk'"),
        0
    );

    let created = app
        .post(&app.admin(), "/api/v1/users", new_user.clone())
        .await;
    assert_eq!(created.ok(201)["role"], "editor");
    assert!(created.json().get("password_hash").is_none());
    app.post(&app.admin(), "/api/v1/users", new_user)
        .await
        .problem(422, "validation_failed");
    let short = json!({"username": "x", "password": "short", "role": "king"});
    let response = app.post(&app.admin(), "/api/v1/users", short).await;
    response.problem(422, "validation_failed");
    assert_eq!(response.pointers(), ["/password", "/role"]);
    let users = app.get_as(&app.admin(), "/api/v1/users").await.ok(200);
    assert!(
        users["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|user| user["username"] == "partner-desk"),
        "{users}"
    );
    let location = created.header("location").unwrap();
    assert_eq!(
        app.get_as(&app.admin(), &location).await.ok(200)["username"],
        "partner-desk"
    );
    app.get_as(&app.editor(), &location)
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn the_last_admin_cannot_be_deleted_or_demoted() {
    let app = TestApp::spawn().await;
    create_user(&app, "admin", "correct horse battery staple", Role::Admin);
    create_user(&app, "editor", "correct horse battery staple", Role::Editor);
    let token = app.admin();
    // Two admins: admin and the test's own, test-admin.
    assert_eq!(
        app.delete(&token, "/api/v1/users/admin").await.status(),
        204
    );
    // The rule is about the last admin, not about acting on oneself.
    let deleted = app.delete(&token, "/api/v1/users/test-admin").await;
    let demoted = app
        .patch(
            &token,
            "/api/v1/users/test-admin",
            json!({"role": "editor"}),
        )
        .await;
    for refused in [deleted, demoted] {
        let problem = refused.problem(409, "conflict");
        assert!(
            problem["detail"].as_str().unwrap().contains("last admin"),
            "{problem}"
        );
    }
    assert_eq!(
        app.delete(&token, "/api/v1/users/editor").await.status(),
        204
    );
    app.delete(&token, "/api/v1/users/editor")
        .await
        .problem(404, "not_found");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE role = 'admin'"),
        1
    );
}

pub async fn log_in(app: &TestApp, username: &str, password: &str) -> String {
    app.request(actix_web::http::Method::POST, "/api/v1/auth/token")
        .json(json!({"username": username, "password": password}))
        .send()
        .await
        .ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A new password or role ends every token issued before it; so does deleting
/// the user, even when a user of the same name is created again.
#[actix_web::test]
async fn a_new_password_a_new_role_or_a_deletion_ends_the_users_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let password = "correct horse battery staple";
    create_user(&app, "writer", password, Role::Admin);
    let works = |token: String| {
        let app = &app;
        async move { app.get_as(&token, "/api/v1/users").await.status() }
    };

    let token = log_in(&app, "writer", password).await;
    assert_eq!(works(token.clone()).await, 200);
    app.patch(
        &admin,
        "/api/v1/users/writer",
        json!({"password": "another long passphrase"}),
    )
    .await
    .ok(200);
    assert_eq!(works(token).await, 401, "after a new password");

    let token = log_in(&app, "writer", "another long passphrase").await;
    app.patch(&admin, "/api/v1/users/writer", json!({"role": "editor"}))
        .await
        .ok(200);
    app.get_as(&token, "/api/v1/pages")
        .await
        .problem(401, "unauthorized");
    app.patch(&admin, "/api/v1/users/writer", json!({"role": "admin"}))
        .await
        .ok(200);
    assert_eq!(works(token).await, 401, "nor after the role is given back");

    let token = log_in(&app, "writer", "another long passphrase").await;
    assert_eq!(
        app.delete(&admin, "/api/v1/users/writer").await.status(),
        204
    );
    create_user(&app, "writer", "another long passphrase", Role::Admin);
    assert_eq!(
        works(token).await,
        401,
        "a user created again is someone else"
    );
}

/// A person who changes their own password gets a fresh token with the answer;
/// the one they sent it with ends.
#[actix_web::test]
async fn changing_ones_own_password_answers_a_fresh_token() {
    let app = TestApp::spawn().await;
    let password = "correct horse battery staple";
    create_user(&app, "owner", password, Role::Admin);
    let token = log_in(&app, "owner", password).await;
    let changed = app
        .patch(
            &token,
            "/api/v1/users/owner",
            json!({"password": "a new long passphrase"}),
        )
        .await
        .ok(200);
    let fresh = changed["access_token"]
        .as_str()
        .expect("a fresh token")
        .to_owned();
    assert_eq!(changed["username"], "owner");
    app.get_as(&fresh, "/api/v1/users").await.ok(200);
    app.get_as(&token, "/api/v1/users")
        .await
        .problem(401, "unauthorized");
    // Someone else's password change answers no token.
    create_user(&app, "other", password, Role::Editor);
    let answer = app
        .patch(
            &fresh,
            "/api/v1/users/other",
            json!({"password": "a new long passphrase"}),
        )
        .await
        .ok(200);
    assert!(answer.get("access_token").is_none(), "{answer}");
}
