//! Store locations as URLs: `sqlite:PATH` today, `postgres://…` when that backend lands.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{SqliteStore, Store, StoreError};

/// A parsed store location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
}

impl StoreUrl {
    /// Parses `url`; the empty string means `sqlite:` + `DATA/spearguard.db`.
    pub fn parse(url: &str, data_dir: &Path) -> Result<StoreUrl, StoreError> {
        if url.is_empty() {
            return Ok(StoreUrl::Sqlite(data_dir.join("spearguard.db")));
        }
        match url.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() => Ok(StoreUrl::Sqlite(PathBuf::from(
                path.trim_start_matches("//"),
            ))),
            _ => Err(StoreError::UnsupportedUrl(url.to_string())),
        }
    }
}

/// Opens the store `url` names (see [`StoreUrl::parse`]), creating its schema if needed.
pub fn open(url: &str, data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    match StoreUrl::parse(url, data_dir)? {
        StoreUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(&path)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let d = Path::new("/d");
        assert_eq!(
            StoreUrl::parse("", d).unwrap(),
            StoreUrl::Sqlite("/d/spearguard.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:x.db", d).unwrap(),
            StoreUrl::Sqlite("x.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/db/sg.db", d).unwrap(),
            StoreUrl::Sqlite("/var/db/sg.db".into())
        );
        assert!(matches!(
            StoreUrl::parse("postgres://h/db", d),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert!(StoreUrl::parse("sqlite:", d).is_err());
    }
}
