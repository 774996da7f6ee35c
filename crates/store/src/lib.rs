//! spearguard's database: what the gateway decided about every message, and who was
//! delivered what; later issues add sender history, campaigns and alerts.
//!
//! Everything goes through the [`Store`] trait so the backend can change without touching
//! callers: [`SqliteStore`] is the embedded default (one file under the data dir, no
//! server); a PostgreSQL backend (several gateways sharing one database) implements the
//! same trait. The trait is synchronous on purpose: the detection engine is synchronous
//! and runs on blocking threads, and stateful analysers (campaigns, first contact) will
//! query the store from there. Async callers (the HTTP API) use `spawn_blocking`.
//!
//! The store is a log and an index, not the durability point: a message is safe once the
//! spool has fsync'd it. SQLite therefore runs in WAL mode with `synchronous = NORMAL`.
//!
//! ```
//! use sg_store::{MessageQuery, MessageRecord, SqliteStore, Store};
//!
//! let store = SqliteStore::open_in_memory().unwrap();
//! store.record_message(&MessageRecord { queue_id: Some("0190c1d2e3f4a5b60001".into()),
//!     verdict: "deliver".into(), action: "queued".into(), ..MessageRecord::default() }).unwrap();
//! let found = store.messages(&MessageQuery::default()).unwrap();
//! assert_eq!(found[0].verdict, "deliver");
//! ```

mod error;
mod record;
mod sqlite;
mod url;

pub use error::StoreError;
pub use record::{DeliveryRecord, DirectoryEntry, MessageQuery, MessageRecord};
pub use sqlite::SqliteStore;
pub use url::{StoreUrl, open};

/// The gateway's database, whatever the backend.
///
/// Methods block; call them from blocking threads (`spawn_blocking`), never while holding
/// an async lock. Implementations are shared (`Arc<dyn Store>`) by every session.
pub trait Store: Send + Sync {
    /// Records what the gateway decided about one message (any front end, any outcome).
    fn record_message(&self, message: &MessageRecord) -> Result<(), StoreError>;

    /// Records one delivery attempt's outcome for one recipient.
    fn record_delivery(&self, delivery: &DeliveryRecord) -> Result<(), StoreError>;

    /// The newest messages first, filtered by `query`.
    fn messages(&self, query: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError>;

    /// The delivery attempts of one queued message, oldest first.
    fn deliveries(&self, queue_id: &str) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Replaces the whole staff directory with `entries`, in one transaction: on error the
    /// previous directory stays. Addresses must be unique ignoring case.
    fn replace_directory(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError>;

    /// The staff directory in the order it was imported (empty if never imported).
    fn directory(&self) -> Result<Vec<DirectoryEntry>, StoreError>;

    /// Stores an opaque state blob under `key`, replacing any earlier one.
    fn put_state(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// The blob stored under `key`, if any.
    fn state(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Cheap liveness check for `/healthz`: the database answers a trivial query.
    fn ping(&self) -> Result<(), StoreError>;

    /// A short name of the backend and where it lives, for logs ("sqlite:./data/spearguard.db").
    fn describe(&self) -> String;
}
