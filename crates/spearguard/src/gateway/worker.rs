//! The delivery worker: takes queued messages from the spool and delivers them to the
//! local Maildirs, recipient by recipient, retrying with exponential backoff. A message
//! leaves the spool only after every recipient has it (`complete`), so a crash at any
//! moment redelivers at worst — and Maildir delivery is idempotent per queue id.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sg_deliver::Maildirs;
use sg_spool::{QueueEntry, Spool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Retry schedule: the first retry after this, doubling up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: u64 = 60;
const MAX_BACKOFF: u64 = 3600;
/// How often the worker looks at the spool even when nobody rang.
const IDLE_POLL: Duration = Duration::from_secs(5);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Delivers queued mail until `shutdown` is cancelled.
pub(crate) async fn run(
    spool: Arc<Spool>,
    maildirs: Arc<Maildirs>,
    queued: Arc<Notify>,
    shutdown: CancellationToken,
) {
    loop {
        let (s, m) = (spool.clone(), maildirs.clone());
        let _ = tokio::task::spawn_blocking(move || deliver_due(&s, &m)).await;
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = queued.notified() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// One pass: every message whose next attempt is due.
pub(crate) fn deliver_due(spool: &Spool, maildirs: &Maildirs) {
    let Ok(listing) = spool.recover() else {
        return;
    };
    let now = unix_now();
    for entry in listing.entries {
        if entry.state.next_attempt_at <= now {
            deliver_one(spool, maildirs, &entry, now);
        }
    }
}

fn deliver_one(spool: &Spool, maildirs: &Maildirs, entry: &QueueEntry, now: u64) {
    let Ok(message) = spool.read(entry.id) else {
        return;
    };
    let id = entry.id.to_string();
    let mut body = format!("{}: {id}\r\n", sg_spool::QUEUE_ID_HEADER).into_bytes();
    body.extend_from_slice(&message.body);
    let mut delivered = entry.state.delivered.clone();
    let mut failure = None;
    for rcpt in &entry.meta.rcpt_to {
        if delivered.contains(rcpt) {
            continue;
        }
        match maildirs.deliver(rcpt, &id, &body) {
            Ok(_) => delivered.push(rcpt.clone()),
            Err(e) => failure = Some(e.to_string()),
        }
    }
    match failure {
        None => {
            let _ = spool.complete(entry.id);
        }
        Some(error) => {
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << entry.state.attempts.min(6))
                .min(MAX_BACKOFF);
            let _ = spool.record_attempt(entry.id, now + backoff, &error, &delivered);
        }
    }
}
