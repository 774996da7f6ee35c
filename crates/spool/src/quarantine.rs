//! Quarantine: messages held whole, with their verdict, until an operator releases them to the
//! queue (once) or deletes them.
//!
//! Moving a queued message to quarantine writes a copy carrying the new verdict into
//! `quarantine/` and only then removes the queue copy, so the step that decides is a single
//! rename. A crash between the two leaves both; [`Spool::open`] then removes the queue copy, so
//! a message that reached quarantine is never delivered as well. Release is one rename back.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;

use crate::format;
use crate::listing::Listing;
use crate::{Area, Metadata, QueueId, Spool, SpoolError, SpooledMessage};

impl Spool {
    /// Stores a new message straight into quarantine, with the same durability as
    /// [`store`](Spool::store): for a message whose verdict is known before the 250.
    pub fn store_quarantined(&self, meta: &Metadata, body: &[u8]) -> Result<QueueId, SpoolError> {
        self.store_in(Area::Quarantine, meta, body)
    }

    /// Moves a queued message to quarantine, replacing its verdict with `verdict_json`.
    /// When this returns `Ok`, only the quarantine copy exists.
    pub fn quarantine(&self, id: QueueId, verdict_json: &str) -> Result<(), SpoolError> {
        self.poison.check()?;
        let _guard = self.lock_id(id);
        let (mut file, mut header) = self.open_message(Area::Queue, id)?;
        header.meta.verdict = Some(verdict_json.to_owned());
        let tmp = self.write_tmp(&format!("{id}.quarantine"), |f| {
            format::write_rewritten(f, &header, &mut file)
        })?;
        // The commit point: from here on the message counts as quarantined.
        self.install(&tmp, &self.path_of(Area::Quarantine, id), Area::Quarantine)?;
        self.remove(Area::Queue, id)
    }

    /// Lists the quarantine in id order; unreadable files are moved to `corrupt/` and reported.
    pub fn quarantined(&self) -> Result<Listing, SpoolError> {
        self.list(Area::Quarantine)
    }

    /// Reads a quarantined message whole (for `quarantine show`).
    pub fn read_quarantined(&self, id: QueueId) -> Result<SpooledMessage, SpoolError> {
        self.read_in(Area::Quarantine, id)
    }

    /// Moves a quarantined message back to the queue for delivery, in one rename. A second
    /// release of the same id finds nothing and returns [`SpoolError::NotFound`].
    pub fn release(&self, id: QueueId) -> Result<(), SpoolError> {
        self.poison.check()?;
        let _guard = self.lock_id(id);
        let from = self.path_of(Area::Quarantine, id);
        let to = self.path_of(Area::Queue, id);
        fs::rename(&from, &to).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => SpoolError::NotFound {
                id,
                area: Area::Quarantine,
            },
            _ => SpoolError::Rename { from, to, source },
        })?;
        self.queue.sync(&self.poison)?;
        self.quarantine.sync(&self.poison)
    }

    /// Deletes a quarantined message for good (unlink, then fsync `quarantine/`).
    pub fn delete(&self, id: QueueId) -> Result<(), SpoolError> {
        self.poison.check()?;
        let _guard = self.lock_id(id);
        self.remove(Area::Quarantine, id)
    }

    /// At open: a name in both `queue/` and `quarantine/` is a quarantine interrupted after its
    /// commit point, so the queue copy goes.
    pub(crate) fn finish_quarantines(
        &self,
        queued: &[OsString],
        held: &[OsString],
    ) -> Result<(), SpoolError> {
        let held: HashSet<&OsString> = held.iter().collect();
        let mut removed = false;
        for name in queued.iter().filter(|n| held.contains(n)) {
            let path = self.queue.path().join(name);
            match fs::remove_file(&path) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(SpoolError::Remove { path, source }),
            }
        }
        if removed {
            self.queue.sync(&self.poison)?;
        }
        Ok(())
    }
}
