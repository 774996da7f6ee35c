//! The embedded backend: one SQLite file (bundled SQLite, no system library needed).

mod schema;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::{DeliveryRecord, DirectoryEntry, MessageQuery, MessageRecord, Store, StoreError};

/// The SQLite store: one connection behind a mutex (writes are short; WAL lets readers of
/// other processes, such as the CLI, look in while the gateway runs).
pub struct SqliteStore {
    conn: Mutex<Connection>,
    location: String,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let location = path.display().to_string();
        let open_err = |e: rusqlite::Error| StoreError::Open {
            location: location.clone(),
            cause: Box::new(e),
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )
        .map_err(open_err)?;
        SqliteStore::prepare(conn, format!("sqlite:{location}"))
    }

    /// A private in-memory database (tests, `scan` without `--state`).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Open {
            location: ":memory:".into(),
            cause: Box::new(e),
        })?;
        SqliteStore::prepare(conn, "sqlite::memory:".into())
    }

    fn prepare(mut conn: Connection, location: String) -> Result<SqliteStore, StoreError> {
        migrate(&mut conn).map_err(|e| match e {
            StoreError::Query { cause, .. } => StoreError::Open {
                location: location.clone(),
                cause,
            },
            other => other,
        })?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            location,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: SQLite rolls back
        // an unfinished statement, so a poisoned lock is taken over, not propagated.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs the migrations the database has not seen yet.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = i64::try_from(schema::MIGRATIONS.len()).unwrap_or(i64::MAX);
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(StoreError::query("read schema version"))?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (version, sql) in (1..)
        .zip(schema::MIGRATIONS)
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn
            .transaction()
            .map_err(StoreError::query("begin migration"))?;
        tx.execute_batch(sql)
            .map_err(StoreError::query("migrate schema"))?;
        tx.pragma_update(None, "user_version", version)
            .map_err(StoreError::query("set schema version"))?;
        tx.commit().map_err(StoreError::query("commit migration"))?;
    }
    Ok(())
}

const MESSAGE_COLUMNS: &str = "queue_id, received_at, front, direction, peer_ip, helo, mail_from, \
     rcpt_to, header_from, subject, message_id, verdict, score, signals, action, scan_micros";

impl Store for SqliteStore {
    fn record_message(&self, m: &MessageRecord) -> Result<(), StoreError> {
        let rcpt = serde_json::to_string(&m.rcpt_to).unwrap_or_else(|_| "[]".into());
        let signals = m.signals.to_string();
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
            ))
            .map_err(StoreError::query("record message"))?;
        stmt.execute(params![
            m.queue_id,
            m.received_at,
            m.front,
            m.direction,
            m.peer_ip,
            m.helo,
            m.mail_from,
            rcpt,
            m.header_from,
            m.subject,
            m.message_id,
            m.verdict,
            m.score,
            signals,
            m.action,
            m.scan_micros,
        ])
        .map_err(StoreError::query("record message"))?;
        Ok(())
    }

    fn record_delivery(&self, d: &DeliveryRecord) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO deliveries (queue_id, recipient, at, outcome, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(StoreError::query("record delivery"))?;
        stmt.execute(params![d.queue_id, d.recipient, d.at, d.outcome, d.detail])
            .map_err(StoreError::query("record delivery"))?;
        Ok(())
    }

    fn messages(&self, q: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages \
                 WHERE (?1 IS NULL OR verdict = ?1) AND (?2 IS NULL OR received_at >= ?2) \
                   AND (?3 IS NULL OR queue_id = ?3) \
                 ORDER BY id DESC LIMIT ?4"
            ))
            .map_err(StoreError::query("list messages"))?;
        let rows = stmt
            .query_map(params![q.verdict, q.since, q.queue_id, q.limit], |r| {
                let rcpt: String = r.get(7)?;
                let signals: String = r.get(13)?;
                Ok(MessageRecord {
                    queue_id: r.get(0)?,
                    received_at: r.get(1)?,
                    front: r.get(2)?,
                    direction: r.get(3)?,
                    peer_ip: r.get(4)?,
                    helo: r.get(5)?,
                    mail_from: r.get(6)?,
                    rcpt_to: serde_json::from_str(&rcpt).unwrap_or_default(),
                    header_from: r.get(8)?,
                    subject: r.get(9)?,
                    message_id: r.get(10)?,
                    verdict: r.get(11)?,
                    score: r.get(12)?,
                    signals: serde_json::from_str(&signals).unwrap_or_default(),
                    action: r.get(14)?,
                    scan_micros: r.get(15)?,
                })
            })
            .map_err(StoreError::query("list messages"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::query("list messages"))
    }

    fn deliveries(&self, queue_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT queue_id, recipient, at, outcome, detail FROM deliveries \
                 WHERE queue_id = ?1 ORDER BY id",
            )
            .map_err(StoreError::query("list deliveries"))?;
        let rows = stmt
            .query_map([queue_id], |r| {
                Ok(DeliveryRecord {
                    queue_id: r.get(0)?,
                    recipient: r.get(1)?,
                    at: r.get(2)?,
                    outcome: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .map_err(StoreError::query("list deliveries"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::query("list deliveries"))
    }

    fn replace_directory(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction()
            .map_err(StoreError::query("replace directory"))?;
        tx.execute("DELETE FROM directory", [])
            .map_err(StoreError::query("replace directory"))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO directory (address, name, department, published) \
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(StoreError::query("replace directory"))?;
            for e in entries {
                stmt.execute(params![e.address, e.name, e.department, e.published])
                    .map_err(StoreError::query("replace directory"))?;
            }
        }
        tx.commit().map_err(StoreError::query("replace directory"))
    }

    fn put_state(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO state (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(StoreError::query("store state"))
    }

    fn state(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn()
            .query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(StoreError::query("read state"))
    }

    fn directory(&self) -> Result<Vec<DirectoryEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT address, name, department, published FROM directory ORDER BY id",
            )
            .map_err(StoreError::query("read directory"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DirectoryEntry {
                    address: r.get(0)?,
                    name: r.get(1)?,
                    department: r.get(2)?,
                    published: r.get(3)?,
                })
            })
            .map_err(StoreError::query("read directory"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::query("read directory"))
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.conn()
            .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
            .optional()
            .map(|_| ())
            .map_err(StoreError::query("ping"))
    }

    fn describe(&self) -> String {
        self.location.clone()
    }
}
