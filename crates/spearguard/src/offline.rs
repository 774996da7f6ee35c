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
    analyse_with(rt, msg, &envelope_of(msg), None)
}

/// Analyses a parsed message with this envelope and, when scanning with state, what the
/// correlator found.
pub(crate) fn analyse_with(
    rt: &Runtime,
    msg: &Message,
    envelope: &Envelope,
    cross: Option<&sg_detect::CrossFacts>,
) -> Report {
    let cx = Context {
        envelope,
        direction: Direction::Inbound,
        received_at: arrival_time(msg),
        org: &rt.org,
        cross,
    };
    rt.engine.scan(msg, &cx)
}

/// When the message arrived: the topmost `Received` date, else `Date`, else 0.
pub(crate) fn arrival_time(msg: &Message) -> i64 {
    msg.received_date.or(msg.date).unwrap_or(0)
}

/// The envelope as far as the stored message tells: `Return-Path` is the MAIL FROM; the
/// recipients are the topmost `Received: … for <…>` and the To and Cc addresses.
pub(crate) fn envelope_of(msg: &Message) -> Envelope {
    let mail_from = msg
        .header("return-path")
        .map(|v| v.trim().trim_matches(['<', '>']).to_lowercase());
    let mut rcpt_to: Vec<String> = Vec::new();
    let received_for = msg.header("received").and_then(|v| {
        let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
        let rest = v.split(" for <").nth(1)?;
        rest.split('>').next().map(str::to_lowercase)
    });
    for addr in received_for
        .into_iter()
        .chain(msg.to.iter().chain(&msg.cc).map(|m| m.address.clone()))
    {
        if addr.contains('@') && !rcpt_to.contains(&addr) {
            rcpt_to.push(addr);
        }
    }
    Envelope {
        mail_from,
        rcpt_to,
        ..Envelope::default()
    }
}
