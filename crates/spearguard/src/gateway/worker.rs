//! The delivery worker: runs attempts (`delivery.rs`) for queued messages, up to
//! `[delivery] concurrency` at once, each on its own task.
//!
//! Messages come from three places: the pipeline (new ids, at once), a retry timer set
//! after each deferred attempt (the message's `next_attempt_at`), and a periodic scan of
//! the spool (every message on start-up, and anything a timer missed). A message is never
//! attempted twice at the same time: ids in flight are skipped, and an attempt re-reads the
//! spool state before sending, so it never repeats a recipient already recorded.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sg_spool::{QueueId, Spool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use crate::gateway::delivery::{Deliverer, blocking, unix_now};

/// How often the whole spool is scanned for messages that are due.
const RETRY_SCAN: Duration = Duration::from_secs(30);
/// After shutdown begins, how long attempts in flight get to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

type Busy = Arc<Mutex<HashSet<QueueId>>>;

fn lock(busy: &Busy) -> MutexGuard<'_, HashSet<QueueId>> {
    busy.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Delivers queued mail until `shutdown` is cancelled, then lets attempts in flight finish
/// (for [`SHUTDOWN_GRACE`] at most; the spool keeps whatever they did not record).
pub(crate) async fn run(
    deliverer: Arc<Deliverer>,
    mut queued: mpsc::UnboundedReceiver<QueueId>,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(deliverer.config.concurrency));
    let busy: Busy = Arc::default();
    let tracker = TaskTracker::new();
    let mut scan = tokio::time::interval(RETRY_SCAN);
    scan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    'serve: loop {
        let ids = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(id) = queued.recv() => vec![id],
            _ = scan.tick() => due(&deliverer.spool).await,
        };
        for id in ids {
            if lock(&busy).contains(&id) {
                continue;
            }
            let permit = tokio::select! {
                () = shutdown.cancelled() => break 'serve,
                permit = Arc::clone(&slots).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break 'serve,
                },
            };
            if !lock(&busy).insert(id) {
                continue;
            }
            tracker.spawn(deliver(
                Arc::clone(&deliverer),
                id,
                permit,
                Arc::clone(&busy),
            ));
        }
    }
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
        .await
        .is_err()
    {
        warn!(
            attempts = tracker.len(),
            "delivery attempts still running at shutdown; the spool keeps their messages"
        );
    }
}

/// One attempt on its own task; sets the retry timer when recipients remain.
async fn deliver(deliverer: Arc<Deliverer>, id: QueueId, slot: OwnedSemaphorePermit, busy: Busy) {
    let next = deliverer.attempt(id).await;
    lock(&busy).remove(&id);
    drop(slot);
    if let Some(at) = next {
        let due = UNIX_EPOCH + Duration::from_secs(at);
        let queued = deliverer.queued.clone();
        tokio::spawn(async move {
            // Timers run on the monotonic clock, `next_attempt_at` is wall-clock time: sleep
            // until the wall clock agrees, or the attempt would find the message not yet due.
            while let Ok(wait) = due.duration_since(SystemTime::now()) {
                if wait.is_zero() {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
            // A closed channel means shutdown: the next start's scan finds it.
            let _ = queued.send(id);
        });
    }
}

/// The ids of queued messages whose next attempt is due, in acceptance order.
async fn due(spool: &Arc<Spool>) -> Vec<QueueId> {
    let spool = Arc::clone(spool);
    match blocking(move || spool.recover()).await {
        Ok(listing) => {
            for c in &listing.corrupt {
                warn!(file = %c.path.display(), defect = ?c.defect, "unreadable queue file moved aside");
            }
            let now = unix_now();
            listing
                .entries
                .into_iter()
                .filter(|e| e.state.next_attempt_at <= now)
                .map(|e| e.id)
                .collect()
        }
        Err(e) => {
            warn!(error = %e, "cannot scan the queue");
            Vec::new()
        }
    }
}

/// One pass over the queue, each due message attempted in turn, for commands that run
/// while `serve` does not (`quarantine release`). Bounces it queues wait for `serve`.
pub(crate) async fn deliver_due_once(deliverer: &Deliverer) {
    for id in due(&deliverer.spool).await {
        deliverer.attempt(id).await;
    }
}
