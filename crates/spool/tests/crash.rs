//! Crash test: a child process (this test binary, re-executed with an environment variable)
//! works the spool from four threads and prints each operation only after it returned; the
//! parent kills it with SIGKILL at a random moment, reopens the spool, and checks that every
//! acknowledged operation is reflected, that each message is in exactly one place, and that
//! every message found, acknowledged or not, has exactly its bytes.
//!
//! SIGKILL leaves the page cache intact, so this checks the ordering of writes, renames and
//! unlinks (never a half-written or doubly placed message), not that fsync reached the disk;
//! that takes a power cut, which a test on a shared machine cannot make.
//!
//! Set `SG_SPOOL_CRASH_SEED` to replay a run's kill delays.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sg_spool::{Metadata, QueueEntry, QueueId, Spool};

const ENV_DIR: &str = "SG_SPOOL_CRASH_DIR";
const ENV_ROUND: &str = "SG_SPOOL_CRASH_ROUND";
const ROUNDS: usize = 8;
const CHILD_THREADS: usize = 4;

fn meta(n: usize) -> Metadata {
    Metadata {
        mail_from: Some(format!("sender{n}@example.org")),
        rcpt_to: vec![format!("rcpt{n}@example.net")],
        received_at: 1_767_225_600,
        peer_ip: None,
        helo: Some(format!("n{n}")),
        verdict: None,
    }
}

/// Bodies from 200 bytes to about 40 KB, so most writes span several pages.
fn body(n: usize) -> Vec<u8> {
    let len = 200 + (n * 7919) % 40_000;
    let mut b = format!("Subject: message {n}\r\n\r\n").into_bytes();
    b.extend((0..len).map(|i| b'a' + ((i + n) % 26) as u8));
    b
}

/// Where a message may be after a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Queue,
    Quarantine,
    Gone,
}

/// What each message goes through in the child, by its number: the operations in order.
fn script(n: usize) -> &'static [&'static str] {
    match n % 20 {
        0 | 5 | 10 | 15 => &["stored", "completed"],
        3 => &["stored", "quarantined", "released"],
        13 => &["stored", "quarantined"],
        7 | 17 => &["stored", "attempted"],
        9 => &["stored_q", "deleted"],
        19 => &["stored_q"],
        _ => &["stored"],
    }
}

fn place_after(op: &str) -> Place {
    match op {
        "stored" | "released" | "attempted" => Place::Queue,
        "quarantined" | "stored_q" => Place::Quarantine,
        _ => Place::Gone,
    }
}

/// Not a test on its own: the child process that `sigkill_at_random_moments_*` starts.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(ENV_DIR) else {
        return;
    };
    let round: usize = std::env::var(ENV_ROUND)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let spool = Arc::new(Spool::open(&dir).expect("child opens the spool"));
    println!("ready");
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(30);
    let threads: Vec<_> = (0..CHILD_THREADS)
        .map(|_| {
            let (spool, next) = (Arc::clone(&spool), Arc::clone(&next));
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    let n = round * 1_000_000 + next.fetch_add(1, Ordering::Relaxed);
                    run_script(&spool, n);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("child thread finishes");
    }
}

fn run_script(spool: &Spool, n: usize) {
    let mut id = None;
    for op in script(n) {
        let done = match *op {
            "stored" => spool.store(&meta(n), &body(n)).map(|i| id = Some(i)),
            "stored_q" => spool
                .store_quarantined(&meta(n), &body(n))
                .map(|i| id = Some(i)),
            "completed" => spool.complete(id.expect("stored first")),
            "quarantined" => {
                spool.quarantine(id.expect("stored first"), r#"{"action":"quarantine"}"#)
            }
            "released" => spool.release(id.expect("stored first")),
            "deleted" => spool.delete(id.expect("stored first")),
            "attempted" => spool
                .record_attempt(id.expect("stored first"), 9, "451 4.3.0 later", &[])
                .map(drop),
            other => unreachable!("unknown op {other}"),
        };
        done.expect("spool operation succeeds");
        println!("ack {op} {} {n}", id.expect("stored first"));
    }
}

/// What the parent learnt from the child's output: per message, its number and acknowledged ops.
#[derive(Debug, Default)]
struct Acked {
    ops: HashMap<QueueId, (usize, Vec<String>)>,
}

impl Acked {
    fn read_line(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("ack ") else {
            return; // the test harness's own lines
        };
        let mut words = rest.split_whitespace();
        let (Some(op), Some(id), Some(n)) = (words.next(), words.next(), words.next()) else {
            panic!("malformed child line {line:?}");
        };
        let id = QueueId::parse(id).expect("child prints valid ids");
        let n: usize = n.parse().expect("child prints numbers");
        self.ops
            .entry(id)
            .or_insert_with(|| (n, Vec::new()))
            .1
            .push(op.to_owned());
    }
}

fn run_child(dir: &std::path::Path, round: usize, delay: Duration, acked: &mut Acked) {
    let mut child = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(ENV_DIR, dir)
        .env(ENV_ROUND, round.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        while r.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
            // A line cut by the kill has no newline: it proves nothing.
            if buf.ends_with(b"\n") {
                let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
                // libtest prints "test crash_child ... " before the child's first line.
                if line.ends_with("ready") {
                    let _ = ready_tx.send(());
                }
                lines.push(line);
            }
            buf.clear();
        }
        lines
    });
    // Start the clock once the child has opened the spool (or given up, or 20 s passed).
    let _ = ready_rx.recv_timeout(Duration::from_secs(20));
    std::thread::sleep(delay);
    if let Some(status) = child.try_wait().expect("child status") {
        panic!("the child stopped before it was killed: {status}");
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    for line in reader.join().expect("reader thread") {
        acked.read_line(&line);
    }
}

fn check(spool: &Spool, acked: &Acked) -> usize {
    let queue = spool.recover().expect("recover");
    let held = spool.quarantined().expect("list quarantine");
    assert!(
        queue.corrupt.is_empty(),
        "corrupt in queue: {:?}",
        queue.corrupt
    );
    assert!(
        held.corrupt.is_empty(),
        "corrupt in quarantine: {:?}",
        held.corrupt
    );
    let mut found: HashMap<QueueId, (Place, &QueueEntry)> = HashMap::new();
    for (place, list) in [(Place::Queue, &queue), (Place::Quarantine, &held)] {
        for e in &list.entries {
            let before = found.insert(e.id, (place, e));
            assert!(before.is_none(), "{} is in both queue and quarantine", e.id);
            let n: usize = e
                .meta
                .helo
                .as_deref()
                .and_then(|h| h[1..].parse().ok())
                .expect("helo n<N>");
            let msg = match place {
                Place::Queue => spool.read(e.id),
                _ => spool.read_quarantined(e.id),
            }
            .expect("every message found reads back");
            assert_eq!(msg.body, body(n), "{} has wrong bytes", e.id);
            assert_eq!(msg.entry.meta.rcpt_to, meta(n).rcpt_to);
        }
    }
    for (id, (n, ops)) in &acked.ops {
        let script = script(*n);
        assert_eq!(
            ops.as_slice(),
            &script[..ops.len()],
            "{id}: ops out of script"
        );
        let last = ops.last().expect("at least one op");
        let mut allowed = vec![place_after(last)];
        allowed.extend(script.get(ops.len()).map(|next| place_after(next)));
        let (place, entry) = found
            .get(id)
            .map_or((Place::Gone, None), |(p, e)| (*p, Some(*e)));
        assert!(
            allowed.contains(&place),
            "{id} after {ops:?} is {place:?}, allowed {allowed:?}"
        );
        if last == "attempted" {
            assert_eq!(
                entry.map(|e| e.state.attempts),
                Some(1),
                "{id}: attempt lost"
            );
        }
    }
    acked.ops.len()
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_message() {
    let seed = std::env::var("SG_SPOOL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 | 1)
        });
    eprintln!("SG_SPOOL_CRASH_SEED={seed}");
    let mut rng = seed;
    let dir = tempfile::tempdir().unwrap();
    let mut acked = Acked::default();
    let mut checked = 0;
    for round in 0..ROUNDS {
        // xorshift64: kill after 0 to 400 ms of work.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = Duration::from_millis(rng % 400);
        run_child(dir.path(), round, delay, &mut acked);
        let spool = Spool::open(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        checked = check(&spool, &acked);
    }
    assert!(
        checked >= 20,
        "only {checked} messages acknowledged: the child barely ran"
    );
    eprintln!("{checked} acknowledged messages checked over {ROUNDS} kills");
}
