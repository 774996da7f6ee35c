//! The spool's behaviour through its public API, on a real directory with fsync on.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use sg_spool::{Area, Attempt, Defect, Durability, Metadata, QueueId, Spool, SpoolError};

fn meta(n: usize) -> Metadata {
    Metadata {
        mail_from: Some(format!("sender{n}@example.org")),
        rcpt_to: vec!["bob@example.net".into(), "carol@example.net".into()],
        received_at: 1_767_225_600 + n as u64,
        peer_ip: Some("192.0.2.7".parse().expect("literal address")),
        helo: Some("mail.example.org".into()),
        verdict: Some(r#"{"action":"deliver","score":0.5}"#.into()),
    }
}

fn body(n: usize) -> Vec<u8> {
    format!("From: sender{n}@example.org\r\nSubject: message {n}\r\n\r\nbody of {n}\r\n")
        .into_bytes()
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("directory lists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn store_then_recover_round_trips_metadata_and_body() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let id = spool.store(&meta(1), &body(1)).unwrap();

    let listing = spool.recover().unwrap();
    assert!(listing.corrupt.is_empty());
    assert_eq!(listing.entries.len(), 1);
    let entry = &listing.entries[0];
    assert_eq!(entry.id, id);
    assert_eq!(entry.meta, meta(1));
    assert_eq!(entry.state.attempts, 0);
    assert_eq!(entry.body_len, body(1).len() as u64);

    let msg = spool.read(id).unwrap();
    assert_eq!(msg.entry, *entry);
    assert_eq!(msg.body, body(1));
}

#[test]
fn recover_after_reopen_lists_messages_in_id_order() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<QueueId> = {
        let spool = Spool::open(dir.path()).unwrap();
        (0..20)
            .map(|n| spool.store(&meta(n), &body(n)).unwrap())
            .collect()
    };
    let spool = Spool::open(dir.path()).unwrap();
    let listed: Vec<QueueId> = spool
        .recover()
        .unwrap()
        .entries
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(listed, ids);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn ids_after_reopen_sort_after_the_queued_ones() {
    let dir = tempfile::tempdir().unwrap();
    let first = Spool::open(dir.path())
        .unwrap()
        .store(&meta(1), &body(1))
        .unwrap();
    let second = Spool::open(dir.path())
        .unwrap()
        .store(&meta(2), &body(2))
        .unwrap();
    assert!(second > first);
}

#[test]
fn leftovers_in_tmp_are_removed_at_open_and_never_recovered() {
    let dir = tempfile::tempdir().unwrap();
    drop(Spool::open(dir.path()).unwrap());
    let tmp = dir.path().join("tmp");
    fs::write(tmp.join("0000018f0000000a1b2c"), b"SGSPOOL1 half a message").unwrap();
    fs::write(tmp.join("0000018f0000000a1b2c.rewrite"), b"").unwrap();
    fs::create_dir(tmp.join("stray-dir")).unwrap();

    let spool = Spool::open(dir.path()).unwrap();
    assert!(file_names(&tmp).is_empty());
    let listing = spool.recover().unwrap();
    assert!(listing.entries.is_empty());
    assert!(listing.corrupt.is_empty());
}

#[test]
fn truncated_queue_file_moves_to_corrupt_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let good = spool.store(&meta(1), &body(1)).unwrap();
    let bad = spool.store(&meta(2), &body(2)).unwrap();
    let bad_path = dir.path().join("queue").join(bad.to_string());
    let len = fs::metadata(&bad_path).unwrap().len();
    fs::File::options()
        .write(true)
        .open(&bad_path)
        .unwrap()
        .set_len(len - 5)
        .unwrap();

    let listing = spool.recover().unwrap();
    assert_eq!(
        listing.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![good]
    );
    assert_eq!(listing.corrupt.len(), 1);
    assert_eq!(listing.corrupt[0].name, bad.to_string().as_str());
    assert!(matches!(listing.corrupt[0].defect, Defect::Length { .. }));
    assert_eq!(
        file_names(&dir.path().join("corrupt")),
        vec![bad.to_string()]
    );
    assert_eq!(
        file_names(&dir.path().join("queue")),
        vec![good.to_string()]
    );
}

#[test]
fn foreign_file_in_queue_moves_to_corrupt_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    fs::write(dir.path().join("queue").join("notes.txt"), b"hello").unwrap();
    let listing = spool.recover().unwrap();
    assert!(listing.entries.is_empty());
    assert_eq!(
        listing.corrupt[0].defect,
        Defect::BadName("notes.txt".into())
    );
    assert!(dir.path().join("corrupt").join("notes.txt").exists());
}

#[test]
fn flipped_body_byte_fails_read_and_moves_to_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let id = spool.store(&meta(1), &body(1)).unwrap();
    let path = dir.path().join("queue").join(id.to_string());
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x20;
    fs::write(&path, bytes).unwrap();

    let err = spool.read(id).unwrap_err();
    assert!(
        matches!(
            err,
            SpoolError::Corrupt {
                defect: Defect::Checksum { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(!path.exists());
    assert!(dir.path().join("corrupt").join(id.to_string()).exists());
}

#[test]
fn quarantine_moves_the_message_with_its_new_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let id = spool.store(&meta(1), &body(1)).unwrap();
    spool
        .quarantine(id, r#"{"action":"quarantine","score":17.9}"#)
        .unwrap();

    assert!(spool.recover().unwrap().entries.is_empty());
    let held = spool.quarantined().unwrap();
    assert_eq!(held.entries.len(), 1);
    assert_eq!(
        held.entries[0].meta.verdict.as_deref(),
        Some(r#"{"action":"quarantine","score":17.9}"#)
    );
    assert_eq!(spool.read_quarantined(id).unwrap().body, body(1));
    assert!(matches!(
        spool.read(id),
        Err(SpoolError::NotFound {
            area: Area::Queue,
            ..
        })
    ));
}

#[test]
fn store_quarantined_never_touches_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let id = spool.store_quarantined(&meta(1), &body(1)).unwrap();
    assert!(spool.recover().unwrap().entries.is_empty());
    assert_eq!(spool.quarantined().unwrap().entries[0].id, id);
}

#[test]
fn release_returns_the_message_to_the_queue_once() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let id = spool.store_quarantined(&meta(1), &body(1)).unwrap();

    spool.release(id).unwrap();
    assert_eq!(spool.read(id).unwrap().body, body(1));
    assert!(spool.quarantined().unwrap().entries.is_empty());

    let second = spool.release(id).unwrap_err();
    assert!(
        matches!(
            second,
            SpoolError::NotFound {
                area: Area::Quarantine,
                ..
            }
        ),
        "{second}"
    );
    assert_eq!(spool.recover().unwrap().entries.len(), 1);
}

#[test]
fn delete_removes_a_quarantined_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let id = spool.store_quarantined(&meta(1), &body(1)).unwrap();
    spool.delete(id).unwrap();
    assert!(spool.quarantined().unwrap().entries.is_empty());
    assert!(matches!(spool.delete(id), Err(SpoolError::NotFound { .. })));
    assert!(matches!(
        spool.release(id),
        Err(SpoolError::NotFound { .. })
    ));
}

#[test]
fn interrupted_quarantine_is_finished_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let id = Spool::open(dir.path())
        .unwrap()
        .store(&meta(1), &body(1))
        .unwrap();
    // What a crash right after quarantine's commit point leaves: the same id in both places.
    let name = id.to_string();
    fs::copy(
        dir.path().join("queue").join(&name),
        dir.path().join("quarantine").join(&name),
    )
    .unwrap();

    let spool = Spool::open(dir.path()).unwrap();
    assert!(spool.recover().unwrap().entries.is_empty());
    assert_eq!(spool.quarantined().unwrap().entries[0].id, id);
}

#[test]
fn record_attempt_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let spool = Spool::open(dir.path()).unwrap();
        let id = spool.store(&meta(1), &body(1)).unwrap();
        spool
            .record_attempt(
                id,
                1_767_226_000,
                "451 4.3.0 try later",
                &["bob@example.net".into()],
            )
            .unwrap();
        spool
            .record_attempt(
                id,
                1_767_227_000,
                "421 4.4.2 timeout",
                &["bob@example.net".into()],
            )
            .unwrap();
        id
    };
    let spool = Spool::open(dir.path()).unwrap();
    let entry = spool.recover().unwrap().entries.remove(0);
    assert_eq!(entry.state.attempts, 2);
    assert_eq!(entry.state.next_attempt_at, 1_767_227_000);
    assert_eq!(entry.state.last_error.as_deref(), Some("421 4.4.2 timeout"));
    assert_eq!(entry.state.delivered, vec!["bob@example.net".to_string()]);
    assert_eq!(spool.read(id).unwrap().body, body(1));
    assert!(file_names(&dir.path().join("tmp")).is_empty());
}

#[test]
fn failed_recipients_persist_across_reopen_and_are_no_longer_pending() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let spool = Spool::open(dir.path()).unwrap();
        let id = spool.store(&meta(1), &body(1)).unwrap();
        let state = spool
            .record(
                id,
                &Attempt {
                    next_attempt_at: 1_767_226_000,
                    last_error: "550 5.1.1 no such user",
                    delivered: &["bob@example.net".into()],
                    failed: &["carol@example.net".into()],
                },
            )
            .unwrap();
        assert_eq!(state.failed, vec!["carol@example.net".to_string()]);
        // A later attempt that repeats an address records it once.
        spool
            .record(
                id,
                &Attempt {
                    failed: &["carol@example.net".into()],
                    ..Attempt::default()
                },
            )
            .unwrap();
        id
    };
    let spool = Spool::open(dir.path()).unwrap();
    let state = spool.read(id).unwrap().entry.state;
    assert_eq!(state.attempts, 2);
    assert_eq!(state.delivered, vec!["bob@example.net".to_string()]);
    assert_eq!(state.failed, vec!["carol@example.net".to_string()]);
    assert!(!state.is_pending("bob@example.net"));
    assert!(!state.is_pending("carol@example.net"));
    assert!(state.is_pending("dave@example.net"));
}

#[test]
fn complete_removes_the_message_and_later_operations_find_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let id = spool.store(&meta(1), &body(1)).unwrap();
    spool.complete(id).unwrap();
    assert!(file_names(&dir.path().join("queue")).is_empty());
    assert!(matches!(
        spool.complete(id),
        Err(SpoolError::NotFound { .. })
    ));
    assert!(matches!(
        spool.record_attempt(id, 0, "x", &[]),
        Err(SpoolError::NotFound { .. })
    ));
    assert!(matches!(
        spool.quarantine(id, "{}"),
        Err(SpoolError::NotFound { .. })
    ));
}

#[test]
fn second_open_of_the_same_spool_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Spool::open(dir.path()).unwrap();
    assert!(matches!(
        Spool::open(dir.path()),
        Err(SpoolError::Locked { .. })
    ));
}

#[test]
fn spool_fsyncs_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        Spool::open(dir.path()).unwrap().durability(),
        Durability::Fsync
    );
    assert_eq!(Durability::default(), Durability::Fsync);
}

#[test]
fn concurrent_stores_from_8_threads_are_all_recovered_once() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Arc::new(Spool::open(dir.path()).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let spool = Arc::clone(&spool);
            std::thread::spawn(move || {
                (0..200)
                    .map(|i| {
                        let n = t * 1000 + i;
                        (spool.store(&meta(n), &body(n)).expect("store succeeds"), n)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let stored: Vec<(QueueId, usize)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    drop(spool);

    let spool = Spool::open(dir.path()).unwrap();
    let listing = spool.recover().unwrap();
    assert!(listing.corrupt.is_empty());
    assert_eq!(listing.entries.len(), 1600);
    let unique: HashSet<QueueId> = listing.entries.iter().map(|e| e.id).collect();
    assert_eq!(unique.len(), 1600);
    for (id, n) in stored {
        let msg = spool.read(id).unwrap();
        assert_eq!(msg.entry.meta, meta(n));
        assert_eq!(msg.body, body(n));
    }
}
