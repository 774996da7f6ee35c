//! The routes and their handlers; spool work runs on the blocking pool.

use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use sg_spool::{Area, QueueId, Spool};

use crate::metrics::SpoolGauges;
use crate::quarantine::{self, Detail, Summary};
use crate::{ApiError, AppState, token};

/// The whole HTTP app: health, metrics and `/api/v1` (which needs the bearer token).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/messages", get(messages))
        .route("/quarantine", get(list))
        .route("/quarantine/{id}", get(show).delete(delete))
        .route("/quarantine/{id}/raw", get(raw))
        .route("/quarantine/{id}/release", post(release))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .with_state(state)
}

/// Runs blocking spool work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("spool task failed: {e}")))?
}

fn parse_id(id: &str) -> Result<QueueId, ApiError> {
    Ok(QueueId::parse(id)?)
}

/// `Authorization: Bearer <token>`, compared in constant time.
async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match given {
        Some(t) if token::matches(t.as_bytes(), state.token.as_bytes()) => {
            Ok(next.run(request).await)
        }
        _ => Err(ApiError::unauthorized()),
    }
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let store = state.store.clone();
    let store_up = tokio::task::spawn_blocking(move || store.ping().is_ok())
        .await
        .unwrap_or(false);
    if state.ready.load(Ordering::Acquire) && state.spool.path().is_dir() && store_up {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let spool = state.spool.clone();
    let gauges = blocking(move || Ok(spool_gauges(&spool))).await?;
    let text = state.metrics.render(gauges);
    let kind = "text/plain; version=0.0.4; charset=utf-8";
    Ok(([(header::CONTENT_TYPE, kind)], text).into_response())
}

/// Files in `queue/` and `quarantine/` (a directory count, no parsing: cheap at scrape time).
fn spool_gauges(spool: &Spool) -> SpoolGauges {
    let count = |area: Area| {
        std::fs::read_dir(spool.path().join(area.dir_name()))
            .map(|d| d.count() as u64)
            .unwrap_or(0)
    };
    SpoolGauges {
        queue: count(Area::Queue),
        quarantine: count(Area::Quarantine),
    }
}

/// Query string of `GET /api/v1/messages`.
#[derive(Debug, serde::Deserialize)]
struct MessagesParams {
    verdict: Option<String>,
    since: Option<i64>,
    limit: Option<u32>,
}

async fn messages(
    State(state): State<AppState>,
    Query(p): Query<MessagesParams>,
) -> Result<Json<Vec<sg_store::MessageRecord>>, ApiError> {
    let query = sg_store::MessageQuery {
        verdict: p.verdict,
        since: p.since,
        queue_id: None,
        limit: p.limit.unwrap_or(100).min(10_000),
    };
    blocking(move || {
        state
            .store
            .messages(&query)
            .map_err(|e| ApiError::internal(e.to_string()))
    })
    .await
    .map(Json)
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Summary>>, ApiError> {
    blocking(move || Ok(quarantine::list(&state.spool)?))
        .await
        .map(Json)
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Detail>, ApiError> {
    let id = parse_id(&id)?;
    blocking(move || Ok(quarantine::show(&state.spool, id)?.0))
        .await
        .map(Json)
}

async fn raw(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let body = blocking(move || Ok(state.spool.read_quarantined(id)?.body)).await?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], body).into_response())
}

async fn release(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let wake = state.wake.clone();
    blocking(move || Ok(quarantine::release(&state.spool, id, |id| wake(id))?)).await?;
    Ok(Json(json!({ "id": id.to_string(), "released": true })))
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    blocking(move || Ok(quarantine::delete(&state.spool, id)?)).await?;
    Ok(Json(json!({ "id": id.to_string(), "deleted": true })))
}
