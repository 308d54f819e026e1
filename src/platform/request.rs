//! The id of the request being served, which errors, logs and the audit log name:
//! set by `observe::middleware`, read anywhere below it.

use actix_web::http::header::HeaderName;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

tokio::task_local! {
    /// The id of the request the current task serves, for log lines written while
    /// serving it (`SEESAC_LOG_FORMAT=json` adds it to each; errors name it).
    static CURRENT: String;
}

/// The id of the request this task is serving, if it is serving one.
pub fn current_request_id() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `work` as the serving of the request `id`.
pub async fn serving<F: std::future::Future>(id: String, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}
