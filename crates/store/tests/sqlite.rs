//! The SQLite backend through the `Store` trait: round trips, filters, persistence across
//! reopen, concurrent writers, and clear errors on files it cannot use.

use std::sync::Arc;

use sg_store::{DeliveryRecord, MessageQuery, MessageRecord, SqliteStore, Store, StoreError};

fn record(n: i64, verdict: &str) -> MessageRecord {
    MessageRecord {
        queue_id: Some(format!("{n:020x}")),
        received_at: 1_700_000_000 + n,
        front: "smtp".into(),
        direction: "inbound".into(),
        peer_ip: Some("192.0.2.7".into()),
        helo: Some("mx.example.net".into()),
        mail_from: Some(format!("sender{n}@example.net")),
        rcpt_to: vec!["a@example.org".into(), "b@example.org".into()],
        header_from: Some("Sender <sender@example.net>".into()),
        subject: Some(format!("件名 {n}")),
        message_id: Some(format!("<{n}@example.net>")),
        verdict: verdict.into(),
        score: n as f64 / 2.0,
        signals: serde_json::json!([{"name": "LINK_IP_HOST", "score": 3.0, "detail": "http://192.0.2.1/"}]),
        action: "queued".into(),
        scan_micros: 250,
    }
}

#[test]
fn messages_round_trip_newest_first_with_filters() {
    let store = SqliteStore::open_in_memory().unwrap();
    for n in 0..10 {
        let verdict = if n % 3 == 0 { "quarantine" } else { "deliver" };
        store.record_message(&record(n, verdict)).unwrap();
    }
    let all = store.messages(&MessageQuery::default()).unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(all[0], record(9, "quarantine"), "every field survives");
    assert!(all.windows(2).all(|w| w[0].received_at > w[1].received_at));

    let q = store
        .messages(&MessageQuery {
            verdict: Some("quarantine".into()),
            ..MessageQuery::default()
        })
        .unwrap();
    assert_eq!(
        q.iter()
            .map(|m| m.received_at - 1_700_000_000)
            .collect::<Vec<_>>(),
        [9, 6, 3, 0]
    );
    let recent = store
        .messages(&MessageQuery {
            since: Some(1_700_000_007),
            limit: 2,
            ..MessageQuery::default()
        })
        .unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[1].received_at, 1_700_000_008);
    let one = store
        .messages(&MessageQuery {
            queue_id: Some(format!("{:020x}", 4)),
            ..MessageQuery::default()
        })
        .unwrap();
    assert_eq!(one, vec![record(4, "deliver")]);
}

#[test]
fn deliveries_are_kept_per_message_in_order() {
    let store = SqliteStore::open_in_memory().unwrap();
    for (i, outcome) in ["deferred", "deferred", "delivered"].iter().enumerate() {
        store
            .record_delivery(&DeliveryRecord {
                queue_id: "q1".into(),
                recipient: "a@example.org".into(),
                at: i as i64,
                outcome: (*outcome).into(),
                detail: format!("attempt {i}"),
            })
            .unwrap();
    }
    store
        .record_delivery(&DeliveryRecord {
            queue_id: "q2".into(),
            ..DeliveryRecord::default()
        })
        .unwrap();
    let got = store.deliveries("q1").unwrap();
    assert_eq!(
        got.iter().map(|d| d.outcome.as_str()).collect::<Vec<_>>(),
        ["deferred", "deferred", "delivered"]
    );
    assert!(store.deliveries("nope").unwrap().is_empty());
}

#[test]
fn a_file_store_keeps_its_rows_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sg.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.record_message(&record(1, "deliver")).unwrap();
        store.ping().unwrap();
        assert!(store.describe().starts_with("sqlite:"));
    }
    let store = sg_store::open(&format!("sqlite:{}", path.display()), dir.path()).unwrap();
    assert_eq!(
        store.messages(&MessageQuery::default()).unwrap(),
        vec![record(1, "deliver")]
    );
}

#[test]
fn concurrent_writers_lose_nothing() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for n in 0..50 {
                    store
                        .record_message(&record(t * 1000 + n, "deliver"))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let all = store
        .messages(&MessageQuery {
            limit: 1000,
            ..MessageQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 400);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sg.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(e @ StoreError::SchemaTooNew { found: 99, .. }) => {
            assert!(e.to_string().contains("upgrade"), "{e}")
        }
        other => panic!("expected SchemaTooNew, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = SqliteStore::open(&path).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("garbage.db"), "{err}");
}

#[test]
fn state_blobs_are_replaced_by_key_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sg.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.state("correlator").unwrap(), None);
        store.put_state("correlator", b"one").unwrap();
        store.put_state("correlator", &[0, 255, 7]).unwrap();
        store.put_state("other", b"x").unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.state("correlator").unwrap(), Some(vec![0, 255, 7]));
    assert_eq!(store.state("other").unwrap(), Some(b"x".to_vec()));
}
