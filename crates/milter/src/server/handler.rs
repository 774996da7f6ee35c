//! The one thing the driver asks of the rest of the gateway: what to do with a message.
//!
//! `sg-milter` knows nothing about detection. At end of message the driver hands the
//! collected [`CompletedMessage`] to a [`MilterHandler`] and sends its [`Decision`] to the
//! MTA. The binary implements the trait (parse, scan, act); tests implement it with a few
//! lines that record what they got.

use std::future::Future;

use crate::decision::Decision;
use crate::envelope::CompletedMessage;

/// Decides the fate of each message the MTA finishes sending.
///
/// The MTA owns the message: nothing needs to be stored before answering. An accepting
/// decision may carry header changes, a body replacement or a quarantine; an invalid one
/// (a header value with a bare line break, say) is replaced by a tempfail, so the MTA
/// never sees it.
///
/// # Time and cancellation
///
/// The driver waits at most `decision_timeout` ([`crate::server::ServerConfig`]) for the
/// future, then drops it and tells the MTA to tempfail; it is also dropped when a shutdown
/// runs past `shutdown_timeout`. The future runs on the connection's own task, so a slow
/// handler holds up only that connection; CPU-heavy work belongs on `spawn_blocking`.
pub trait MilterHandler: Send + Sync + 'static {
    /// Judges one message; `message.body` has CRLF line endings as Postfix sends it.
    fn on_message(&self, message: CompletedMessage) -> impl Future<Output = Decision> + Send;
}
