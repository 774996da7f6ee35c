//! Cost of logging one message in the SQLite store (file-backed, WAL), against the
//! baseline of serialising the same record to JSON (what any log line would cost).

use sg_store::{MessageRecord, SqliteStore, Store};

fn main() {
    divan::main();
}

fn sample() -> MessageRecord {
    MessageRecord {
        queue_id: Some("0190c1d2e3f4a5b60001".into()),
        received_at: 1_700_000_000,
        front: "smtp".into(),
        direction: "inbound".into(),
        peer_ip: Some("192.0.2.7".into()),
        helo: Some("mx.example.net".into()),
        mail_from: Some("sender@example.net".into()),
        rcpt_to: vec!["a@example.org".into()],
        header_from: Some("sender@example.net".into()),
        subject: Some("Quarterly report".into()),
        message_id: Some("<x@example.net>".into()),
        verdict: "deliver".into(),
        score: 1.5,
        signals: serde_json::json!([{"name": "SENDER_FREEMAIL", "score": 1.0, "detail": ""}]),
        action: "queued".into(),
        scan_micros: 250,
    }
}

#[divan::bench]
fn baseline_json(bencher: divan::Bencher) {
    let m = sample();
    bencher.bench(|| serde_json::to_vec(divan::black_box(&m)));
}

#[divan::bench]
fn sqlite_record_message(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("b.db")).expect("open");
    let m = sample();
    bencher.bench(|| store.record_message(divan::black_box(&m)));
}
