//! The API token: generated at first start into `DATA/api-token` (mode 0600) when the config
//! gives none, reused afterwards, and compared in constant time.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// Bytes of randomness in a generated token (64 hex digits).
const TOKEN_BYTES: usize = 32;

/// A fresh random token: 64 lowercase hex digits from the OS generator.
pub fn generate() -> io::Result<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads the token in `path`, or writes a new one there (mode 0600, fsync'd, via a temporary
/// file and a rename so a crash never leaves a half-written token). Returns the token and
/// whether it was just created. An empty or blank file is replaced.
pub fn load_or_create(path: &Path) -> io::Result<(String, bool)> {
    match fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok((text.trim().to_owned(), false)),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = generate()?;
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(format!("{token}\n").as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    Ok((token, true))
}

/// Whether `given` equals `expected`, in time that depends only on their lengths. An empty
/// `expected` token matches nothing.
pub fn matches(given: &[u8], expected: &[u8]) -> bool {
    if expected.is_empty() {
        return false;
    }
    let mut diff = u8::from(given.len() != expected.len());
    for (i, &e) in expected.iter().enumerate() {
        diff |= e ^ given.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn a_token_is_created_private_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api-token");
        let (first, created) = load_or_create(&path).unwrap();
        assert!(created);
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create(&path).unwrap(), (first.clone(), false));
        assert_ne!(generate().unwrap(), first);
    }

    #[test]
    fn a_blank_token_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api-token");
        fs::write(&path, "\n").unwrap();
        let (token, created) = load_or_create(&path).unwrap();
        assert!(created && token.len() == 64);
    }

    #[test]
    fn matching_needs_equal_nonempty_tokens() {
        assert!(matches(b"secret", b"secret"));
        assert!(!matches(b"secreT", b"secret"));
        assert!(!matches(b"secret-and-more", b"secret"));
        assert!(!matches(b"secre", b"secret"));
        assert!(!matches(b"", b""));
    }
}
