//! Bounces: when recipients fail for good, their sender gets a delivery status notification
//! (RFC 3464, built by `sg_deliver::dsn`), spooled durably as a new message from the null
//! sender `<>` and delivered like any other. A message whose sender was null is never
//! bounced (RFC 5321 §4.5.5: no bounce loops); its failures are only logged.

use std::sync::Arc;

use sg_deliver::{Failure, dsn};
use sg_spool::{Metadata, SpooledMessage};
use tracing::{info, warn};

use crate::gateway::delivery::{Deliverer, blocking, unix_now};
use crate::gateway::headers::rfc5322_date;

/// Tells the sender of `message` that `failed` did not get it. Returns whether the sender
/// is taken care of: the DSN is in the spool, or no DSN is due (null or unknown sender).
pub(crate) async fn send(
    deliverer: &Deliverer,
    message: &SpooledMessage,
    failed: &[(String, Failure)],
    remote_mta: Option<&str>,
) -> bool {
    let entry = &message.entry;
    let sender = entry.meta.mail_from.as_deref().unwrap_or("");
    if sender.is_empty() {
        warn!(
            queue_id = %entry.id, recipients = failed.len(),
            "undeliverable message from the null sender dropped (never bounced)"
        );
        return true;
    }
    let now = unix_now();
    let queue_id = entry.id.to_string();
    let as_date = |t: u64| rfc5322_date(i64::try_from(t).unwrap_or(i64::MAX));
    let report = dsn::Report {
        reporting_mta: &deliverer.hostname,
        queue_id: &queue_id,
        arrival_date: &as_date(entry.meta.received_at),
        date: &as_date(now),
        sender,
        remote_mta,
        failed,
        original: &message.body,
    };
    let body = dsn::build(&report);
    let meta = Metadata {
        mail_from: Some(String::new()),
        rcpt_to: vec![sender.to_string()],
        received_at: now,
        ..Metadata::default()
    };
    let spool = Arc::clone(&deliverer.spool);
    match blocking(move || spool.store(&meta, &body)).await {
        Ok(dsn_id) => {
            info!(queue_id = %entry.id, dsn_queue_id = %dsn_id, recipients = failed.len(), "bounce queued");
            // A closed channel means shutdown: the spool keeps it for the next start.
            let _ = deliverer.queued.send(dsn_id);
            true
        }
        Err(e) => {
            warn!(queue_id = %entry.id, error = %e, "cannot spool a bounce, will try again");
            false
        }
    }
}
