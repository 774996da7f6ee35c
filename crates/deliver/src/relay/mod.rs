//! The SMTP client to the next hop (RFC 5321): one connection per message, one
//! [`Outcome`](crate::Outcome) per recipient.
//!
//! A transaction reads the greeting, says EHLO (HELO when EHLO is refused), sends MAIL FROM
//! with `SIZE=` when the server advertises SIZE, `BODY=8BITMIME` when the message has 8-bit
//! bytes and the server advertises 8BITMIME, and `SMTPUTF8` when an address needs it
//! (refused for good, 5.6.7, when the server cannot take it), one RCPT per recipient, then
//! DATA with the content CRLF-normalised and dot-stuffed, and QUIT. Each wait has its own
//! deadline ([`Timeouts`], RFC 5321 §4.5.3.2). Replies are read with smtp-proto's
//! incremental reply parser, and EHLO capabilities with its EHLO parser.
//!
//! A 5xx is a permanent failure, a 4xx or any network error (refused, reset, timed out) a
//! temporary one, for the recipients it concerns: a RCPT reply for its recipient, any other
//! reply for every recipient still open. Commands are sent one at a time (no PIPELINING):
//! the next hop is usually near, and lock-step keeps every failure attributable.
//!
//! Out of scope for now: STARTTLS to the next hop (the relay is expected on a trusted
//! network or loopback), AUTH, DSN parameters (NOTIFY/RET), MX lookups (the next hop is
//! one configured `host:port`), and converting 8-bit content for a 7-bit-only server (it
//! is sent as it is, as most MTAs do).

mod conn;
mod data;
mod session;

use std::time::Duration;

use crate::Outcome;

/// How long the client waits for each step (RFC 5321 §4.5.3.2 gives the minimums a client
/// should allow; shorter values suit tests and a near next hop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The TCP connection (not in the RFC).
    pub connect: Duration,
    /// The greeting, EHLO/HELO, MAIL, RCPT and QUIT replies (§4.5.3.2.1-3: 5 minutes).
    pub command: Duration,
    /// The reply to DATA (§4.5.3.2.4: 2 minutes).
    pub data_start: Duration,
    /// Sending each block of content (§4.5.3.2.5: 3 minutes).
    pub data_block: Duration,
    /// The reply after the final dot (§4.5.3.2.6: 10 minutes).
    pub data_end: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            command: Duration::from_secs(300),
            data_start: Duration::from_secs(120),
            data_block: Duration::from_secs(180),
            data_end: Duration::from_secs(600),
        }
    }
}

/// An SMTP client for one next hop.
#[derive(Debug, Clone)]
pub struct Relay {
    target: String,
    helo: String,
    timeouts: Timeouts,
}

impl Relay {
    /// A client that connects to `target` (`host:port`; a name is resolved at each
    /// connection) and greets it as `helo` (this gateway's host name).
    pub fn new(target: impl Into<String>, helo: impl Into<String>, timeouts: Timeouts) -> Relay {
        Relay {
            target: target.into(),
            helo: helo.into(),
            timeouts,
        }
    }

    /// The next hop, as configured.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Relays `message` from `mail_from` (empty for the null sender `<>`) to `rcpt_to` over
    /// one new connection. Returns one outcome per recipient, in order; never fails as a
    /// whole (a connection that fails fails every recipient, temporarily).
    pub async fn send(&self, mail_from: &str, rcpt_to: &[String], message: &[u8]) -> Vec<Outcome> {
        session::Transaction {
            relay: self,
            mail_from,
            rcpt_to,
            message,
        }
        .run()
        .await
    }
}
