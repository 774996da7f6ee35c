//! One attempt against a real next hop (the sink) and a real spool: recorded recipients are
//! never sent again, expired ones bounce, the null sender never gets a bounce.

use std::sync::Arc;
use std::time::Duration;

use sg_deliver::relay::{Relay, Timeouts};
use sg_deliver::{DeliveryConfig, Maildirs};
use sg_spool::{Durability, Metadata, QueueId, Spool};
use sg_testkit::sink::{Sink, SinkOptions};
use tokio::sync::mpsc;

use super::{Deliverer, Target, unix_now};

const BODY: &[u8] = b"From: alice@example.org\r\nSubject: hi\r\n\r\nhello\r\n";

fn meta(from: &str, to: &[&str], received_at: u64) -> Metadata {
    Metadata {
        mail_from: Some(from.to_string()),
        rcpt_to: to.iter().map(|s| s.to_string()).collect(),
        received_at,
        ..Metadata::default()
    }
}

fn deliverer(spool: &Arc<Spool>, target: Target) -> (Deliverer, mpsc::UnboundedReceiver<QueueId>) {
    let (queued, rx) = mpsc::unbounded_channel();
    let d = Deliverer {
        spool: Arc::clone(spool),
        target,
        config: DeliveryConfig::default(),
        hostname: "gateway.example".to_string(),
        queued,
        store: Arc::new(sg_store::SqliteStore::open_in_memory().expect("store")),
    };
    (d, rx)
}

fn relay_to(addr: impl ToString) -> Target {
    let timeouts = Timeouts {
        command: Duration::from_secs(10),
        ..Timeouts::default()
    };
    Target::Relay(Relay::new(addr.to_string(), "gateway.example", timeouts))
}

fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

#[tokio::test]
async fn recipients_recorded_before_a_restart_are_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let spool = Spool::open_with(dir.path(), Durability::None).unwrap();
        let to = ["a@example.net", "b@example.net", "c@example.net"];
        let id = spool
            .store(&meta("alice@example.org", &to, unix_now()), BODY)
            .unwrap();
        let attempt = sg_spool::Attempt {
            next_attempt_at: 0,
            last_error: "451 later",
            delivered: &["a@example.net".to_string()],
            failed: &["c@example.net".to_string()],
        };
        spool.record(id, &attempt).unwrap();
        id
    };
    // A new process: the state comes from the disk alone.
    let spool = Arc::new(Spool::open_with(dir.path(), Durability::None).unwrap());
    let sink = Sink::start(SinkOptions::default()).await;
    let (d, _rx) = deliverer(&spool, relay_to(sink.addr()));
    assert_eq!(d.attempt(id).await, None, "nothing left to retry");
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].envelope.rcpt_to, ["b@example.net"]);
    assert!(spool.recover().unwrap().entries.is_empty(), "completed");
    let log = d.store.deliveries(&id.to_string()).unwrap();
    assert_eq!(
        log.len(),
        1,
        "only this attempt's recipient is logged: {log:?}"
    );
    assert_eq!(
        (log[0].recipient.as_str(), log[0].outcome.as_str()),
        ("b@example.net", "delivered")
    );
}

#[tokio::test]
async fn tempfailed_attempt_is_recorded_and_not_repeated_before_it_is_due() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(Spool::open_with(dir.path(), Durability::None).unwrap());
    let sink = Sink::start(SinkOptions {
        tempfail_first: 1,
        ..SinkOptions::default()
    })
    .await;
    let to = ["a@example.net", "b@example.net"];
    let id = spool
        .store(&meta("alice@example.org", &to, unix_now()), BODY)
        .unwrap();
    let (d, _rx) = deliverer(&spool, relay_to(sink.addr()));
    let next = d.attempt(id).await.expect("deferred");
    assert!(next > unix_now(), "the retry is in the future");
    let state = spool.read(id).unwrap().entry.state;
    assert_eq!(state.attempts, 1);
    assert!(state.last_error.unwrap().contains("451 4.7.1"));
    let log = d.store.deliveries(&id.to_string()).unwrap();
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|r| r.outcome == "deferred" && r.detail.contains("451")),
        "{log:?}"
    );
    assert_eq!(d.attempt(id).await, None, "not due yet: no attempt");
    assert_eq!(sink.attempts(), 1);
}

#[tokio::test]
async fn expired_message_bounces_once_to_its_sender_and_leaves_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(Spool::open_with(dir.path(), Durability::None).unwrap());
    let six_days_ago = unix_now() - 6 * 24 * 3600;
    let id = spool
        .store(
            &meta("alice@example.org", &["b@example.net"], six_days_ago),
            BODY,
        )
        .unwrap();
    let (d, mut rx) = deliverer(&spool, relay_to(closed_port()));
    assert_eq!(d.attempt(id).await, None);
    let dsn_id = rx.try_recv().expect("the bounce wakes the worker");
    let entries = spool.recover().unwrap().entries;
    assert_eq!(entries.len(), 1, "only the bounce is queued");
    assert_eq!(entries[0].id, dsn_id);
    assert_eq!(entries[0].meta.mail_from.as_deref(), Some(""));
    assert_eq!(entries[0].meta.rcpt_to, ["alice@example.org"]);
    let dsn = String::from_utf8(spool.read(dsn_id).unwrap().body).unwrap();
    assert!(
        dsn.contains("Final-Recipient: rfc822; b@example.net"),
        "{dsn}"
    );
    assert!(
        dsn.contains("Status: 4.4.1"),
        "the last temporary status: {dsn}"
    );
}

#[tokio::test]
async fn undeliverable_bounce_is_dropped_never_bounced() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(Spool::open_with(dir.path(), Durability::None).unwrap());
    let maildirs = Arc::new(Maildirs::open(dir.path().join("mailboxes")).unwrap());
    let id = spool
        .store(&meta("", &["../escape@example.net"], unix_now()), BODY)
        .unwrap();
    let (d, mut rx) = deliverer(&spool, Target::Maildirs(maildirs));
    assert_eq!(d.attempt(id).await, None);
    assert!(rx.try_recv().is_err(), "no bounce for a bounce");
    assert!(spool.recover().unwrap().entries.is_empty());
}
