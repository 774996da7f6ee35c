//! `Spool::store` of 10 KB messages, with fsync and without, in one run so the ratio means
//! something on a noisy shared machine. Each iteration stores 200 messages split over 1, 8 or
//! 50 threads (the SMTP front end stores from many sessions at once, and the directory fsync
//! is group-committed across them), so divan's `item/s` column is messages per second.
//! Thread start-up is inside the timing; it is noise next to an fsync.
//!
//! The spool lives under Cargo's target tmp dir, on the same disk as the build, not in a
//! possibly memory-backed `/tmp`.
//!
//! `cargo bench -p sg-spool --bench store`

use divan::Bencher;
use divan::counter::ItemsCount;
use sg_spool::{Durability, Metadata, Spool};

fn main() {
    divan::main();
}

/// Concurrent writers (the issue's load test uses 50 SMTP clients).
const THREADS: &[usize] = &[1, 8, 50];

fn body() -> Vec<u8> {
    let mut body =
        b"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: bench\r\n\r\n".to_vec();
    while body.len() < 10 * 1024 {
        body.extend_from_slice(b"The quick brown fox jumps over the lazy dog, 0123456789.\r\n");
    }
    body.truncate(10 * 1024);
    body
}

fn meta() -> Metadata {
    Metadata {
        mail_from: Some("alice@example.org".into()),
        rcpt_to: vec!["bob@example.net".into()],
        received_at: 1_767_225_600,
        peer_ip: Some([192, 0, 2, 7].into()),
        helo: Some("mail.example.org".into()),
        verdict: Some(r#"{"action":"deliver","score":1.5}"#.into()),
    }
}

/// Messages stored per iteration, split evenly over the threads.
const MESSAGES: usize = 200;

fn run(b: Bencher, durability: Durability, threads: usize) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("bench spool directory");
    let spool = Spool::open_with(dir.path(), durability).expect("bench spool opens");
    let (meta, body) = (meta(), body());
    b.counter(ItemsCount::new(MESSAGES)).bench(|| {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for _ in 0..MESSAGES / threads {
                        spool.store(&meta, &body).expect("store succeeds");
                    }
                });
            }
        });
    });
}

/// The real thing: fsync of the file and (group-committed) of `queue/` before returning.
#[divan::bench(args = THREADS, sample_count = 10, sample_size = 1)]
fn store_10kb_fsync(b: Bencher, threads: usize) {
    run(b, Durability::Fsync, threads);
}

/// Baseline: the same writes and renames with no fsync (page cache only).
#[divan::bench(args = THREADS, sample_count = 10, sample_size = 1)]
fn store_10kb_no_fsync(b: Bencher, threads: usize) {
    run(b, Durability::None, threads);
}
