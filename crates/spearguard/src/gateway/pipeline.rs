//! The pipeline behind every accepted DATA: parse, analyse, then act — reject (550),
//! quarantine (stored whole with its verdict) or queue for delivery with verdict headers.
//! `Stored` is returned only after the spool's fsync, so the 250 means "on disk".

use std::sync::Arc;

use sg_detect::{Report, Verdict};
use sg_message::{Direction, Envelope};
use sg_smtp::{Decision, MessageHandler};
use sg_spool::QueueId;
use sg_spool::{Metadata, Spool};
use sg_web::Disposition;
use tokio::sync::mpsc;

use crate::config::Runtime;
use crate::gateway::METRICS;
use crate::gateway::headers::{received_header, verdict_headers, write_tagged};
use crate::gateway::judge::{POLICY_REJECT, judge, now};
use crate::gateway::record::{Action, Judged, account, signals_json};

/// Judges and spools messages; wakes the delivery worker.
pub(crate) struct Pipeline {
    /// Engine, organisation and limits.
    pub(crate) rt: Arc<Runtime>,
    /// The durable queue and quarantine.
    pub(crate) spool: Arc<Spool>,
    /// Subject prefix for tagged mail.
    pub(crate) tag_prefix: String,
    /// This gateway's name, for the Received header.
    pub(crate) hostname: String,
    /// The message log.
    pub(crate) store: Arc<dyn sg_store::Store>,
    /// Sender authentication (`None` when `[auth]` is disabled).
    pub(crate) auth: Option<sg_auth::Verifier>,
    /// Ids of messages queued for delivery, for the worker.
    pub(crate) queued: mpsc::UnboundedSender<QueueId>,
}

/// What the blocking part decided.
enum Outcome {
    Reject(String),
    /// Queued for delivery.
    Queued(QueueId),
    /// Held in quarantine.
    Quarantined(QueueId),
    NotStored,
}

impl MessageHandler for Pipeline {
    async fn on_message(&self, envelope: sg_smtp::Envelope, data: Vec<u8>) -> Decision {
        // Our Authentication-Results on top, forged ones gone: what is judged is what is stored.
        let data = match &self.auth {
            Some(v) => {
                let (ip, helo, from) = (envelope.peer.ip(), &envelope.helo, &envelope.mail_from);
                v.authenticate(&data, ip, helo, from).await.message
            }
            None => data,
        };
        let (rt, spool, store) = (self.rt.clone(), self.spool.clone(), self.store.clone());
        let prefix = self.tag_prefix.clone();
        let hostname = self.hostname.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            judge_and_spool(&rt, &spool, &*store, &prefix, &hostname, &envelope, data)
        })
        .await
        .unwrap_or_else(|e| {
            METRICS.count_message(Disposition::NotStored);
            tracing::error!(error = %e, "scan task failed; message not stored");
            Outcome::NotStored
        });
        match outcome {
            Outcome::Reject(reason) => Decision::Rejected { reason },
            Outcome::Queued(id) => {
                // A closed channel means shutdown: the spool keeps it for the next start.
                let _ = self.queued.send(id);
                Decision::Stored {
                    queue_id: id.to_string(),
                }
            }
            Outcome::Quarantined(id) => Decision::Stored {
                queue_id: id.to_string(),
            },
            Outcome::NotStored => Decision::NotStored,
        }
    }

    fn on_session(&self, open: bool) {
        METRICS.smtp_session(open);
    }
}

/// Parses, analyses, and acts; runs on a blocking thread (CPU work and fsync).
fn judge_and_spool(
    rt: &Runtime,
    spool: &Spool,
    store: &dyn sg_store::Store,
    tag_prefix: &str,
    hostname: &str,
    env: &sg_smtp::Envelope,
    data: Vec<u8>,
) -> Outcome {
    let received_at = now();
    let envelope = Envelope {
        peer_ip: Some(env.peer.ip()),
        helo: Some(env.helo.clone()),
        mail_from: Some(env.mail_from.to_lowercase()),
        rcpt_to: env.rcpt_to.iter().map(|r| r.to_lowercase()).collect(),
    };
    let judgement = match judge(rt, &envelope, &data, received_at) {
        Ok(judgement) => judgement,
        // Empty or oversized bodies: the SMTP limits should have caught them already.
        Err(e) => {
            METRICS.count_message(Disposition::Reject);
            tracing::info!(mail_from = %env.mail_from, rcpts = env.rcpt_to.len(), error = %e,
                "message refused: unparsable");
            return Outcome::Reject(format!("message refused: {e}"));
        }
    };
    let report = &judgement.report;
    let judged = Judged {
        front: "smtp",
        envelope: &envelope,
        direction: Direction::Inbound,
        message: Some(&judgement.message),
        report,
        received_at,
        scan_micros: judgement.scan_micros,
    };
    let outcome = act(spool, tag_prefix, hostname, env, report, received_at, &data);
    let (action, id) = match &outcome {
        Outcome::Reject(_) => (Action::Rejected, None),
        Outcome::Queued(id) => (Action::Queued, Some(id.to_string())),
        Outcome::Quarantined(id) => (Action::Quarantined, Some(id.to_string())),
        Outcome::NotStored => (Action::NotStored, None),
    };
    account(store, &judged, action, id);
    outcome
}

/// Rejects, quarantines or queues a judged message (the spool writes fsync).
fn act(
    spool: &Spool,
    tag_prefix: &str,
    hostname: &str,
    env: &sg_smtp::Envelope,
    report: &Report,
    received_at: i64,
    data: &[u8],
) -> Outcome {
    if report.verdict == Verdict::Reject {
        return Outcome::Reject(POLICY_REJECT.to_string());
    }
    let meta = Metadata {
        mail_from: Some(env.mail_from.clone()),
        rcpt_to: env.rcpt_to.clone(),
        received_at: u64::try_from(received_at).unwrap_or(0),
        peer_ip: Some(env.peer.ip()),
        helo: Some(env.helo.clone()),
        verdict: Some(verdict_json(report)),
    };
    // What is stored, built in one buffer: our trace header on top, then (for delivery) the
    // verdict headers, then the message (with the tag prefix on its Subject when tagged).
    // The queue id is only known once stored; the worker adds it at delivery.
    let trace = received_header(
        &env.helo,
        env.peer.ip(),
        hostname,
        env.protocol(),
        received_at,
    );
    let mut stored_bytes = Vec::with_capacity(trace.len() + 1024 + data.len());
    stored_bytes.extend_from_slice(trace.as_bytes());
    if report.verdict == Verdict::Quarantine {
        stored_bytes.extend_from_slice(data);
        return match spool.store_quarantined(&meta, &stored_bytes) {
            Ok(id) => Outcome::Quarantined(id),
            Err(e) => not_stored(&e),
        };
    }
    stored_bytes.extend_from_slice(verdict_headers(report).as_bytes());
    if report.verdict == Verdict::Tag {
        write_tagged(&mut stored_bytes, data, tag_prefix);
    } else {
        stored_bytes.extend_from_slice(data);
    }
    let stored = spool.store(&meta, &stored_bytes);
    match stored {
        Ok(id) => Outcome::Queued(id),
        Err(e) => not_stored(&e),
    }
}

fn not_stored(e: &sg_spool::SpoolError) -> Outcome {
    tracing::error!(error = %e, "spooling failed; answering 451");
    Outcome::NotStored
}

/// The verdict as stored with the message (for quarantine review and the API).
fn verdict_json(report: &Report) -> String {
    serde_json::json!({
        "verdict": report.verdict.as_str(),
        "score": report.score,
        "signals": signals_json(report),
    })
    .to_string()
}
