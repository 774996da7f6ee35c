//! What the session tells its driver: [`Event`]s to act on, the [`Phase`] it is in (to
//! pick a timeout), and [`SessionError`] for driver calls that do not fit that phase.

use std::fmt;

use crate::envelope::Envelope;

/// Something the driver must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole message was received; spool it, then decide (see [`crate::Session::message_stored`]).
    MessageReady {
        /// Who sent it, to whom, and how.
        envelope: Envelope,
        /// The message, dot-unstuffed, CRLF line endings, no end-of-data line.
        data: Vec<u8>,
    },
    /// Start the TLS handshake now, then call [`crate::Session::tls_started`].
    StartTls {
        /// Bytes pipelined after STARTTLS that were thrown away (non-zero is suspicious).
        discarded: usize,
    },
    /// Flush the output and close the connection.
    Close,
}

/// What the session is waiting for, so the driver can pick a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for a command (RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes).
    Command,
    /// Reading message content (the driver's per-read data timeout applies).
    Data,
    /// Waiting for the driver's decision on a message.
    AwaitingDecision,
    /// Waiting for the driver's TLS handshake.
    StartingTls,
    /// Done; nothing more will be read or answered.
    Closed,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Command => "command",
            Phase::Data => "data",
            Phase::AwaitingDecision => "awaiting decision",
            Phase::StartingTls => "starting tls",
            Phase::Closed => "closed",
        })
    }
}

/// A driver call that does not fit the session's phase (a driver bug, never client input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// A decision was given but no message is waiting for one.
    #[error("no message is waiting for a decision, the session is in phase {phase}")]
    NoMessagePending {
        /// The phase the session was in.
        phase: Phase,
    },
    /// `tls_started` was called but no STARTTLS was accepted.
    #[error("no STARTTLS is waiting for its handshake, the session is in phase {phase}")]
    NoTlsPending {
        /// The phase the session was in.
        phase: Phase,
    },
}
