//! The judgement every front end shares (SMTP relay and milter): parse the bytes as
//! received, scan them with the envelope the front end built, and return the report. What
//! to do with the verdict (spool, or answer the MTA) is the front end's business.

use std::time::{SystemTime, UNIX_EPOCH};

use sg_detect::{Context, Report};
use sg_message::{Direction, Envelope, Message, ParseError};

use crate::config::Runtime;

/// The 550 text for a message the content policy refuses, the same on every front end.
pub(crate) const POLICY_REJECT: &str = "message refused by content policy";

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A judged message: what was parsed, what the engine said, and how long it took.
pub(crate) struct Judgement {
    /// The parsed message.
    pub(crate) message: Message,
    /// The engine's report.
    pub(crate) report: Report,
    /// Parse + scan time in microseconds.
    pub(crate) scan_micros: i64,
}

/// Parses and scans one inbound message; CPU work, call it on a blocking thread. An `Err`
/// (empty or oversized message) means the message cannot be judged and should be refused.
pub(crate) fn judge(
    rt: &Runtime,
    envelope: &Envelope,
    data: &[u8],
    received_at: i64,
) -> Result<Judgement, ParseError> {
    let started = std::time::Instant::now();
    let message = Message::parse(data, &rt.limits)?;
    let cx = Context {
        envelope,
        direction: Direction::Inbound,
        received_at,
        org: &rt.org,
        cross: None,
    };
    let report = rt.engine.scan(&message, &cx);
    Ok(Judgement {
        message,
        report,
        scan_micros: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
    })
}
