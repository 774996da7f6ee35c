//! Maildir delivery (the qmail layout): write into `tmp/`, fsync, rename into `new/`, fsync
//! `new/`. A reader never sees a partial message, and a message whose delivery returned Ok
//! survives a crash.
//!
//! The recipient address becomes a directory name, so it is checked first: anything that
//! could escape the mailbox root (`/`, `\`, `..`, NUL, control characters) is refused.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

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
}

impl Maildirs {
    /// Uses `root` (created when missing) as the mailbox root.
    pub fn open(root: impl Into<PathBuf>) -> Result<Maildirs, DeliverError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io(&root))?;
        Ok(Maildirs { root })
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

    /// Delivers `message` to `recipient`'s Maildir durably; returns the file's path.
    ///
    /// Idempotent per `unique` (the queue id): the file name is derived from it alone, so
    /// delivering the same queued message again after a crash finds the earlier copy in
    /// `new/` (or `cur/`, where a mail client moved it) and does not write a second one.
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
        let unique: String = unique
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(64)
            .collect();
        if unique.is_empty() {
            return Err(DeliverError::BadRecipient(format!(
                "(empty delivery id for {recipient})"
            )));
        }
        let name = format!("{unique}.spearguard");
        if let Some(existing) = already_delivered(&mailbox, &name)? {
            return Ok(existing);
        }
        let tmp = mailbox.join("tmp").join(&name);
        let new = mailbox.join("new").join(&name);
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
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

/// The earlier copy of `name` in `new/` or `cur/` (where clients append `:2,flags`).
fn already_delivered(mailbox: &Path, name: &str) -> Result<Option<PathBuf>, DeliverError> {
    let new = mailbox.join("new").join(name);
    if new.exists() {
        return Ok(Some(new));
    }
    let cur = mailbox.join("cur");
    for entry in fs::read_dir(&cur).map_err(io(&cur))? {
        let entry = entry.map_err(io(&cur))?;
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file == name || file.starts_with(&format!("{name}:")) {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
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
    fn two_messages_get_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let m = Maildirs::open(dir.path()).unwrap();
        let a = m.deliver("a@example.org", "Q1", b"1").unwrap();
        let b = m.deliver("a@example.org", "Q2", b"2").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn delivering_the_same_queue_id_again_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let m = Maildirs::open(dir.path()).unwrap();
        let a = m.deliver("a@example.org", "Q1", b"1").unwrap();
        assert_eq!(m.deliver("a@example.org", "Q1", b"1").unwrap(), a);
        // A client moved it to cur/ and flagged it as seen: still delivered once.
        let cur = dir.path().join("a@example.org/cur/Q1.spearguard:2,S");
        fs::rename(&a, &cur).unwrap();
        assert_eq!(m.deliver("a@example.org", "Q1", b"1").unwrap(), cur);
        assert_eq!(
            fs::read_dir(dir.path().join("a@example.org/new"))
                .unwrap()
                .count(),
            0
        );
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
