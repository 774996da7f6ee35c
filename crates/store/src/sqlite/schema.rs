//! The SQLite schema, as an ordered list of migrations. Each runs once, in a transaction,
//! and bumps `PRAGMA user_version`; never edit a released step, append a new one.
//! The PostgreSQL backend keeps its own list with the same version numbers.

/// Migrations; index + 1 is the schema version it produces.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the message log and delivery attempts.
    "
    CREATE TABLE messages (
        id           INTEGER PRIMARY KEY,
        queue_id     TEXT,
        received_at  INTEGER NOT NULL,
        front        TEXT NOT NULL,
        direction    TEXT NOT NULL,
        peer_ip      TEXT,
        helo         TEXT,
        mail_from    TEXT,
        rcpt_to      TEXT NOT NULL,
        header_from  TEXT,
        subject      TEXT,
        message_id   TEXT,
        verdict      TEXT NOT NULL,
        score        REAL NOT NULL,
        signals      TEXT NOT NULL,
        action       TEXT NOT NULL,
        scan_micros  INTEGER NOT NULL
    );
    CREATE INDEX messages_received_at ON messages (received_at);
    CREATE INDEX messages_queue_id ON messages (queue_id);
    CREATE TABLE deliveries (
        id         INTEGER PRIMARY KEY,
        queue_id   TEXT NOT NULL,
        recipient  TEXT NOT NULL,
        at         INTEGER NOT NULL,
        outcome    TEXT NOT NULL,
        detail     TEXT NOT NULL
    );
    CREATE INDEX deliveries_queue_id ON deliveries (queue_id);
    ",
    // 2: the staff directory (replaced as a whole by `spearguard directory import`).
    "
    CREATE TABLE directory (
        id          INTEGER PRIMARY KEY,
        address     TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name        TEXT NOT NULL,
        department  TEXT NOT NULL,
        published   INTEGER NOT NULL
    );
    ",
    // 3: opaque state blobs by key (the correlator's snapshot, for `scan --state`).
    "
    CREATE TABLE state (
        key    TEXT PRIMARY KEY,
        value  BLOB NOT NULL
    );
    ",
];
