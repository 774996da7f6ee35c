//! One SMTP transaction with the next hop, step by step (RFC 5321 §3.3), filling in one
//! outcome per recipient as replies come.
//!
//! Whatever goes wrong before MAIL FROM (no connection, a greeting or HELO refused) is the
//! next hop's trouble, not the message's: temporary for every recipient, so the message
//! waits in the queue (and bounces only when its lifetime runs out).

use smtp_proto::{EXT_8BIT_MIME, EXT_SIZE, EXT_SMTP_UTF8, EhloResponse};

use super::Relay;
use super::conn::{Conn, ConnError, Reply};
use super::data;
use crate::{Failure, Outcome};

/// What the next hop said it supports (RFC 1870, RFC 6152, RFC 6531).
#[derive(Debug, Default, Clone, Copy)]
struct Capabilities {
    /// `Some(limit)` when SIZE is advertised (0: no fixed limit).
    size: Option<usize>,
    eight_bit: bool,
    smtputf8: bool,
}

impl Capabilities {
    /// From a 250 reply to EHLO; an EHLO reply smtp-proto cannot read counts as no extensions.
    fn from_ehlo(raw: &[u8]) -> Capabilities {
        let Ok(ehlo) = EhloResponse::parse(&mut raw.iter()) else {
            return Capabilities::default();
        };
        let has = |ext| ehlo.capabilities & ext != 0;
        Capabilities {
            size: has(EXT_SIZE).then_some(ehlo.size),
            eight_bit: has(EXT_8BIT_MIME),
            smtputf8: has(EXT_SMTP_UTF8),
        }
    }
}

/// One message to relay.
pub(super) struct Transaction<'a> {
    pub(super) relay: &'a Relay,
    pub(super) mail_from: &'a str,
    pub(super) rcpt_to: &'a [String],
    pub(super) message: &'a [u8],
}

impl Transaction<'_> {
    /// Runs the transaction; every recipient gets an outcome.
    pub(super) async fn run(self) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; self.rcpt_to.len()];
        let stopped = self.converse(&mut outcomes).await.err();
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    Outcome::Failed(stopped.clone().unwrap_or_else(|| {
                        Failure::local(false, "4.0.0", "no reply for this recipient")
                    }))
                })
            })
            .collect()
    }

    /// The conversation; an `Err` applies to every recipient without an outcome yet.
    async fn converse(&self, outcomes: &mut [Option<Outcome>]) -> Result<(), Failure> {
        let relay = self.relay;
        let t = &relay.timeouts;
        let io = |e: ConnError| e.failure(&relay.target);
        if !sendable(self.mail_from) {
            return Err(Failure::local(
                true,
                "5.1.7",
                format!("sender {:?} cannot be written in MAIL FROM", self.mail_from),
            ));
        }
        for (rcpt, outcome) in self.rcpt_to.iter().zip(outcomes.iter_mut()) {
            if !sendable(rcpt) {
                *outcome = Some(Outcome::Failed(Failure::local(
                    true,
                    "5.1.3",
                    format!("recipient {rcpt:?} cannot be written in RCPT TO"),
                )));
            }
        }
        if outcomes.iter().all(Option::is_some) {
            return Ok(());
        }

        let mut conn = Conn::connect(&relay.target, t.connect).await.map_err(io)?;
        let greeting = conn.read_reply(t.command, "greeting").await.map_err(io)?;
        if !greeting.is_positive() {
            return Err(temporary(&greeting));
        }
        let caps = self.hello(&mut conn).await?;

        let needs_utf8 = !self.mail_from.is_ascii() || self.rcpt_to.iter().any(|r| !r.is_ascii());
        if needs_utf8 && !caps.smtputf8 {
            quit(conn, relay).await;
            return Err(Failure::local(
                true,
                "5.6.7",
                "an address is not ASCII and the next hop does not support SMTPUTF8",
            ));
        }
        let size = self.message.len();
        if let Some(limit) = caps.size.filter(|&l| l > 0 && size > l) {
            quit(conn, relay).await;
            return Err(Failure::local(
                true,
                "5.3.4",
                format!("message of {size} bytes exceeds the next hop's limit of {limit}"),
            ));
        }
        let mut mail = format!("MAIL FROM:<{}>", self.mail_from);
        if caps.size.is_some() {
            mail.push_str(&format!(" SIZE={size}"));
        }
        if caps.eight_bit && data::has_8bit(self.message) {
            mail.push_str(" BODY=8BITMIME");
        }
        if needs_utf8 {
            mail.push_str(" SMTPUTF8");
        }
        let reply = conn
            .command(&mail, t.command, "MAIL FROM")
            .await
            .map_err(io)?;
        if !reply.is_positive() {
            quit(conn, relay).await;
            return Err(reply.failure());
        }

        let mut accepted = Vec::with_capacity(self.rcpt_to.len());
        for (i, rcpt) in self.rcpt_to.iter().enumerate() {
            if outcomes[i].is_some() {
                continue;
            }
            let line = format!("RCPT TO:<{rcpt}>");
            let reply = conn
                .command(&line, t.command, "RCPT TO")
                .await
                .map_err(io)?;
            if reply.is_positive() {
                accepted.push(i);
            } else {
                outcomes[i] = Some(Outcome::Failed(reply.failure()));
            }
        }
        if accepted.is_empty() {
            quit(conn, relay).await;
            return Ok(());
        }

        let reply = conn
            .command("DATA", t.data_start, "DATA")
            .await
            .map_err(io)?;
        if reply.code != 354 {
            quit(conn, relay).await;
            return Err(reply.failure());
        }
        conn.write_blocks(&data::encode(self.message), t.data_block)
            .await
            .map_err(io)?;
        let reply = conn
            .read_reply(t.data_end, "end of data")
            .await
            .map_err(io)?;
        let outcome = match reply.is_positive() {
            true => Outcome::Delivered,
            false => Outcome::Failed(reply.failure()),
        };
        for i in accepted {
            outcomes[i] = Some(outcome.clone());
        }
        quit(conn, relay).await;
        Ok(())
    }

    /// EHLO, or HELO when the server does not know EHLO (RFC 5321 §3.2).
    async fn hello(&self, conn: &mut Conn) -> Result<Capabilities, Failure> {
        let relay = self.relay;
        let io = |e: ConnError| e.failure(&relay.target);
        let ehlo = format!("EHLO {}", relay.helo);
        let reply = conn
            .command(&ehlo, relay.timeouts.command, "EHLO")
            .await
            .map_err(io)?;
        if reply.is_positive() {
            return Ok(Capabilities::from_ehlo(&reply.raw));
        }
        if reply.code < 500 {
            return Err(temporary(&reply));
        }
        let helo = format!("HELO {}", relay.helo);
        let reply = conn
            .command(&helo, relay.timeouts.command, "HELO")
            .await
            .map_err(io)?;
        match reply.is_positive() {
            true => Ok(Capabilities::default()),
            false => Err(temporary(&reply)),
        }
    }
}

/// A refusal before the transaction: the next hop's trouble, so temporary even if 5xx.
fn temporary(reply: &Reply) -> Failure {
    let mut failure = reply.failure();
    if failure.permanent {
        failure.permanent = false;
        failure.status.replace_range(..1, "4");
    }
    failure
}

/// Says QUIT and waits briefly for the reply; the outcome is already known, so errors
/// are ignored.
async fn quit(mut conn: Conn, relay: &Relay) {
    let _ = conn
        .command("QUIT", relay.timeouts.command.min(QUIT_WAIT), "QUIT")
        .await;
}

/// QUIT is a courtesy: never wait long for its reply.
const QUIT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether an address can go between angle brackets on a command line.
fn sendable(address: &str) -> bool {
    !address
        .chars()
        .any(|c| c.is_control() || c == '<' || c == '>')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ehlo_capabilities_are_read_with_smtp_proto() {
        let caps = Capabilities::from_ehlo(
            b"250-sink.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
        );
        assert_eq!(caps.size, Some(1000));
        assert!(caps.eight_bit && caps.smtputf8);
        let bare = Capabilities::from_ehlo(b"250 sink.example\r\n");
        assert_eq!(bare.size, None);
        assert!(!bare.eight_bit && !bare.smtputf8);
    }

    #[test]
    fn addresses_with_line_breaks_or_brackets_are_not_sendable() {
        assert!(sendable("alice@example.org"));
        assert!(sendable(""));
        assert!(sendable("\"a b\"@example.org"));
        for bad in ["a\r\nRCPT TO:<x@y>", "a>b@x", "a\0@x"] {
            assert!(!sendable(bad), "{bad:?}");
        }
    }

    #[test]
    fn early_refusals_are_temporary() {
        let reply = Reply {
            code: 554,
            enhanced: Some([5, 7, 1]),
            text: "go away".into(),
            raw: Vec::new(),
        };
        let f = temporary(&reply);
        assert!(!f.permanent);
        assert_eq!(f.status, "4.7.1");
    }
}
