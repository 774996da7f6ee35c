//! The [`Spool`] handle: opening (and cleaning up after a crash), storing, reading, and the
//! queue worker's bookkeeping. Quarantine operations live in `quarantine.rs`, directory
//! listings in `listing.rs`.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::durable::{self, DirSync, Durability, Poison};
use crate::format::{self, Header, LoadError};
use crate::id::IdGen;
use crate::listing::{self, Listing};
use crate::{
    Area, Attempt, DeliveryState, Metadata, QueueEntry, QueueId, SpoolError, SpooledMessage,
};

/// Where unreadable files are moved, for an operator to look at.
const CORRUPT: &str = "corrupt";
/// Per-id locks are striped over this many mutexes.
const STRIPES: usize = 64;

/// A durable message spool in one directory. `Send + Sync`: share it in an `Arc` and call its
/// (blocking, std I/O) methods from `tokio::task::spawn_blocking`.
#[derive(Debug)]
pub struct Spool {
    root: PathBuf,
    tmp: PathBuf,
    pub(crate) queue: DirSync,
    pub(crate) quarantine: DirSync,
    pub(crate) corrupt: DirSync,
    pub(crate) durability: Durability,
    pub(crate) poison: Poison,
    ids: IdGen,
    /// Serialise the operations that replace, move or remove one id's file, so that (say) a
    /// `record_attempt` cannot rename a rewritten copy back after `complete` removed it.
    stripes: Box<[Mutex<()>]>,
    /// Held (flock) for the life of the spool: one process per spool directory.
    _lock: File,
}

impl Spool {
    /// Opens (creating if needed) the spool in `dir` with fsync on: removes what a crash left in
    /// `tmp/` (never acknowledged), and finishes an interrupted quarantine.
    pub fn open(dir: impl AsRef<Path>) -> Result<Spool, SpoolError> {
        Spool::open_with(dir, Durability::Fsync)
    }

    /// [`open`](Spool::open) with an explicit [`Durability`]; only tests and benchmarks pass
    /// anything but [`Durability::Fsync`].
    pub fn open_with(dir: impl AsRef<Path>, durability: Durability) -> Result<Spool, SpoolError> {
        let root = dir.as_ref().to_path_buf();
        let created = create_layout(&root)?;
        let lock = lock_dir(&root)?;
        let mut spool = Spool {
            tmp: root.join("tmp"),
            queue: DirSync::open(&root.join(Area::Queue.dir_name()), durability)?,
            quarantine: DirSync::open(&root.join(Area::Quarantine.dir_name()), durability)?,
            corrupt: DirSync::open(&root.join(CORRUPT), durability)?,
            durability,
            poison: Poison::new(&root),
            ids: IdGen::new(None),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            _lock: lock,
            root,
        };
        spool.clean_tmp()?;
        let queued = listing::names(spool.queue.path())?;
        let held = listing::names(spool.quarantine.path())?;
        spool.finish_quarantines(&queued, &held)?;
        let corrupt = listing::names(spool.corrupt.path())?;
        let floor = queued
            .iter()
            .chain(&held)
            .chain(&corrupt)
            .filter_map(|n| n.to_str().and_then(|n| QueueId::parse(n).ok()))
            .max();
        spool.ids = IdGen::new(floor);
        // The sub-directories must survive a crash too, and the root itself if it is new.
        DirSync::open(&spool.root, durability)?.sync(&spool.poison)?;
        if let Some(parent) = spool.root.parent().filter(|_| created) {
            let parent = match parent.as_os_str().is_empty() {
                true => Path::new("."),
                false => parent,
            };
            DirSync::open(parent, durability)?.sync(&spool.poison)?;
        }
        Ok(spool)
    }

    /// The spool directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Whether this spool fsyncs.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Stores a message for delivery. When this returns `Ok`, the message and its metadata are
    /// one file in `queue/`, that file and the directory entry are fsync'd: give the 250 now,
    /// not before.
    pub fn store(&self, meta: &Metadata, body: &[u8]) -> Result<QueueId, SpoolError> {
        self.store_in(Area::Queue, meta, body)
    }

    /// Writes a new message straight into `area` (fsync file, rename, fsync directory).
    pub(crate) fn store_in(
        &self,
        area: Area,
        meta: &Metadata,
        body: &[u8],
    ) -> Result<QueueId, SpoolError> {
        self.poison.check()?;
        let id = self.ids.next();
        let header = Header::new(id, meta.clone(), body);
        let tmp = self.write_tmp(&id.to_string(), |f| format::write_new(f, &header, body))?;
        let dest = self.path_of(area, id);
        if let Err(e) = self.install(&tmp, &dest, area) {
            // Not acknowledged: take it back out so it is not delivered behind a 4xx (a
            // best effort; if the removal does not survive a crash, the client's retry
            // makes a duplicate, never a loss).
            let _ = fs::remove_file(&dest);
            return Err(e);
        }
        Ok(id)
    }

    /// Lists the queue in id order (acceptance order), for the queue worker at start-up.
    /// Files that do not parse are moved to `corrupt/` and reported in [`Listing::corrupt`].
    /// Bodies are not read; [`read`](Spool::read) checks their checksum.
    pub fn recover(&self) -> Result<Listing, SpoolError> {
        self.list(Area::Queue)
    }

    /// Reads a queued message whole. A body that fails its checksum moves the file to
    /// `corrupt/` and returns [`SpoolError::Corrupt`].
    pub fn read(&self, id: QueueId) -> Result<SpooledMessage, SpoolError> {
        self.read_in(Area::Queue, id)
    }

    pub(crate) fn read_in(&self, area: Area, id: QueueId) -> Result<SpooledMessage, SpoolError> {
        let (mut file, header) = self.open_message(area, id)?;
        match format::read_body(&mut file, &header) {
            Ok(body) => Ok(SpooledMessage {
                entry: QueueEntry::from(header),
                body,
            }),
            Err(e) => Err(self.load_failed(area, id, e)),
        }
    }

    /// Records a delivery attempt: one more attempt, when to try next, the last error, and the
    /// recipients the next hop accepted this time (added to [`DeliveryState::delivered`]).
    /// The file is rewritten beside the old one and renamed over it, so a crash leaves either
    /// the old state or the new one. Returns the new state.
    pub fn record_attempt(
        &self,
        id: QueueId,
        next_attempt_at: u64,
        last_error: &str,
        delivered: &[String],
    ) -> Result<DeliveryState, SpoolError> {
        self.record(
            id,
            &Attempt {
                next_attempt_at,
                last_error,
                delivered,
                failed: &[],
            },
        )
    }

    /// [`record_attempt`](Spool::record_attempt) with recipients that failed for good as
    /// well (added to [`DeliveryState::failed`]). Bounce them *before* calling this: a crash
    /// in between then repeats the bounce, never loses it.
    pub fn record(&self, id: QueueId, attempt: &Attempt<'_>) -> Result<DeliveryState, SpoolError> {
        self.poison.check()?;
        let _guard = self.lock_id(id);
        let (mut file, mut header) = self.open_message(Area::Queue, id)?;
        let state = &mut header.state;
        state.attempts = state.attempts.saturating_add(1);
        state.next_attempt_at = attempt.next_attempt_at;
        state.last_error = Some(attempt.last_error.to_owned());
        add_new(&mut state.delivered, attempt.delivered);
        add_new(&mut state.failed, attempt.failed);
        let tmp = self.write_tmp(&format!("{id}.rewrite"), |f| {
            format::write_rewritten(f, &header, &mut file)
        })?;
        self.install(&tmp, &self.path_of(Area::Queue, id), Area::Queue)?;
        Ok(header.state)
    }

    /// Removes a message after the next hop accepted it for every recipient: unlink, then
    /// fsync `queue/`. A crash before this returns may deliver the message again (see the crate
    /// docs).
    pub fn complete(&self, id: QueueId) -> Result<(), SpoolError> {
        self.poison.check()?;
        let _guard = self.lock_id(id);
        self.remove(Area::Queue, id)
    }

    pub(crate) fn remove(&self, area: Area, id: QueueId) -> Result<(), SpoolError> {
        let path = self.path_of(area, id);
        fs::remove_file(&path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => SpoolError::NotFound { id, area },
            _ => SpoolError::Remove { path, source },
        })?;
        self.dir(area).sync(&self.poison)
    }

    pub(crate) fn dir(&self, area: Area) -> &DirSync {
        match area {
            Area::Queue => &self.queue,
            Area::Quarantine => &self.quarantine,
        }
    }

    pub(crate) fn path_of(&self, area: Area, id: QueueId) -> PathBuf {
        self.dir(area).path().join(id.to_string())
    }

    pub(crate) fn lock_id(&self, id: QueueId) -> MutexGuard<'_, ()> {
        let mut h = DefaultHasher::new();
        id.hash(&mut h);
        durable::lock(&self.stripes[h.finish() as usize % self.stripes.len()])
    }

    /// Creates `tmp/<name>` exclusively, fills it, fsyncs it; removes it again on failure.
    pub(crate) fn write_tmp(
        &self,
        name: &str,
        fill: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<PathBuf, SpoolError> {
        let path = self.tmp.join(name);
        let result = File::create_new(&path).and_then(|mut f| {
            fill(&mut f)?;
            durable::sync_file(&f, self.durability)
        });
        match result {
            Ok(()) => Ok(path),
            Err(source) => {
                let _ = fs::remove_file(&path);
                Err(SpoolError::Write { path, source })
            }
        }
    }

    /// Renames a synced tmp file to `dest` in `area` and makes the rename durable.
    pub(crate) fn install(&self, tmp: &Path, dest: &Path, area: Area) -> Result<(), SpoolError> {
        if let Err(source) = fs::rename(tmp, dest) {
            let _ = fs::remove_file(tmp);
            return Err(SpoolError::Rename {
                from: tmp.to_path_buf(),
                to: dest.to_path_buf(),
                source,
            });
        }
        self.dir(area).sync(&self.poison)
    }

    /// Opens a message file and reads its header; a defective file goes to `corrupt/`.
    pub(crate) fn open_message(
        &self,
        area: Area,
        id: QueueId,
    ) -> Result<(File, Header), SpoolError> {
        let path = self.path_of(area, id);
        let mut file = File::open(&path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => SpoolError::NotFound { id, area },
            _ => SpoolError::Read { path, source },
        })?;
        match format::read_header(&mut file, id) {
            Ok(header) => Ok((file, header)),
            Err(e) => Err(self.load_failed(area, id, e)),
        }
    }

    fn load_failed(&self, area: Area, id: QueueId, e: LoadError) -> SpoolError {
        let path = self.path_of(area, id);
        match e {
            LoadError::Io(source) => SpoolError::Read { path, source },
            LoadError::Defect(defect) => {
                match self.move_to_corrupt(area, id.to_string().as_ref()) {
                    Ok(path) => SpoolError::Corrupt { path, defect },
                    Err(e) => e,
                }
            }
        }
    }

    /// Removes everything in `tmp/`: none of it was acknowledged.
    fn clean_tmp(&self) -> Result<(), SpoolError> {
        for name in listing::names(&self.tmp)? {
            let path = self.tmp.join(name);
            let removed = match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
            match removed {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(SpoolError::Remove { path, source: e });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Appends the addresses of `new` that `list` does not hold yet, in order.
fn add_new(list: &mut Vec<String>, new: &[String]) {
    let mut known: HashSet<String> = list.iter().cloned().collect();
    for rcpt in new {
        if known.insert(rcpt.clone()) {
            list.push(rcpt.clone());
        }
    }
}

/// Creates the spool's directories; returns whether the root itself had to be created.
fn create_layout(root: &Path) -> Result<bool, SpoolError> {
    let created = !root.exists();
    for sub in [
        "tmp",
        Area::Queue.dir_name(),
        Area::Quarantine.dir_name(),
        CORRUPT,
    ] {
        let path = root.join(sub);
        fs::create_dir_all(&path).map_err(|source| SpoolError::CreateDir { path, source })?;
    }
    Ok(created)
}

/// Takes the spool's lock file, so that two gateways never share one spool directory.
fn lock_dir(root: &Path) -> Result<File, SpoolError> {
    let path = root.join("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| SpoolError::Lock {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(SpoolError::Locked {
            path: root.to_path_buf(),
        }),
        Err(TryLockError::Error(source)) => Err(SpoolError::Lock { path, source }),
    }
}
