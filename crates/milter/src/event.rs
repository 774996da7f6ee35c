//! What a session reports to its driver.
//!
//! Events are few on purpose: the driver only has to act at end of message (ask the
//! handler, then call [`crate::Session::decide`]) and at the end of the connection.
//! Everything else the session answers on its own.

use crate::envelope::CompletedMessage;
use crate::negotiate::Negotiation;

/// Something the driver may need to act on or log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Option negotiation is done; check `missing_actions` for what the MTA would not grant.
    Negotiated(Negotiation),
    /// End of message: call [`crate::Session::decide`] before anything else happens.
    MessageComplete(Box<CompletedMessage>),
    /// The MTA abandoned the message in progress (RSET, or the client left).
    Aborted,
    /// A limit was hit; the session refuses the message (or recipient) on its own.
    LimitExceeded(Limit),
    /// The MTA said QUIT: close the socket.
    Closed,
    /// The SMTP connection ended and another follows on this socket (`SMFIC_QUIT_NC`).
    ConnectionReset,
}

/// Which bound a message crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Header lines plus body exceeded this many bytes.
    MessageSize(usize),
    /// The message had more than this many recipients.
    Recipients(usize),
}
