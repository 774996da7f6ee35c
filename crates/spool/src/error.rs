//! What can go wrong in the spool, typed so the SMTP and milter front ends can pick a reply
//! (any error from [`Spool::store`](crate::Spool::store) means "no 250": answer 451 and let the
//! client retry) and the queue worker can tell "gone" from "broken".

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::QueueId;

/// The two places a message can live in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// `queue/`: accepted and waiting for delivery.
    Queue,
    /// `quarantine/`: held with its verdict until an operator releases or deletes it.
    Quarantine,
}

impl Area {
    /// The sub-directory of the spool that holds this area.
    pub fn dir_name(self) -> &'static str {
        match self {
            Area::Queue => "queue",
            Area::Quarantine => "quarantine",
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir_name())
    }
}

/// Why a spool file was judged unreadable and moved to `corrupt/`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Defect {
    /// The file name is not a queue id.
    #[error("file name {0:?} is not a queue id")]
    BadName(String),
    /// The file does not start with the spool magic of a version this code reads.
    #[error("bad magic {0:?}")]
    BadMagic(Vec<u8>),
    /// The declared header length is larger than any header this code writes.
    #[error("header length {0} exceeds the limit")]
    HeaderTooLong(u64),
    /// The metadata block is not valid JSON of the expected shape.
    #[error("metadata does not parse: {0}")]
    Header(String),
    /// The id inside the file differs from its file name.
    #[error("file holds message {inside}, not {name}")]
    IdMismatch {
        /// The id from the file name.
        name: QueueId,
        /// The id written inside the file.
        inside: QueueId,
    },
    /// The file is shorter or longer than its header says.
    #[error("file is {actual} bytes, header says {expected}")]
    Length {
        /// Bytes the header accounts for.
        expected: u64,
        /// Bytes on disk.
        actual: u64,
    },
    /// The body does not match the checksum written with it.
    #[error("body checksum {actual:016x} differs from the recorded {expected:016x}")]
    Checksum {
        /// Checksum recorded at store time.
        expected: u64,
        /// Checksum of the bytes read back.
        actual: u64,
    },
}

/// Errors of the spool. Messages say what was being done and with which path or id.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// A spool directory could not be created or opened.
    #[error("cannot create spool directory {}", .path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// Another process holds the spool's lock file.
    #[error("spool {} is in use by another process", .path.display())]
    Locked {
        /// The spool directory.
        path: PathBuf,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock spool {}", .path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// A spool file could not be written or flushed; the message is not stored (answer 452/451).
    #[error("cannot write spool file {}", .path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// A spool file could not be read.
    #[error("cannot read spool file {}", .path.display())]
    Read {
        /// The file being read.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// A spool file could not be moved.
    #[error("cannot move spool file {} to {}", .from.display(), .to.display())]
    Rename {
        /// Where it was.
        from: PathBuf,
        /// Where it was going.
        to: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// A spool file could not be removed.
    #[error("cannot remove spool file {}", .path.display())]
    Remove {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// A spool directory could not be listed.
    #[error("cannot list spool directory {}", .path.display())]
    List {
        /// The directory.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// fsync of a spool directory failed, so the last changes to it may not survive a crash.
    #[error("cannot sync spool directory {}", .path.display())]
    SyncDir {
        /// The directory.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// An earlier fsync failed; after that the kernel may have dropped dirty pages while
    /// reporting later fsyncs as successful, so this spool refuses writes until reopened.
    #[error("spool {} refuses writes after an earlier fsync failure; restart to recover", .path.display())]
    Poisoned {
        /// The spool directory.
        path: PathBuf,
    },
    /// No message with this id is in the area (already completed, released or deleted).
    #[error("message {id} not found in {area}")]
    NotFound {
        /// The id asked for.
        id: QueueId,
        /// Where it was looked for.
        area: Area,
    },
    /// A spool file is unreadable; it has been moved to `corrupt/`.
    #[error("spool file {} is corrupt: {defect}", .path.display())]
    Corrupt {
        /// Where the file is now (in `corrupt/`), or where it was if it could not be moved.
        path: PathBuf,
        /// What is wrong with it.
        defect: Defect,
    },
    /// A string is not a queue id (20 lowercase hex digits).
    #[error("invalid queue id {value:?}")]
    InvalidId {
        /// The string given.
        value: String,
    },
}
