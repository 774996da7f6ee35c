//! The crash test of issue 4: concurrent clients send 1,000 messages while the gateway is
//! killed with SIGKILL at random moments and restarted on the same data dir. Afterwards
//! every message that got a 250 must be in each of its recipients' Maildirs exactly once,
//! or in quarantine; no Maildir holds a message twice; and a message that got no 250 is
//! either wholly delivered (it was spooled just before the kill) or not at all.
//!
//! Reproduce a run with `SG_CRASH_SEED=<seed printed by the test>`; `SG_CRASH_MESSAGES`
//! changes the number of messages (default 1,000).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::client::{Client, clean_message, data_block};
use common::{Gateway, files_in, fixture};
use sg_testkit::Rng;

const CLIENTS: usize = 8;
const MAILBOXES: [&str; 5] = [
    "r0@example.org",
    "r1@example.org",
    "r2@example.org",
    "r3@example.org",
    "r4@example.org",
];
const PHISH_FROM: &str = "examplebank.security@gmail.com";

/// What the client saw for one message.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// 250 after the final dot, with the queue id the gateway announced.
    Acked(String),
    /// A 4xx/5xx at some step: never stored.
    Refused(u16),
    /// The connection died; `after_dot` when the whole message had been sent.
    Cut { after_dot: bool },
}

/// One message: who it went to, whether it is the phishing lure, and what came back.
#[derive(Debug)]
struct Sent {
    rcpts: Vec<&'static str>,
    phish: bool,
    outcome: Outcome,
}

/// The unique token of message `i`, in its Message-ID and body.
fn token(i: usize) -> String {
    format!("sgcrash{i:05}z")
}

/// Message `i`'s recipients, kind and bytes, all derived from the seed.
fn plan(seed: u64, i: usize) -> (Vec<&'static str>, bool, Vec<u8>) {
    let mut rng = Rng::new(seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut rcpts = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let r = MAILBOXES[rng.below(MAILBOXES.len())];
        if !rcpts.contains(&r) {
            rcpts.push(r);
        }
    }
    let phish = rng.below(5) == 0;
    let bytes = if phish {
        let lure = std::fs::read_to_string(fixture("phish-credential-lure.eml")).expect("fixture");
        lure.replace(
            "lure-1@mail.gmail.com",
            &format!("{}@mail.gmail.com", token(i)),
        )
        .replace("</body>", &format!("<p>Ref {}</p></body>", token(i)))
        .into_bytes()
    } else {
        clean_message(&token(i))
    };
    (rcpts, phish, bytes)
}

/// Sends one message on a greeted connection and classifies what came back.
fn attempt(c: &mut Client, from: &str, rcpts: &[&str], bytes: &[u8]) -> Outcome {
    let cut = |_| Outcome::Cut { after_dot: false };
    let steps = std::iter::once(format!("MAIL FROM:<{from}>"))
        .chain(rcpts.iter().map(|r| format!("RCPT TO:<{r}>")));
    for line in steps {
        match c.cmd(&line) {
            Ok(r) if r.code == 250 => {}
            Ok(r) => return Outcome::Refused(r.code),
            Err(e) => return cut(e),
        }
    }
    match c.cmd("DATA") {
        Ok(r) if r.code == 354 => {}
        Ok(r) => return Outcome::Refused(r.code),
        Err(e) => return cut(e),
    }
    if let Err(e) = c.send_raw(&data_block(bytes)) {
        return cut(e);
    }
    match c.reply() {
        Ok(r) if r.code == 250 => {
            let id = r.text.rsplit(' ').next().unwrap_or_default().to_string();
            Outcome::Acked(id)
        }
        Ok(r) => Outcome::Refused(r.code),
        Err(_) => Outcome::Cut { after_dot: true },
    }
}

/// One client: takes message numbers until `total`, a few per connection, reconnecting
/// (to wherever the gateway listens now) whenever the connection dies.
fn client(seed: u64, n: usize, total: usize, shared: Arc<Shared>) {
    let mut rng = Rng::new(seed.rotate_left(n as u32 + 7) | 1);
    loop {
        let addr = shared.addr.lock().expect("addr lock").clone();
        let Ok(mut c) = Client::greeted(&addr) else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        if c.cmd("EHLO crash.example.org").ok().map(|r| r.code) != Some(250) {
            continue;
        }
        for _ in 0..1 + rng.below(4) {
            let i = shared.next.fetch_add(1, Ordering::SeqCst);
            if i >= total {
                let _ = c.cmd("QUIT");
                return;
            }
            let (rcpts, phish, bytes) = plan(seed, i);
            let from = if phish {
                PHISH_FROM
            } else {
                "hanako.sato@example.org"
            };
            let outcome = attempt(&mut c, from, &rcpts, &bytes);
            let again = matches!(outcome, Outcome::Acked(_));
            shared.sent.lock().expect("sent lock").insert(
                i,
                Sent {
                    rcpts,
                    phish,
                    outcome,
                },
            );
            shared.done.fetch_add(1, Ordering::SeqCst);
            if !again {
                break;
            }
        }
    }
}

/// What the clients and the killer share.
struct Shared {
    addr: Mutex<String>,
    next: AtomicUsize,
    done: AtomicUsize,
    sent: Mutex<BTreeMap<usize, Sent>>,
}

/// The message numbers found in each file of `dir` (one per file, or the test fails).
fn tokens_in(dir: &Path) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for file in files_in(dir) {
        let bytes = std::fs::read(&file).expect("read message file");
        let text = String::from_utf8_lossy(&bytes);
        let ids: BTreeSet<usize> = text
            .match_indices("sgcrash")
            .filter_map(|(at, _)| text.get(at + 7..at + 12)?.parse().ok())
            .collect();
        assert_eq!(ids.len(), 1, "{} holds {ids:?}", file.display());
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        found.extend(ids.into_iter().map(|i| (i, name.clone())));
    }
    found
}

#[test]
fn acknowledged_mail_survives_sigkill_exactly_once() {
    let seed = std::env::var("SG_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let total: usize = std::env::var("SG_CRASH_MESSAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut rng = Rng::new(seed);
    let kills = 5 + rng.below(4);
    let mut at: Vec<usize> = (0..kills)
        .map(|_| total / 10 + rng.below(total * 8 / 10))
        .collect();
    at.sort_unstable();
    eprintln!("crash test: SG_CRASH_SEED={seed}, {total} messages, {kills} kills after {at:?}");

    let data = tempfile::tempdir().expect("temp dir");
    let mut gateway = Gateway::start(data.path(), &[]);
    let shared = Arc::new(Shared {
        addr: Mutex::new(gateway.addr("SMTP").to_string()),
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        sent: Mutex::new(BTreeMap::new()),
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let shared = shared.clone();
            std::thread::spawn(move || client(seed, n, total, shared))
        })
        .collect();
    let started = Instant::now();
    for threshold in &at {
        // Now and then a kill comes right after the restart, while the spool is recovered.
        let soon = rng.below(4) == 0;
        while !soon && shared.done.load(Ordering::SeqCst) < *threshold {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "clients stalled"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.below(40) as u64));
        gateway.kill();
        gateway = Gateway::start(data.path(), &[]);
        *shared.addr.lock().expect("addr lock") = gateway.addr("SMTP").to_string();
    }
    for c in clients {
        c.join().expect("client thread");
    }
    // One more kill with the last messages possibly still being delivered, then drain.
    gateway.kill();
    let gateway = Gateway::start(data.path(), &[]);
    let queue = data.path().join("spool/queue");
    let drained = Instant::now();
    while !files_in(&queue).is_empty() {
        assert!(
            drained.elapsed() < Duration::from_secs(60),
            "queue never drained"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(gateway.stop(), Some(0));
    verify(
        data.path(),
        &shared.sent.lock().expect("sent lock"),
        kills,
        seed,
    );
}

/// Checks every message against what the Maildirs and the quarantine hold.
fn verify(data: &Path, sent: &BTreeMap<usize, Sent>, kills: usize, seed: u64) {
    let mut delivered: BTreeMap<(usize, &str), Vec<String>> = BTreeMap::new();
    for rcpt in MAILBOXES {
        let mailbox = data.join("mailboxes").join(rcpt);
        for sub in ["new", "cur"] {
            for (i, name) in tokens_in(&mailbox.join(sub)) {
                delivered.entry((i, rcpt)).or_default().push(name);
            }
        }
    }
    let mut held: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, name) in tokens_in(&data.join("spool/quarantine")) {
        held.entry(i).or_default().push(name);
    }
    let duplicates: Vec<_> = delivered.iter().filter(|(_, f)| f.len() > 1).collect();
    assert!(
        duplicates.is_empty(),
        "seed {seed}: delivered twice: {duplicates:?}"
    );
    let held_twice: Vec<_> = held.iter().filter(|(_, f)| f.len() > 1).collect();
    assert!(
        held_twice.is_empty(),
        "seed {seed}: quarantined twice: {held_twice:?}"
    );
    for (i, rcpt) in delivered.keys() {
        let m = &sent[i];
        assert!(
            m.rcpts.contains(rcpt),
            "seed {seed}: #{i} reached {rcpt}, not a recipient"
        );
    }
    let (mut acked, mut in_mailboxes, mut in_quarantine, mut unacked_stored) = (0, 0, 0, 0);
    for (i, m) in sent {
        let files: Vec<_> = m
            .rcpts
            .iter()
            .filter_map(|r| delivered.get(&(*i, *r)))
            .collect();
        let quarantined = held.get(i);
        let all = files.len() == m.rcpts.len();
        assert!(
            files.is_empty() || all,
            "seed {seed}: #{i} half-delivered: {files:?} of {:?} ({:?})",
            m.rcpts,
            m.outcome
        );
        assert!(
            files.is_empty() || quarantined.is_none(),
            "seed {seed}: #{i} both delivered and quarantined"
        );
        match &m.outcome {
            Outcome::Acked(id) => {
                acked += 1;
                if m.phish {
                    assert_eq!(
                        quarantined,
                        Some(&vec![id.clone()]),
                        "seed {seed}: lure #{i}"
                    );
                    in_quarantine += 1;
                } else {
                    assert!(all, "seed {seed}: #{i} acked as {id} but lost: {files:?}");
                    let want = format!("{id}.spearguard");
                    assert!(
                        files.iter().all(|f| f[0].starts_with(&want)),
                        "#{i}: {files:?}"
                    );
                    in_mailboxes += 1;
                }
            }
            Outcome::Refused(_) | Outcome::Cut { after_dot: false } => assert!(
                files.is_empty() && quarantined.is_none(),
                "seed {seed}: #{i} stored without the whole message: {:?}",
                m.outcome
            ),
            Outcome::Cut { after_dot: true } => {
                unacked_stored += usize::from(!files.is_empty() || quarantined.is_some());
            }
        }
    }
    let cut = sent
        .values()
        .filter(|m| matches!(m.outcome, Outcome::Cut { .. }))
        .count();
    eprintln!(
        "crash test: seed {seed}: {} messages, {acked} got 250, {cut} cut by a kill \
         ({unacked_stored} of them stored anyway), {kills} kills; {in_mailboxes} delivered, \
         {in_quarantine} quarantined, 0 duplicates",
        sent.len()
    );
    assert!(
        files_in(&data.join("spool/corrupt")).is_empty(),
        "corrupt spool files"
    );
    // The quarantine as the CLI sees it (serve is stopped, so it can take the spool lock).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spearguard"))
        .args(["quarantine", "list", "--json", "--data-dir"])
        .arg(data)
        .env_remove("SPEARGUARD_CONFIG")
        .output()
        .expect("run quarantine list");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line")["id"].to_string())
        .map(|id| id.trim_matches('"').to_string())
        .collect();
    let files: BTreeSet<String> = held.values().flatten().cloned().collect();
    assert_eq!(listed, files, "quarantine list --json");
    assert!(
        acked >= sent.len() / 2,
        "seed {seed}: too few 250s to prove anything"
    );
    assert!(
        in_quarantine > 0 && in_mailboxes > 0,
        "seed {seed}: both paths exercised"
    );
}
