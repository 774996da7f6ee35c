//! spearguard's HTTP side: `GET /healthz`, `GET /metrics` (Prometheus text format) and the
//! quarantine review API under `/api/v1` (bearer token). [`router`] builds the whole app, so
//! the binary and the tests run the same thing; [`serve`] runs it on a listener.
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz` | `200 ok` once listeners, spool and store are up, else `503` |
//! | `GET /metrics` | counters, gauges and the scan-time histogram ([`Metrics`]) |
//! | `GET /api/v1/messages?verdict=&since=&limit=` | the message log, newest first ([`sg_store::MessageRecord`]) |
//! | `GET /api/v1/quarantine` | JSON array of [`quarantine::Summary`] |
//! | `GET /api/v1/quarantine/{id}` | [`quarantine::Detail`] (summary + subject + headers) |
//! | `GET /api/v1/quarantine/{id}/raw` | the stored message, `message/rfc822` |
//! | `POST /api/v1/quarantine/{id}/release` | back to the queue once, delivery woken; then 404 |
//! | `DELETE /api/v1/quarantine/{id}` | gone for good |
//!
//! Errors are [`ApiError`]s: a status and `{"error": "..."}`.

mod api;
mod config;
mod error;
pub mod metrics;
pub mod quarantine;
pub mod token;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sg_spool::{QueueId, Spool};

pub use api::router;
pub use config::Config;
pub use error::ApiError;
pub use metrics::{Disposition, Metrics};

/// What the handlers share. Cheap to clone (every field is an `Arc`).
#[derive(Clone)]
pub struct AppState {
    /// The spool whose quarantine the API reviews and whose sizes `/metrics` reports.
    pub spool: Arc<Spool>,
    /// The database: the message log `/api/v1/messages` reads; `/healthz` pings it.
    pub store: Arc<dyn sg_store::Store>,
    /// The registry `/metrics` renders.
    pub metrics: Arc<Metrics>,
    /// The bearer token `/api/v1` requires (an empty token refuses every request).
    pub token: Arc<str>,
    /// Set once every listener is bound and the spool is open; `/healthz` answers 503 before.
    pub ready: Arc<AtomicBool>,
    /// Hands a released message's id to the delivery worker.
    pub wake: Arc<dyn Fn(QueueId) + Send + Sync>,
}

/// Serves [`router`]`(state)` on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
