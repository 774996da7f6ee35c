//! The staff directory table: whole replacement in one transaction, order kept, and the
//! migration that adds it applied to a database made before it existed.

use sg_store::{DirectoryEntry, MessageQuery, MessageRecord, SqliteStore, Store};

fn entry(address: &str, name: &str, published: bool) -> DirectoryEntry {
    DirectoryEntry {
        address: address.into(),
        name: name.into(),
        department: "総務部".into(),
        published,
    }
}

#[test]
fn replace_directory_replaces_everything_and_keeps_order() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert!(store.directory().unwrap().is_empty(), "never imported");
    let first = vec![
        entry("z@pension.example", "Zed", true),
        entry("a@pension.example", "山田 太郎", false),
    ];
    store.replace_directory(&first).unwrap();
    assert_eq!(
        store.directory().unwrap(),
        first,
        "every field, in import order"
    );

    let second = vec![entry("b@pension.example", "B", false)];
    store.replace_directory(&second).unwrap();
    assert_eq!(store.directory().unwrap(), second, "old entries are gone");

    store.replace_directory(&[]).unwrap();
    assert!(store.directory().unwrap().is_empty());
}

#[test]
fn a_failed_replacement_keeps_the_previous_directory() {
    let store = SqliteStore::open_in_memory().unwrap();
    let good = vec![entry("a@pension.example", "A", true)];
    store.replace_directory(&good).unwrap();
    let dup = vec![
        entry("x@pension.example", "X", true),
        entry("X@Pension.example", "X again", false),
    ];
    let err = store.replace_directory(&dup).unwrap_err();
    assert!(err.to_string().contains("replace directory"), "{err}");
    assert_eq!(store.directory().unwrap(), good, "rolled back as a whole");
}

#[test]
fn the_directory_migration_upgrades_an_older_database_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sg.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .record_message(&MessageRecord {
                verdict: "deliver".into(),
                ..MessageRecord::default()
            })
            .unwrap();
    }
    // Turn it back into a schema-1 database: no directory table (nor anything later).
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE directory; DROP TABLE state; PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);

    let store = SqliteStore::open(&path).unwrap();
    store
        .replace_directory(&[entry("a@pension.example", "A", false)])
        .unwrap();
    assert_eq!(store.directory().unwrap().len(), 1);
    assert_eq!(store.messages(&MessageQuery::default()).unwrap().len(), 1);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(version >= 2, "migrated to {version}");
}
