//! What the gateway writes to the store about each judged message: one row per message,
//! whichever front end saw it and whatever was done with it.

use sg_detect::{Report, Verdict};
use sg_web::Disposition;

use crate::gateway::METRICS;
use sg_message::{Direction, Envelope, Message};
use sg_store::MessageRecord;

/// The signals of a report as JSON (`[{"name", "score", "detail"}]`), as the store, the
/// quarantine metadata and the API show them.
pub(crate) fn signals_json(report: &Report) -> serde_json::Value {
    report
        .signals
        .iter()
        .map(
            |s| serde_json::json!({"name": s.name, "score": s.score, "detail": s.evidence.summary}),
        )
        .collect()
}

/// What was done with a judged message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Spooled for delivery.
    Queued,
    /// Spooled in quarantine.
    Quarantined,
    /// Refused with a 5xx.
    Rejected,
    /// Could not be stored: the client was told to retry.
    NotStored,
    /// Milter: handed back to the MTA (with our headers) for delivery.
    Accepted,
    /// Milter: handed back to the MTA to hold (its quarantine).
    Held,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Queued => "queued",
            Action::Quarantined => "quarantined",
            Action::Rejected => "rejected",
            Action::NotStored => "not_stored",
            Action::Accepted => "accepted",
            Action::Held => "held",
        }
    }
}

/// Everything known about one judged message, for [`message_record`].
pub(crate) struct Judged<'a> {
    /// `smtp` or `milter`.
    pub(crate) front: &'static str,
    /// The envelope as the front end saw it.
    pub(crate) envelope: &'a Envelope,
    /// Inbound or outbound.
    pub(crate) direction: Direction,
    /// The parsed message, when it parsed.
    pub(crate) message: Option<&'a Message>,
    /// The engine's report.
    pub(crate) report: &'a Report,
    /// Arrival time (Unix seconds).
    pub(crate) received_at: i64,
    /// Parse + analysis time.
    pub(crate) scan_micros: i64,
}

/// The store row for a judged message.
pub(crate) fn message_record(
    j: &Judged<'_>,
    action: Action,
    queue_id: Option<String>,
) -> MessageRecord {
    let m = j.message;
    MessageRecord {
        queue_id,
        received_at: j.received_at,
        front: j.front.to_string(),
        direction: match j.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
        .to_string(),
        peer_ip: j.envelope.peer_ip.map(|ip| ip.to_string()),
        helo: j.envelope.helo.clone(),
        mail_from: j.envelope.mail_from.clone(),
        rcpt_to: j.envelope.rcpt_to.clone(),
        header_from: m.and_then(|m| m.from.as_ref()).map(|f| f.address.clone()),
        subject: m.map(|m| m.subject.clone()),
        message_id: m.and_then(|m| m.message_id.clone()),
        verdict: j.report.verdict.as_str().to_string(),
        score: f64::from(j.report.score),
        signals: signals_json(j.report),
        action: action.as_str().to_string(),
        scan_micros: j.scan_micros,
    }
}

impl Action {
    /// The `/metrics` bucket: accepted mail counts by its verdict (deliver or tag).
    fn disposition(self, verdict: Verdict) -> Disposition {
        match self {
            Action::Rejected => Disposition::Reject,
            Action::NotStored => Disposition::NotStored,
            Action::Quarantined | Action::Held => Disposition::Quarantine,
            Action::Queued | Action::Accepted if verdict == Verdict::Tag => Disposition::Tag,
            Action::Queued | Action::Accepted => Disposition::Deliver,
        }
    }
}

/// Accounts for one judged message, whichever front end saw it: one row in the store's
/// message log, the verdict counter and scan-time histogram of `/metrics`, one log event.
pub(crate) fn account(
    store: &dyn sg_store::Store,
    judged: &Judged<'_>,
    action: Action,
    queue_id: Option<String>,
) {
    let disposition = action.disposition(judged.report.verdict);
    METRICS.observe_scan(std::time::Duration::from_micros(
        u64::try_from(judged.scan_micros).unwrap_or(0),
    ));
    METRICS.count_message(disposition);
    let report = judged.report;
    tracing::info!(
        front = judged.front,
        queue_id = queue_id.as_deref(),
        verdict = report.verdict.as_str(),
        outcome = disposition.as_str(),
        score = (f64::from(report.score) * 100.0).round() / 100.0,
        mail_from = judged.envelope.mail_from.as_deref().unwrap_or(""),
        rcpts = judged.envelope.rcpt_to.len(),
        scan_ms = judged.scan_micros as f64 / 1000.0,
        "message judged"
    );
    // The log is not the durability point (the spool is): a store error costs a row, not mail.
    if let Err(e) = store.record_message(&message_record(judged, action, queue_id)) {
        tracing::warn!(error = %e, "message log write failed");
    }
}
