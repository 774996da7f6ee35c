//! Listing the queue or the quarantine: what the worker recovers at start-up and what the
//! operator sees, with unreadable files moved aside to `corrupt/` and reported, never fatal.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::format::{self, Header, LoadError};
use crate::{Area, Defect, DeliveryState, Metadata, QueueId, Spool, SpoolError};

/// One message as listed: everything but the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The message's id.
    pub id: QueueId,
    /// Envelope, arrival time and verdict.
    pub meta: Metadata,
    /// Delivery bookkeeping.
    pub state: DeliveryState,
    /// Size of the raw message in bytes.
    pub body_len: u64,
}

impl From<Header> for QueueEntry {
    fn from(h: Header) -> Self {
        QueueEntry {
            id: h.id,
            meta: h.meta,
            state: h.state,
            body_len: h.body_len,
        }
    }
}

/// A message read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpooledMessage {
    /// Its id, metadata and delivery state.
    pub entry: QueueEntry,
    /// The raw message, exactly as received.
    pub body: Vec<u8>,
}

/// A file that could not be read as a message and was moved to `corrupt/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptFile {
    /// Its file name in the area it was found in.
    pub name: OsString,
    /// Where it is now.
    pub path: PathBuf,
    /// What is wrong with it.
    pub defect: Defect,
}

/// The messages of one area in id order, and the files that were moved aside while listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Readable messages, sorted by id.
    pub entries: Vec<QueueEntry>,
    /// Unreadable files, now in `corrupt/`: log each one for the operator.
    pub corrupt: Vec<CorruptFile>,
}

impl Spool {
    pub(crate) fn list(&self, area: Area) -> Result<Listing, SpoolError> {
        let mut listing = Listing::default();
        for name in names(self.dir(area).path())? {
            let Some(id) = name.to_str().and_then(|n| QueueId::parse(n).ok()) else {
                let defect = Defect::BadName(name.to_string_lossy().into_owned());
                let path = self.move_to_corrupt(area, &name)?;
                listing.corrupt.push(CorruptFile { name, path, defect });
                continue;
            };
            match self.load_header(area, id) {
                Ok(Some(header)) => listing.entries.push(QueueEntry::from(header)),
                // Completed, released or deleted while we were listing.
                Ok(None) => {}
                Err(LoadError::Io(source)) => {
                    return Err(SpoolError::Read {
                        path: self.path_of(area, id),
                        source,
                    });
                }
                Err(LoadError::Defect(defect)) => {
                    let _guard = self.lock_id(id);
                    let path = self.move_to_corrupt(area, &name)?;
                    listing.corrupt.push(CorruptFile { name, path, defect });
                }
            }
        }
        listing.entries.sort_by_key(|e| e.id);
        Ok(listing)
    }

    fn load_header(&self, area: Area, id: QueueId) -> Result<Option<Header>, LoadError> {
        let mut file = match File::open(self.path_of(area, id)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LoadError::Io(e)),
        };
        format::read_header(&mut file, id).map(Some)
    }

    /// Moves `area/<name>` to `corrupt/` (under a fresh name if taken) durably.
    pub(crate) fn move_to_corrupt(&self, area: Area, name: &OsStr) -> Result<PathBuf, SpoolError> {
        let from = self.dir(area).path().join(name);
        let mut to = self.corrupt.path().join(name);
        let mut n = 0;
        while to.exists() {
            n += 1;
            let mut fresh = name.to_os_string();
            fresh.push(format!(".{n}"));
            to = self.corrupt.path().join(fresh);
        }
        fs::rename(&from, &to).map_err(|source| SpoolError::Rename {
            from,
            to: to.clone(),
            source,
        })?;
        self.corrupt.sync(&self.poison)?;
        self.dir(area).sync(&self.poison)?;
        Ok(to)
    }
}

/// The names in a directory, in no particular order.
pub(crate) fn names(dir: &Path) -> Result<Vec<OsString>, SpoolError> {
    let list_err = |source| SpoolError::List {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(list_err)? {
        out.push(entry.map_err(list_err)?.file_name());
    }
    Ok(out)
}
