//! What the driver logs (convention 10): a session span carrying the peer, the queue id on
//! the line about a stored message, and never an address or a byte of the message, at any
//! level. Its own test binary, because it installs a process-wide subscriber.

mod support;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sg_smtp::ServerConfig;
use support::{Client, TestServer, message};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Writes every span and event, at every level, as one text line each.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Capture {
    fn push(&self, kind: &str, meta: &Metadata<'_>, fill: impl FnOnce(&mut Line<'_>)) {
        let mut line = format!("{kind} {} {}", meta.level(), meta.name());
        fill(&mut Line(&mut line));
        line.push('\n');
        self.text.lock().expect("capture lock").push_str(&line);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.push("span", span.metadata(), |line| span.record(line));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.push("event", event.metadata(), |line| event.record(line));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_peer_and_queue_id_but_no_addresses_or_content() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone()).unwrap();

    let server = TestServer::start(ServerConfig::default()).await;
    let mut c = Client::connect(server.addr).await;
    c.command("EHLO client.example.org").await;
    let body = message("secret subject");
    assert_eq!(
        c.deliver("alice@example.org", "bob@example.net", &body)
            .await,
        "250 2.0.0 message queued as Q1"
    );
    assert_eq!(
        c.deliver("alice@example.org", "bob@example.net", &message("reject"))
            .await,
        "550 5.7.1 phishing link"
    );
    c.command("QUIT").await;
    assert!(c.closed().await);
    server.stop().await;

    let log = capture.text.lock().unwrap().clone();
    assert!(log.contains("smtp listening"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.starts_with("span INFO smtp_session") && l.contains("peer=127.0.0.1:")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("message stored") && l.contains("queue_id=Q1")),
        "{log}"
    );
    for secret in ["alice", "bob", "example.net", "secret subject", "hello"] {
        assert!(!log.contains(secret), "{secret:?} was logged:\n{log}");
    }
}
