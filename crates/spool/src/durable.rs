//! The fsync policy: whether to sync at all, one group-committed fsync per directory for many
//! concurrent writers, and the refusal to carry on after an fsync failed.
//!
//! A directory fsync costs milliseconds (about 4 ms on the CI disk, more than the fsync of a
//! 10 KB file), and it is the same work whether one or fifty renames are pending in that
//! directory. So callers queue on a [`DirSync`]: one of them runs the fsync, and every caller
//! whose rename happened before that fsync started is covered by it. A caller's rename is
//! covered only by a sync that *started after* it took its ticket, which it does after the
//! rename returned, so no caller returns before its own entry is durable. This is the group
//! commit of databases; it is what lets fifty SMTP sessions get their 250s at the cost of a
//! few directory fsyncs rather than fifty.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::SpoolError;

/// How hard the spool works to survive a power loss or a kernel crash.
///
/// There is deliberately no way to read this from a config file or a string: turning fsync off
/// has to be written in code, for a test or a benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// fsync every new file and every changed directory before reporting success (the default;
    /// the only mode in which an SMTP 250 may be given).
    #[default]
    Fsync,
    /// **Tests and benchmarks only.** No fsync at all: a message survives the death of the
    /// process (the page cache keeps it) but not a power loss or a kernel crash.
    None,
}

/// Set once a directory fsync failed: after that, Linux may have dropped the dirty pages and
/// later fsyncs may succeed without having written them (the PostgreSQL "fsyncgate" lesson),
/// so the spool stops taking messages until it is reopened and recovered from disk.
#[derive(Debug)]
pub(crate) struct Poison {
    root: PathBuf,
    failed: AtomicBool,
}

impl Poison {
    pub(crate) fn new(root: &Path) -> Poison {
        Poison {
            root: root.to_path_buf(),
            failed: AtomicBool::new(false),
        }
    }

    pub(crate) fn check(&self) -> Result<(), SpoolError> {
        if self.failed.load(Ordering::Acquire) {
            return Err(SpoolError::Poisoned {
                path: self.root.clone(),
            });
        }
        Ok(())
    }

    fn set(&self) {
        self.failed.store(true, Ordering::Release);
    }
}

/// Group-committed fsync of one directory.
#[derive(Debug)]
pub(crate) struct DirSync {
    path: PathBuf,
    dir: File,
    durability: Durability,
    group: Mutex<Group>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct Group {
    /// Tickets handed out so far; a ticket is taken after the caller's change was made.
    issued: u64,
    /// Every ticket up to this one is covered by a finished, successful fsync.
    synced: u64,
    /// Whether some caller is running an fsync now.
    running: bool,
}

impl DirSync {
    pub(crate) fn open(path: &Path, durability: Durability) -> Result<DirSync, SpoolError> {
        let dir = File::open(path).map_err(|source| SpoolError::CreateDir {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(DirSync {
            path: path.to_path_buf(),
            dir,
            durability,
            group: Mutex::new(Group::default()),
            done: Condvar::new(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Returns once every change made to this directory before the call is durable.
    pub(crate) fn sync(&self, poison: &Poison) -> Result<(), SpoolError> {
        poison.check()?;
        if self.durability == Durability::None {
            return Ok(());
        }
        let mut g = lock(&self.group);
        g.issued += 1;
        let ticket = g.issued;
        loop {
            if g.synced >= ticket {
                return Ok(());
            }
            poison.check()?;
            if g.running {
                g = self.done.wait(g).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            g.running = true;
            let covers = g.issued;
            drop(g);
            let result = self.dir.sync_all();
            g = lock(&self.group);
            g.running = false;
            match &result {
                Ok(()) => g.synced = covers,
                Err(_) => poison.set(),
            }
            self.done.notify_all();
            if let Err(source) = result {
                return Err(SpoolError::SyncDir {
                    path: self.path.clone(),
                    source,
                });
            }
        }
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (plain counters).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// fsyncs a file unless durability is off.
pub(crate) fn sync_file(file: &File, durability: Durability) -> std::io::Result<()> {
    match durability {
        Durability::Fsync => file.sync_all(),
        Durability::None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn concurrent_syncs_all_return_and_share_fsyncs() {
        let dir = tempfile::tempdir().unwrap();
        let sync = Arc::new(DirSync::open(dir.path(), Durability::Fsync).unwrap());
        let poison = Arc::new(Poison::new(dir.path()));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (sync, poison) = (Arc::clone(&sync), Arc::clone(&poison));
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        sync.sync(&poison).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let g = lock(&sync.group);
        assert_eq!(g.issued, 160);
        assert_eq!(g.synced, 160);
        assert!(!g.running);
    }

    #[test]
    fn poisoned_spool_refuses_to_sync() {
        let dir = tempfile::tempdir().unwrap();
        let sync = DirSync::open(dir.path(), Durability::Fsync).unwrap();
        let poison = Poison::new(dir.path());
        poison.set();
        assert!(matches!(
            sync.sync(&poison),
            Err(SpoolError::Poisoned { .. })
        ));
    }
}
