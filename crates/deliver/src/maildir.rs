//! Maildir delivery (the qmail layout): write into `tmp/`, fsync, rename into `new/`, fsync
//! `new/`. A reader never sees a partial message, and a message whose delivery returned Ok
//! survives a crash.
//!
//! The recipient address becomes a directory name, so it is checked first: anything that
//! could escape the mailbox root (`/`, `\`, `..`, NUL, control characters) is refused.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a message could not be delivered to a Maildir.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// The recipient address cannot be used as a mailbox name.
    #[error("recipient {0:?} cannot be a mailbox name")]
    BadRecipient(String),
    /// Writing the message failed.
    #[error("cannot write to maildir {path}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DeliverError + '_ {
    move |source| DeliverError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A root folder holding one Maildir per recipient address.
#[derive(Debug)]
pub struct Maildirs {
    root: PathBuf,
    counter: AtomicU64,
}

impl Maildirs {
    /// Uses `root` (created when missing) as the mailbox root.
    pub fn open(root: impl Into<PathBuf>) -> Result<Maildirs, DeliverError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io(&root))?;
        Ok(Maildirs {
            root,
            counter: AtomicU64::new(0),
        })
    }

    /// The Maildir folder of a recipient (not created).
    pub fn mailbox(&self, recipient: &str) -> Result<PathBuf, DeliverError> {
        let name = recipient.trim().to_lowercase();
        let bad = name.is_empty()
            || name.len() > 254
            || name.starts_with('.')
            || name.contains("..")
            || name
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control() || c == '\0');
        if bad {
            return Err(DeliverError::BadRecipient(recipient.to_string()));
        }
        Ok(self.root.join(name))
    }

    /// Delivers `message` to `recipient`'s Maildir durably; returns the file's path in `new/`.
    /// `unique` (e.g. the queue id) makes the file name traceable and unique.
    pub fn deliver(
        &self,
        recipient: &str,
        unique: &str,
        message: &[u8],
    ) -> Result<PathBuf, DeliverError> {
        let mailbox = self.mailbox(recipient)?;
        for sub in ["tmp", "new", "cur"] {
            let dir = mailbox.join(sub);
            fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let unique: String = unique
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(64)
            .collect();
        let name = format!(
            "{}.{}_{}_{}.spearguard",
            now.as_secs(),
            std::process::id(),
            unique,
            n
        );
        let tmp = mailbox.join("tmp").join(&name);
        let new = mailbox.join("new").join(&name);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(message).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        fs::rename(&tmp, &new).map_err(io(&new))?;
        let new_dir = mailbox.join("new");
        File::open(&new_dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&new_dir))?;
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivers_into_new_and_leaves_tmp_empty() {
        let dir = tempfile::tempdir().unwrap();
        let m = Maildirs::open(dir.path()).unwrap();
        let path = m
            .deliver("Staff@Example.org", "Q1", b"Subject: x\r\n\r\nhi\r\n")
            .unwrap();
        assert!(path.starts_with(dir.path().join("staff@example.org/new")));
        assert_eq!(fs::read(&path).unwrap(), b"Subject: x\r\n\r\nhi\r\n");
        assert_eq!(
            fs::read_dir(dir.path().join("staff@example.org/tmp"))
                .unwrap()
                .count(),
            0
        );
        assert!(dir.path().join("staff@example.org/cur").is_dir());
    }

    #[test]
    fn two_deliveries_get_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let m = Maildirs::open(dir.path()).unwrap();
        let a = m.deliver("a@example.org", "Q", b"1").unwrap();
        let b = m.deliver("a@example.org", "Q", b"2").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn recipients_that_could_escape_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = Maildirs::open(dir.path()).unwrap();
        for bad in [
            "../etc@x",
            "a/b@example.org",
            "..",
            "",
            ".hidden@x",
            "a\\b@x",
            "a\0b@x",
            "a\nb@x",
        ] {
            assert!(
                matches!(
                    m.deliver(bad, "Q", b"x"),
                    Err(DeliverError::BadRecipient(_))
                ),
                "{bad:?} accepted"
            );
        }
    }
}
