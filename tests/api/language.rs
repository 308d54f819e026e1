//! Errors are classified whatever the language of the database server: a server
//! whose messages are German still gives a 409 that names the field for a
//! duplicate key, and a 503 (not a 500) for a deadlock.
//!
//! The tests' own cluster runs with `LANGUAGE=de` (see `cluster.rs`), so a database
//! whose `lc_messages` is a real locale answers in German. Against a server given
//! by `DATABASE_URL`, which may have no translations, these tests say so and stop.

use std::sync::{Arc, Barrier};
use std::thread;

use actix_web::ResponseError;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, PooledConnection};
use seesac_api::platform::db;
use seesac_api::platform::error::AppError;

use crate::helpers::{Options, TestApp, page};

/// Makes the app's database speak German to every session that does not ask
/// otherwise; false if this server cannot (no translations, or not our cluster).
fn speak_german(app: &TestApp) -> bool {
    let mut admin = PgConnection::establish(&crate::helpers::database_url("postgres"))
        .expect("connect to the server");
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} SET lc_messages = 'C.UTF-8'",
            app.database.name
        ))
        .expect("set the database's language");
    let mut plain = app.database.connect();
    let message = match plain.batch_execute("SELECT 1/0") {
        Err(diesel::result::Error::DatabaseError(_, info)) => info.message().to_owned(),
        other => panic!("1/0 did not fail: {other:?}"),
    };
    if message.contains("Division") {
        return true;
    }
    assert!(
        std::env::var("DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()),
        "the tests' own cluster should answer in German, but said {message:?}"
    );
    eprintln!("skipped: the server at DATABASE_URL answers {message:?}, not German");
    false
}

#[actix_web::test]
async fn a_duplicate_key_on_a_german_server_is_a_422_that_names_the_field() {
    let app = TestApp::spawn_with(Options::default()).await;
    if !speak_german(&app) {
        return;
    }
    let token = app.editor();
    app.post(&token, "/api/v1/pages", page("mission", "Mission"))
        .await
        .ok(201);
    // Renamed onto another page's slug: the database's unique constraint, not the
    // service's own check, refuses it.
    app.post(&token, "/api/v1/pages", page("vision", "Vision"))
        .await
        .ok(201);
    let taken = app
        .patch(
            &token,
            "/api/v1/pages/vision",
            serde_json::json!({"slug": "mission"}),
        )
        .await;
    let problem = taken.problem(422, "validation_failed");
    assert_eq!(taken.pointers(), ["/slug"], "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("mission"),
        "the detail is PostgreSQL's, in English: {problem}"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'vision'"),
        1
    );
}

type Pooled = PooledConnection<ConnectionManager<PgConnection>>;

/// Two sessions that lock the same two rows in opposite orders: one of them is
/// chosen as the deadlock's victim. Returns that one's error.
fn deadlock(mut a: Pooled, mut b: Pooled) -> diesel::result::Error {
    let barrier = Arc::new(Barrier::new(2));
    let run = |conn: &mut Pooled, first: &str, second: &str, barrier: Arc<Barrier>| {
        conn.transaction(|conn| {
            diesel::sql_query("UPDATE pages SET position = position + 1 WHERE slug = $1")
                .bind::<diesel::sql_types::Text, _>(first)
                .execute(conn)?;
            barrier.wait();
            diesel::sql_query("UPDATE pages SET position = position + 1 WHERE slug = $1")
                .bind::<diesel::sql_types::Text, _>(second)
                .execute(conn)
        })
    };
    let other = barrier.clone();
    let thread = thread::spawn(move || run(&mut b, "b", "a", other).err());
    let mine = run(&mut a, "a", "b", barrier).err();
    let theirs = thread.join().expect("the other session");
    match (mine, theirs) {
        (Some(error), None) | (None, Some(error)) => error,
        other => panic!("expected one deadlock victim, got {other:?}"),
    }
}

#[actix_web::test]
async fn a_deadlock_on_a_german_server_is_a_503_not_a_500() {
    let app = TestApp::spawn_with(Options::default()).await;
    if !speak_german(&app) {
        return;
    }
    let token = app.editor();
    for slug in ["a", "b"] {
        app.post(&token, "/api/v1/pages", page(slug, slug))
            .await
            .ok(201);
    }
    // The service's own sessions, as its pool sets them up.
    let pool = db::pool(&app.database.url, 2);
    let error = deadlock(pool.get().expect("a"), pool.get().expect("b"));
    assert_eq!(
        AppError::from(error).status_code(),
        503,
        "a deadlock is a retry, not a bug"
    );

    // The same deadlock in sessions left in German is what the pool prevents: read
    // by its words, it would not be recognised.
    let plain = diesel::r2d2::Pool::builder()
        .max_size(2)
        .build(ConnectionManager::<PgConnection>::new(&app.database.url))
        .expect("a plain pool");
    let german = deadlock(plain.get().expect("a"), plain.get().expect("b"));
    let diesel::result::Error::DatabaseError(_, info) = &german else {
        panic!("not a database error: {german:?}");
    };
    assert!(
        !info.message().contains("deadlock"),
        "the server's own words are German: {}",
        info.message()
    );
    assert_eq!(AppError::from(german).status_code(), 500);
}
