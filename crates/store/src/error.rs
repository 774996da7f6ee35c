//! What can go wrong with the database.

/// A store error: the backend's message plus what we were doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or its schema prepared.
    #[error("opening the store {location}: {cause}")]
    Open {
        /// Where (path or URL without secrets).
        location: String,
        /// The backend's error (shown in the message, not chained: printed once).
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The schema in the database is newer than this build understands.
    #[error(
        "the store has schema version {found}, this build knows up to {known}: upgrade spearguard"
    )]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Newest version this build can use.
        known: i64,
    },
    /// A query failed.
    #[error("store {operation}: {cause}")]
    Query {
        /// What we tried ("record message", …).
        operation: &'static str,
        /// The backend's error (shown in the message, not chained: printed once).
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store URL names no backend this build has.
    #[error("unsupported store URL {0:?}: use sqlite:PATH (PostgreSQL comes in a later release)")]
    UnsupportedUrl(String),
}

impl StoreError {
    pub(crate) fn query(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |e| StoreError::Query {
            operation,
            cause: Box::new(e),
        }
    }
}
