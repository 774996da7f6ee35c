//! One delivery attempt for one queued message, and its bookkeeping: who got it, who failed
//! for good (bounced, see `bounce.rs`), and when to try the rest again.
//!
//! Exactly-once per recipient rests on the spool: recipients the target accepted go to
//! `DeliveryState::delivered`, recipients that failed for good to `DeliveryState::failed`
//! (after their bounce is spooled), and an attempt only ever sends to the others. The
//! message leaves the queue (`complete`) when no recipient is left. A crash between the
//! target's acceptance and the record repeats that delivery once, with the same
//! `X-Spearguard-Queue-Id` (the spool's crate docs explain the window).
//!
//! The two places that matter for counting: [`Deliverer::attempt`] makes one attempt (the
//! call to [`Target::deliver`]), and [`Deliverer::settle`] sorts its outcomes into
//! delivered, deferred and failed for good (bounced or, for a null sender, dropped).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use sg_deliver::relay::Relay;
use sg_deliver::{DeliveryConfig, Failure, Maildirs, Outcome};
use sg_spool::{Attempt, QueueId, Spool, SpoolError, SpooledMessage};
use sg_store::{DeliveryRecord, Store};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::gateway::METRICS;

use crate::config::Config;
use crate::gateway::bounce;

/// Where accepted mail goes: `[gateway] relay` empty or not.
#[derive(Debug)]
pub(crate) enum Target {
    /// A local Maildir per recipient.
    Maildirs(Arc<Maildirs>),
    /// The next hop over SMTP.
    Relay(Relay),
}

impl Target {
    /// Delivers `body` to each of `rcpts`; one outcome per recipient, in order.
    async fn deliver(
        &self,
        id: QueueId,
        from: &str,
        rcpts: &[String],
        body: Vec<u8>,
    ) -> Vec<Outcome> {
        match self {
            Target::Relay(relay) => relay.send(from, rcpts, &body).await,
            Target::Maildirs(maildirs) => {
                let (maildirs, rcpts_owned) = (Arc::clone(maildirs), rcpts.to_vec());
                let done = tokio::task::spawn_blocking(move || {
                    let unique = id.to_string();
                    rcpts_owned
                        .iter()
                        .map(|rcpt| match maildirs.deliver(rcpt, &unique, &body) {
                            Ok(_) => Outcome::Delivered,
                            Err(e @ sg_deliver::DeliverError::BadRecipient(_)) => {
                                Outcome::Failed(Failure::local(true, "5.1.3", e))
                            }
                            Err(e) => Outcome::Failed(Failure::local(false, "4.3.0", e)),
                        })
                        .collect()
                })
                .await;
                done.unwrap_or_else(|e| {
                    let failure =
                        Failure::local(false, "4.3.0", format!("maildir task failed: {e}"));
                    vec![Outcome::Failed(failure); rcpts.len()]
                })
            }
        }
    }

    /// The next hop's host, for a DSN's `Remote-MTA`.
    fn remote_host(&self) -> Option<&str> {
        match self {
            Target::Relay(relay) => relay.target().rsplit_once(':').map(|(host, _)| host),
            Target::Maildirs(_) => None,
        }
    }
}

/// Everything an attempt needs; shared by the worker's tasks.
pub(crate) struct Deliverer {
    /// The queue.
    pub(crate) spool: Arc<Spool>,
    /// Where mail goes.
    pub(crate) target: Target,
    /// Concurrency, retry schedule, lifetime.
    pub(crate) config: DeliveryConfig,
    /// This gateway's host name (the DSN's Reporting-MTA).
    pub(crate) hostname: String,
    /// Wakes the worker for new bounces.
    pub(crate) queued: mpsc::UnboundedSender<QueueId>,
    /// Where each recipient's outcome is logged.
    pub(crate) store: Arc<dyn Store>,
}

/// Unix time in seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Deliverer {
    /// Builds the deliverer `serve` (and `quarantine release`) use: the relay when
    /// `[gateway] relay` is set, else the Maildirs under `data/mailboxes`.
    pub(crate) fn from_config(
        cfg: &Config,
        spool: Arc<Spool>,
        data: &Path,
        queued: mpsc::UnboundedSender<QueueId>,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<Deliverer> {
        let target = match cfg.gateway.relay.as_str() {
            "" => Target::Maildirs(Arc::new(
                Maildirs::open(data.join("mailboxes")).context("opening mailboxes")?,
            )),
            next_hop => Target::Relay(Relay::new(
                next_hop,
                cfg.smtp.hostname.clone(),
                cfg.delivery.timeouts(),
            )),
        };
        Ok(Deliverer {
            spool,
            target,
            config: cfg.delivery.clone(),
            hostname: cfg.smtp.hostname.clone(),
            queued,
            store,
        })
    }

    /// Makes one attempt at a queued message if it is due. Returns when to try again if
    /// recipients remain (Unix seconds), `None` when the message left the queue, was not due,
    /// or could not be read (the periodic scan finds it again).
    pub(crate) async fn attempt(&self, id: QueueId) -> Option<u64> {
        let spool = Arc::clone(&self.spool);
        let message = match blocking(move || spool.read(id)).await {
            Ok(m) => m,
            Err(SpoolError::NotFound { .. }) => return None,
            Err(e) => {
                warn!(queue_id = %id, error = %e, "cannot read queued message");
                return None;
            }
        };
        let state = &message.entry.state;
        if state.next_attempt_at > unix_now() {
            return None;
        }
        let mut pending: Vec<String> = Vec::new();
        for rcpt in &message.entry.meta.rcpt_to {
            if state.is_pending(rcpt) && !pending.contains(rcpt) {
                pending.push(rcpt.clone());
            }
        }
        let from = message.entry.meta.mail_from.clone().unwrap_or_default();
        let mut body = format!("{}: {id}\r\n", sg_spool::QUEUE_ID_HEADER).into_bytes();
        body.extend_from_slice(&message.body);
        let outcomes = match pending.is_empty() {
            true => Vec::new(),
            false => self.target.deliver(id, &from, &pending, body).await,
        };
        self.settle(message, pending, outcomes).await
    }

    /// Records what an attempt achieved: bounce the recipients that failed for good (or
    /// whose time ran out), then either complete the message or schedule the next attempt.
    async fn settle(
        &self,
        message: SpooledMessage,
        pending: Vec<String>,
        outcomes: Vec<Outcome>,
    ) -> Option<u64> {
        let entry = &message.entry;
        let id = entry.id;
        let now = unix_now();
        let arrived = match entry.meta.received_at {
            0 => id.unix_millis() / 1000,
            t => t,
        };
        let expired = now >= arrived.saturating_add(self.config.queue_lifetime.as_secs());
        let (mut delivered, mut failed, mut deferred) = (Vec::new(), Vec::new(), Vec::new());
        for (rcpt, outcome) in pending.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Delivered => delivered.push(rcpt),
                Outcome::Failed(f) if f.permanent || expired => failed.push((rcpt, f)),
                Outcome::Failed(f) => deferred.push((rcpt, f)),
            }
        }
        self.account(id, &delivered, &deferred, &failed).await;
        if !failed.is_empty() {
            let bounced = bounce::send(self, &message, &failed, self.target.remote_host()).await;
            if !bounced {
                // Not told yet: keep them queued so the bounce is tried again later.
                deferred.append(&mut failed);
            }
        }
        let spool = Arc::clone(&self.spool);
        if deferred.is_empty() {
            return match blocking(move || spool.complete(id)).await {
                Ok(()) | Err(SpoolError::NotFound { .. }) => None,
                Err(e) => {
                    warn!(queue_id = %id, error = %e, "cannot complete a delivered message");
                    None
                }
            };
        }
        let backoff = self.config.backoff(entry.state.attempts.saturating_add(1));
        let next = next_attempt_at(backoff);
        let last_error = deferred
            .iter()
            .map(|(rcpt, f)| format!("{rcpt}: {f}"))
            .collect::<Vec<_>>()
            .join("; ");
        debug!(queue_id = %id, next_attempt_at = next, error = %last_error, "delivery deferred");
        let failed: Vec<String> = failed.into_iter().map(|(rcpt, _)| rcpt).collect();
        let recorded = blocking(move || {
            spool.record(
                id,
                &Attempt {
                    next_attempt_at: next,
                    last_error: &last_error,
                    delivered: &delivered,
                    failed: &failed,
                },
            )
        })
        .await;
        match recorded {
            Ok(_) => Some(next),
            Err(e) => {
                warn!(queue_id = %id, error = %e, "cannot record a delivery attempt");
                None
            }
        }
    }
}

impl Deliverer {
    /// Counts the attempt, logs it, and writes each recipient's outcome to the store.
    async fn account(
        &self,
        id: QueueId,
        delivered: &[String],
        deferred: &[(String, Failure)],
        failed: &[(String, Failure)],
    ) {
        METRICS.delivery_attempt();
        if deferred.is_empty() && failed.is_empty() {
            info!(queue_id = %id, rcpts = delivered.len(), "delivered");
        } else {
            METRICS.delivery_failure();
            warn!(
                queue_id = %id, delivered = delivered.len(), deferred = deferred.len(),
                failed = failed.len(), "delivery incomplete"
            );
        }
        let at = i64::try_from(unix_now()).unwrap_or(i64::MAX);
        let row = |rcpt: &str, outcome: &str, detail: String| DeliveryRecord {
            queue_id: id.to_string(),
            recipient: rcpt.to_string(),
            at,
            outcome: outcome.to_string(),
            detail,
        };
        let rows: Vec<DeliveryRecord> = delivered
            .iter()
            .map(|r| row(r, "delivered", String::new()))
            .chain(
                deferred
                    .iter()
                    .map(|(r, f)| row(r, "deferred", f.to_string())),
            )
            .chain(failed.iter().map(|(r, f)| row(r, "failed", f.to_string())))
            .collect();
        let store = Arc::clone(&self.store);
        let logged = tokio::task::spawn_blocking(move || {
            rows.iter().try_for_each(|r| store.record_delivery(r))
        })
        .await;
        if let Ok(Err(e)) = logged {
            warn!(queue_id = %id, error = %e, "delivery log write failed");
        }
    }
}

/// The Unix second at which a retry `backoff` from now is due (rounded up, so the retry
/// never comes early).
fn next_attempt_at(backoff: Duration) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (now + backoff).as_secs_f64().ceil() as u64
}

/// Runs blocking spool I/O off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SpoolError> + Send + 'static,
) -> Result<T, SpoolError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(SpoolError::Write {
            path: std::path::PathBuf::from("(delivery task)"),
            source: std::io::Error::other(e.to_string()),
        })
    })
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
