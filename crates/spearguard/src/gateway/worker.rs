//! The delivery worker: takes queued messages from the spool and delivers them to the
//! local Maildirs, recipient by recipient, retrying with exponential backoff. A message
//! leaves the spool only after every recipient has it (`complete`), so a crash at any
//! moment redelivers at worst — and Maildir delivery is idempotent per queue id.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sg_deliver::Maildirs;
use sg_spool::{QueueId, Spool, SpooledMessage};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::gateway::METRICS;

/// Retry schedule: the first retry after this, doubling up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: u64 = 60;
const MAX_BACKOFF: u64 = 3600;
/// How often the whole spool is scanned for retries that came due.
const RETRY_SCAN: Duration = Duration::from_secs(30);
/// Most newly queued messages delivered in one blocking batch.
const BATCH: usize = 256;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Delivers queued mail until `shutdown` is cancelled: new messages as their ids arrive
/// from the pipeline, everything else (restarts, retries) by a periodic scan of the spool.
pub(crate) async fn run(
    spool: Arc<Spool>,
    maildirs: Arc<Maildirs>,
    mut queued: mpsc::UnboundedReceiver<QueueId>,
    shutdown: CancellationToken,
) {
    let mut scan = tokio::time::interval(RETRY_SCAN);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = scan.tick() => {
                let (s, m) = (spool.clone(), maildirs.clone());
                let _ = tokio::task::spawn_blocking(move || deliver_due(&s, &m)).await;
            }
            Some(first) = queued.recv() => {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match queued.try_recv() {
                        Ok(id) => batch.push(id),
                        Err(_) => break,
                    }
                }
                let (s, m) = (spool.clone(), maildirs.clone());
                let _ = tokio::task::spawn_blocking(move || {
                    let now = unix_now();
                    for id in batch {
                        if let Ok(message) = s.read(id) {
                            deliver_one(&s, &m, &message, now);
                        }
                    }
                })
                .await;
            }
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
        if entry.state.next_attempt_at <= now
            && let Ok(message) = spool.read(entry.id)
        {
            deliver_one(spool, maildirs, &message, now);
        }
    }
}

fn deliver_one(spool: &Spool, maildirs: &Maildirs, message: &SpooledMessage, now: u64) {
    let entry = &message.entry;
    METRICS.delivery_attempt();
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
            tracing::info!(queue_id = %id, rcpts = delivered.len(), "delivered");
        }
        Some(error) => {
            METRICS.delivery_failure();
            tracing::warn!(queue_id = %id, %error, attempts = entry.state.attempts.saturating_add(1), "delivery failed");
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << entry.state.attempts.min(6))
                .min(MAX_BACKOFF);
            let _ = spool.record_attempt(entry.id, now + backoff, &error, &delivered);
        }
    }
}
