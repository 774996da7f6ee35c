//! The one thing the driver asks of the rest of the gateway: what to do with a message.
//!
//! `sg-smtp` knows nothing about spooling or detection. At the end of DATA the driver hands
//! the envelope and the bytes to a [`MessageHandler`] and turns its [`Decision`] into the
//! final reply. The binary's pipeline implements the trait (spool, scan, act); tests
//! implement it with a few lines that record what they got.

use std::future::Future;

use crate::envelope::Envelope;

/// What happens to one message; the client gets the matching final reply to its DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The message is on stable storage; the client gets `250 2.0.0 message queued as
    /// <queue_id>` and forgets it. Return this only after the spool write **and its fsync**
    /// succeeded (see [`MessageHandler`]).
    Stored {
        /// The id the message has in the spool, quoted in the 250 and in every log line.
        queue_id: String,
    },
    /// Refused for good: `550 5.7.1 <reason>`. The reason is sanitised and cut to fit a
    /// reply line; keep it short and free of anything the sender should not learn.
    Rejected {
        /// Short text for the client.
        reason: String,
    },
    /// Refused for now, the client retries later: `451 4.7.1 <reason>`.
    Tempfailed {
        /// Short text for the client.
        reason: String,
    },
    /// The message could not be stored (disk full, fsync failed): `451 4.3.0` with no
    /// details; the client retries later.
    NotStored,
}

/// Decides the fate of each message a client finishes sending.
///
/// # The durability contract
///
/// **Return [`Decision::Stored`] only after the message is written to the spool and
/// fsync'd.** The driver sends `250` the moment it gets `Stored`, and from then on the
/// client considers the message delivered and deletes its copy (RFC 5321 §4.2.5, §6.1):
/// a message acknowledged but not yet on disk is lost if the gateway crashes. If the
/// write or the fsync fails, return [`Decision::NotStored`] so the client retries.
///
/// # Time and cancellation
///
/// The driver waits at most `decision_timeout` ([`crate::ServerConfig`]) for the
/// future, then drops it and answers `451 4.3.0`; it is also dropped when a shutdown
/// runs past `shutdown_timeout`. A future dropped after its fsync leaves a spooled message
/// the client will send again: a duplicate, never a loss. Make the work behind
/// `Stored` idempotent enough for that, and never leave a half-written spool file that
/// recovery would deliver.
///
/// The future runs on the session's own task, so a slow handler holds up only that
/// client; CPU-heavy work (parsing, scanning) belongs on `spawn_blocking` or a pool.
pub trait MessageHandler: Send + Sync + 'static {
    /// Spools and judges one message; `data` is dot-unstuffed, with CRLF line endings.
    fn on_message(
        &self,
        envelope: Envelope,
        data: Vec<u8>,
    ) -> impl Future<Output = Decision> + Send;

    /// A client session began (`open`) or ended (`!open`), for a sessions gauge; the driver
    /// calls it once each way per accepted session. Default: nothing.
    fn on_session(&self, open: bool) {
        let _ = open;
    }
}
