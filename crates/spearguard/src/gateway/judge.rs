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

/// Parses and scans one inbound message; CPU work, call it on a blocking thread. An `Err`
/// (empty or oversized message) means the message cannot be judged and should be refused.
pub(crate) fn judge(
    rt: &Runtime,
    envelope: &Envelope,
    data: &[u8],
    received_at: i64,
) -> Result<Report, ParseError> {
    let msg = Message::parse(data, &rt.limits)?;
    let cx = Context {
        envelope,
        direction: Direction::Inbound,
        received_at,
        org: &rt.org,
    };
    Ok(rt.engine.scan(&msg, &cx))
}
