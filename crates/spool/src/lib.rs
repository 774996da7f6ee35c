//! The durable message spool behind spearguard's SMTP relay and milter: a message gets its 250
//! only once it is on disk, and after a crash every acknowledged message is found again.
//!
//! # Layout
//!
//! ```text
//! SPOOL/lock          flock'd while a process has the spool open (one process per spool)
//! SPOOL/tmp/          files being written; never acknowledged, emptied by `Spool::open`
//! SPOOL/queue/<id>    accepted messages waiting for delivery
//! SPOOL/quarantine/<id>  held messages, with their verdict
//! SPOOL/corrupt/      files that failed to parse, moved aside for an operator
//! ```
//!
//! One file holds a message *and* its metadata (envelope, arrival time, verdict, delivery
//! state; format in `format.rs`), so one `rename` moves or replaces all of it atomically.
//!
//! # The durability contract
//!
//! [`Spool::store`] writes `tmp/<id>`, fsyncs the file, renames it into `queue/`, fsyncs
//! `queue/`, and only then returns the id: the caller sends the 250 after that. Directory
//! fsyncs are group-committed across concurrent callers (see `durable.rs`), which is what
//! makes fsync-per-message affordable with many sessions. Every later change (attempt
//! bookkeeping, quarantine, release, completion) is likewise a complete, fsync'd file renamed
//! into place, or an unlink, followed by an fsync of each directory involved. If a directory
//! fsync ever fails the spool refuses writes until reopened ([`SpoolError::Poisoned`]).
//! [`Durability::None`] skips every fsync, for tests and benchmarks only: it still survives
//! the death of the process (SIGKILL), not a power loss.
//!
//! # What a crash leaves (SIGKILL, kernel panic or power loss at any instant)
//!
//! | interrupted operation | state after `Spool::open` |
//! |---|---|
//! | `store` before the rename | nothing (the `tmp/` file is removed); no 250 was sent, the client retries |
//! | `store` after the rename, before it returned | the whole message is queued although no 250 was sent: the client's retry makes a **duplicate** (SMTP's own window, RFC 1047), never a loss or a partial message |
//! | `record_attempt` | the old state or the new one, never a mix |
//! | delivery accepted downstream, `complete` not yet durable | still queued: **delivered again** (see below) |
//! | `quarantine` | queued (the worker decides again) or quarantined; never both, because `open` removes a queue copy whose id is also in quarantine |
//! | `release` | quarantined or queued, never both (one rename) |
//! | `delete` | quarantined or gone |
//!
//! Nothing is ever half-written where it can be found: only fsync'd, complete files are
//! renamed into `queue/` or `quarantine/`, and every file carries its exact length and a body
//! checksum, so damage from outside (disk, operator) sends it to `corrupt/` instead of the
//! next hop.
//!
//! # Exactly once: what the spool gives, and what the delivery code must add
//!
//! No local bookkeeping can close the window between "the next hop answered 250" and "our
//! `complete` is durable": whichever is recorded first, a crash between the two either loses
//! the message or repeats it. The spool chooses **repetition** (at-least-once): a message is
//! removed only by [`Spool::complete`], after delivery. Two things narrow that to exactly once:
//!
//! * **Per recipient.** When the next hop accepts some recipients and defers others, record
//!   the accepted ones with [`Spool::record_attempt`]; they are kept in
//!   [`DeliveryState::delivered`] and must be skipped on later attempts, so a retry never
//!   reaches a recipient twice. Recipients that failed for good go to
//!   [`DeliveryState::failed`] through [`Spool::record`], after their bounce is spooled.
//! * **Per message, downstream.** The delivery code should add a [`QUEUE_ID_HEADER`] header
//!   carrying the queue id (unique across restarts: time, counter and a random tail). Local
//!   Maildir delivery can then be made idempotent by naming the delivered file after the queue
//!   id and recipient and skipping it when it already exists; an SMTP next hop can de-duplicate
//!   on that header. The client's `Message-ID` is not a reliable key: it may be missing, and
//!   senders reuse it.
//!
//! So "every message that got a 250 is delivered exactly once or is in quarantine" holds for
//! Maildir delivery done that way; for an SMTP next hop it holds unless the crash falls between
//! its 250 and our `complete`, and then the copy carries the same queue id.
//!
//! # Concurrency
//!
//! [`Spool`] is `Send + Sync`; its methods do blocking std I/O, so async callers wrap them in
//! `tokio::task::spawn_blocking`. Concurrent `store`s get distinct ids from one lock-free
//! counter. Operations that replace, move or remove a given id are serialised per id, so a
//! `complete` cannot be undone by a concurrent `record_attempt`. A second process opening the
//! same spool gets [`SpoolError::Locked`].

mod durable;
mod error;
mod format;
mod id;
mod listing;
mod quarantine;
mod spool;

pub use durable::Durability;
pub use error::{Area, Defect, SpoolError};
pub use format::{Attempt, DeliveryState, Metadata};
pub use id::QueueId;
pub use listing::{CorruptFile, Listing, QueueEntry, SpooledMessage};
pub use spool::Spool;

/// The header the delivery code adds to carry the queue id downstream, for de-duplication.
pub const QUEUE_ID_HEADER: &str = "X-Spearguard-Queue-Id";

// The spool is shared between tasks and threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Spool>();
};
