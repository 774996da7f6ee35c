//! The router in process (`tower::ServiceExt::oneshot`): authentication, the quarantine
//! routes with their 404s, health and the metrics format.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use axum::response::Response;
use sg_spool::{Durability, Metadata, QueueId, Spool};
use sg_web::{AppState, Disposition, Metrics, router};
use tower::ServiceExt as _;

const TOKEN: &str = "s3cret-token";
const LURE: &[u8] = b"Received: from mx (192.0.2.1)\r\n\tby gw; date\r\nFrom: Bank <b@example.net>\r\nSubject: =?UTF-8?B?44GK55+l44KJ44Gb?= verify\r\n\r\nClick here.\r\n";

struct Fixture {
    _dir: tempfile::TempDir,
    spool: Arc<Spool>,
    state: AppState,
    woken: Arc<Mutex<Vec<QueueId>>>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let spool =
        Arc::new(Spool::open_with(dir.path().join("spool"), Durability::None).expect("open spool"));
    let woken = Arc::new(Mutex::new(Vec::new()));
    let w = woken.clone();
    let state = AppState {
        spool: spool.clone(),
        store: Arc::new(sg_store::SqliteStore::open_in_memory().expect("store")),
        metrics: Arc::new(Metrics::new()),
        token: TOKEN.into(),
        ready: Arc::new(AtomicBool::new(true)),
        wake: Arc::new(move |id| w.lock().expect("wake list").push(id)),
    };
    Fixture {
        _dir: dir,
        spool,
        state,
        woken,
    }
}

fn hold(spool: &Spool) -> QueueId {
    let meta = Metadata {
        mail_from: Some("b@example.net".into()),
        rcpt_to: vec!["victim@example.org".into()],
        received_at: 1_700_000_000,
        peer_ip: None,
        helo: Some("mx".into()),
        verdict: Some(
            r#"{"verdict":"quarantine","score":9.5,"signals":[{"name":"CREDENTIAL_REQUEST","score":4.0,"detail":"verify"}]}"#
                .into(),
        ),
    };
    spool.store_quarantined(&meta, LURE).expect("store")
}

async fn call(state: &AppState, method: Method, uri: &str, token: Option<&str>) -> Response {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    router(state.clone())
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn body(resp: Response) -> Vec<u8> {
    to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body")
        .to_vec()
}

async fn json(resp: Response) -> serde_json::Value {
    serde_json::from_slice(&body(resp).await).expect("JSON body")
}

#[tokio::test]
async fn api_needs_the_right_bearer_token() {
    let f = fixture();
    let uri = "/api/v1/quarantine";
    let none = call(&f.state, Method::GET, uri, None).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers()[header::WWW_AUTHENTICATE], "Bearer");
    assert!(
        json(none).await["error"]
            .as_str()
            .unwrap()
            .contains("token")
    );
    for wrong in ["s3cret-tokeN", "s3cret", "s3cret-token-and-more", ""] {
        let resp = call(&f.state, Method::GET, uri, Some(wrong)).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
    let basic = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Basic {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(f.state.clone()).oneshot(basic).await.unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "only the Bearer scheme"
    );
    let ok = call(&f.state, Method::GET, uri, Some(TOKEN)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    // Deleting without a token must not delete.
    let id = hold(&f.spool);
    let del = call(&f.state, Method::DELETE, &format!("{uri}/{id}"), None).await;
    assert_eq!(del.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(f.spool.quarantined().unwrap().entries.len(), 1);
}

#[tokio::test]
async fn an_empty_configured_token_refuses_everyone() {
    let mut f = fixture();
    f.state.token = "".into();
    let resp = call(&f.state, Method::GET, "/api/v1/quarantine", Some("")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn list_and_show_give_verdict_envelope_subject_and_headers() {
    let f = fixture();
    let id = hold(&f.spool);
    let list = json(call(&f.state, Method::GET, "/api/v1/quarantine", Some(TOKEN)).await).await;
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["id"], id.to_string());
    assert_eq!(item["received_at"], 1_700_000_000);
    assert_eq!(item["mail_from"], "b@example.net");
    assert_eq!(item["rcpt_to"], serde_json::json!(["victim@example.org"]));
    assert_eq!(item["verdict"], "quarantine");
    assert_eq!(item["score"], 9.5);
    assert_eq!(item["signals"][0]["name"], "CREDENTIAL_REQUEST");

    let uri = format!("/api/v1/quarantine/{id}");
    let detail = json(call(&f.state, Method::GET, &uri, Some(TOKEN)).await).await;
    assert_eq!(detail["id"], id.to_string());
    assert_eq!(detail["verdict"], "quarantine");
    assert_eq!(detail["subject"], "お知らせ verify", "RFC 2047 decoded");
    assert_eq!(detail["headers"][0]["name"], "Received");
    assert_eq!(
        detail["headers"][0]["value"],
        "from mx (192.0.2.1) by gw; date"
    );
    assert_eq!(detail["headers"].as_array().unwrap().len(), 3);

    let raw = call(&f.state, Method::GET, &format!("{uri}/raw"), Some(TOKEN)).await;
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(raw.headers()[header::CONTENT_TYPE], "message/rfc822");
    assert_eq!(body(raw).await, LURE);
}

#[tokio::test]
async fn release_moves_to_the_queue_once_and_wakes_the_worker() {
    let f = fixture();
    let id = hold(&f.spool);
    let uri = format!("/api/v1/quarantine/{id}/release");
    let first = call(&f.state, Method::POST, &uri, Some(TOKEN)).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(json(first).await["released"], true);
    assert_eq!(*f.woken.lock().unwrap(), vec![id]);
    assert_eq!(f.spool.read(id).unwrap().body, LURE, "queued for delivery");
    assert!(f.spool.quarantined().unwrap().entries.is_empty());

    let second = call(&f.state, Method::POST, &uri, Some(TOKEN)).await;
    assert_eq!(second.status(), StatusCode::NOT_FOUND);
    assert!(
        json(second).await["error"]
            .as_str()
            .unwrap()
            .contains(&id.to_string())
    );
    assert_eq!(f.woken.lock().unwrap().len(), 1, "woken once");
}

#[tokio::test]
async fn delete_removes_for_good_and_unknown_ids_are_404_or_400() {
    let f = fixture();
    let id = hold(&f.spool);
    let uri = format!("/api/v1/quarantine/{id}");
    let del = call(&f.state, Method::DELETE, &uri, Some(TOKEN)).await;
    assert_eq!(del.status(), StatusCode::OK);
    assert!(f.spool.quarantined().unwrap().entries.is_empty());
    for (method, path) in [
        (Method::DELETE, uri.clone()),
        (Method::GET, uri.clone()),
        (Method::GET, format!("{uri}/raw")),
        (Method::POST, format!("{uri}/release")),
    ] {
        let resp = call(&f.state, method.clone(), &path, Some(TOKEN)).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert!(json(resp).await["error"].is_string());
    }
    let bad = call(
        &f.state,
        Method::GET,
        "/api/v1/quarantine/..%2Fqueue",
        Some(TOKEN),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let route = call(&f.state, Method::GET, "/api/v2/nothing", Some(TOKEN)).await;
    assert_eq!(route.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn messages_lists_the_log_newest_first_with_a_verdict_filter() {
    let f = fixture();
    for (n, verdict) in ["deliver", "quarantine", "deliver"].iter().enumerate() {
        f.state
            .store
            .record_message(&sg_store::MessageRecord {
                received_at: 1_700_000_000 + n as i64,
                verdict: (*verdict).into(),
                action: "queued".into(),
                rcpt_to: vec!["a@example.org".into()],
                ..sg_store::MessageRecord::default()
            })
            .expect("record");
    }
    let anon = call(&f.state, Method::GET, "/api/v1/messages", None).await;
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    let all = json(call(&f.state, Method::GET, "/api/v1/messages", Some(TOKEN)).await).await;
    let times: Vec<i64> = all
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["received_at"].as_i64().expect("time"))
        .collect();
    assert_eq!(times, [1_700_000_002, 1_700_000_001, 1_700_000_000]);
    let uri = "/api/v1/messages?verdict=deliver&limit=1";
    let some = json(call(&f.state, Method::GET, uri, Some(TOKEN)).await).await;
    assert_eq!(some.as_array().expect("array").len(), 1);
    assert_eq!(some[0]["received_at"], 1_700_000_002);
    assert_eq!(some[0]["rcpt_to"][0], "a@example.org");
    let bad = call(
        &f.state,
        Method::GET,
        "/api/v1/messages?limit=x",
        Some(TOKEN),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn healthz_follows_readiness() {
    let f = fixture();
    let ok = call(&f.state, Method::GET, "/healthz", None).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(body(ok).await, b"ok\n");
    f.state
        .ready
        .store(false, std::sync::atomic::Ordering::Release);
    let down = call(&f.state, Method::GET, "/healthz", None).await;
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_spool_gauges_read_at_scrape() {
    let f = fixture();
    hold(&f.spool);
    hold(&f.spool);
    f.spool
        .store(&Metadata::default(), b"Subject: x\r\n\r\nqueued\r\n")
        .unwrap();
    f.state.metrics.count_message(Disposition::Quarantine);
    f.state.metrics.count_message(Disposition::Quarantine);
    f.state.metrics.delivery_attempt();
    f.state
        .metrics
        .observe_scan(std::time::Duration::from_millis(3));
    let resp = call(&f.state, Method::GET, "/metrics", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(body(resp).await).unwrap();
    for line in [
        "# TYPE spearguard_messages_total counter",
        "spearguard_messages_total{verdict=\"quarantine\"} 2",
        "spearguard_messages_total{verdict=\"deliver\"} 0",
        "spearguard_messages_total{verdict=\"notstored\"} 0",
        "# TYPE spearguard_spool_queue_depth gauge",
        "spearguard_spool_queue_depth 1",
        "spearguard_quarantine_size 2",
        "spearguard_delivery_attempts_total 1",
        "spearguard_delivery_failures_total 0",
        "spearguard_smtp_sessions_active 0",
        "# TYPE spearguard_scan_seconds histogram",
        "spearguard_scan_seconds_bucket{le=\"0.0025\"} 0",
        "spearguard_scan_seconds_bucket{le=\"0.005\"} 1",
        "spearguard_scan_seconds_count 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line:?} missing in\n{text}"
        );
    }
    // Every sample line is `name{labels} value` with a numeric value.
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = l.rsplit_once(' ').unwrap();
        assert!(name.starts_with("spearguard_"), "{l}");
        assert!(value.parse::<f64>().is_ok(), "{l}");
    }
}
