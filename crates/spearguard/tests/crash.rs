//! The crash test of issue 4: concurrent clients send 1,000 messages while the gateway is
//! killed with SIGKILL at random moments and restarted on the same data dir. Afterwards
//! every message that got a 250 must be in each of its recipients' Maildirs exactly once,
//! or in quarantine; no Maildir holds a message twice; and a message that got no 250 is
//! either wholly delivered (it was spooled just before the kill) or not at all.
//!
//! Reproduce a run with `SG_CRASH_SEED=<seed printed by the test>`; `SG_CRASH_MESSAGES`
//! changes the number of messages (default 1,000).

mod common;
#[path = "crash/verify.rs"]
mod verify;

use std::collections::BTreeMap;
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
    verify::verify(
        data.path(),
        &shared.sent.lock().expect("sent lock"),
        kills,
        seed,
    );
}
