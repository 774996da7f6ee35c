//! Analysis of stored messages (scan, eval, bench): the context a live gateway would know
//! is rebuilt from the message itself.

use sg_detect::{Context, Report};
use sg_message::{Direction, Envelope, Message, ParseError};

use crate::config::Runtime;

/// Parses and analyses one stored message.
pub(crate) fn analyse(rt: &Runtime, raw: &[u8]) -> Result<(Message, Report), ParseError> {
    let msg = Message::parse(raw, &rt.limits)?;
    let report = analyse_parsed(rt, &msg);
    Ok((msg, report))
}

/// Analyses an already parsed message with a context rebuilt from its headers.
pub(crate) fn analyse_parsed(rt: &Runtime, msg: &Message) -> Report {
    let envelope = envelope_of(msg);
    let cx = Context {
        envelope: &envelope,
        direction: Direction::Inbound,
        received_at: arrival_time(msg),
        org: &rt.org,
        cross: None,
    };
    rt.engine.scan(msg, &cx)
}

/// When the message arrived: the topmost `Received` date, else `Date`, else 0.
pub(crate) fn arrival_time(msg: &Message) -> i64 {
    msg.received_date.or(msg.date).unwrap_or(0)
}

/// The envelope as far as the stored message tells: `Return-Path` is the MAIL FROM.
fn envelope_of(msg: &Message) -> Envelope {
    let mail_from = msg
        .header("return-path")
        .map(|v| v.trim().trim_matches(['<', '>']).to_lowercase());
    Envelope {
        mail_from,
        ..Envelope::default()
    }
}
