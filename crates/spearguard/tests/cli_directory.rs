//! `spearguard directory import|list`, and the directory reaching the sender analyser:
//! through `scan --directory`, `[organisation] directory`, and the stored copy in `serve`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Gateway, files_in, have_python, send, wait_for};

const STAFF_CSV: &str = "\u{feff}address,name,department,published\r\n\
info@pension.example,info,koho,true\r\n\
T.Yamada@pension.example,Yamada Taro,jinji,false\r\n\
h.sato@pension.example,\"Sato, Hanako\",\"Kyufu \"\"B\"\"\",0\r\n\
m.ito@branch.pension.example,伊藤 舞,kiroku,yes\r\n";

/// An outsider writing as a colleague, to that colleague's team.
const IMPERSONATION: &str = "From: Yamada Taro <yamada.taro.private@mail.example.net>\r\n\
To: m.ito@branch.pension.example\r\n\
Subject: urgent: please check the attached list\r\n\
Date: Mon, 18 May 2015 10:00:00 +0900\r\n\
Message-ID: <imp-1@mail.example.net>\r\n\
\r\n\
Please look at this today.\r\n";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spearguard"));
    c.env_remove("SPEARGUARD_CONFIG");
    c
}

fn run(args: &[&str], data: &Path) -> Output {
    bin()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("run spearguard")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.to_str().expect("utf-8 path").to_string()
}

/// The names of the signals `scan --json` reported for its one message.
fn scanned_signals(out: &Output) -> Vec<(String, String)> {
    let line: serde_json::Value = serde_json::from_str(stdout(out).trim()).expect("one JSON line");
    line["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .map(|s| {
            let kind = s["facts"]["kind"].as_str().unwrap_or_default().to_string();
            (s["name"].as_str().unwrap_or_default().to_string(), kind)
        })
        .collect()
}

#[test]
fn import_then_list_round_trips_every_field() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = write(tmp.path(), "staff.csv", STAFF_CSV);
    let data = tmp.path().join("data");

    let out = run(&["directory", "import", &csv, "--json"], &data);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(counts["entries"], 4);
    assert_eq!(counts["published"], 2);
    assert_eq!(counts["undisclosed"], 2);
    assert_eq!(counts["domains"], 2);
    assert_eq!(
        counts["domain_names"],
        serde_json::json!(["branch.pension.example", "pension.example"])
    );

    let out = run(&["directory", "list", "--json"], &data);
    assert!(out.status.success());
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            serde_json::json!({"address": "info@pension.example", "name": "info", "department": "koho", "published": true}),
            serde_json::json!({"address": "t.yamada@pension.example", "name": "Yamada Taro", "department": "jinji", "published": false}),
            serde_json::json!({"address": "h.sato@pension.example", "name": "Sato, Hanako", "department": "Kyufu \"B\"", "published": false}),
            serde_json::json!({"address": "m.ito@branch.pension.example", "name": "伊藤 舞", "department": "kiroku", "published": true}),
        ]
    );
    let text = stdout(&run(&["directory", "list"], &data));
    assert!(
        text.starts_with("info@pension.example\tpublished\tinfo\tkoho\n"),
        "{text}"
    );

    // LDIF replaces the whole directory.
    let ldif = write(
        tmp.path(),
        "staff.ldif",
        "dn: uid=a,dc=pension,dc=example\ncn: A Person\nmail: a@pension.example\nhidden: TRUE\n",
    );
    let out = run(
        &[
            "directory",
            "import",
            &ldif,
            "--published-attribute",
            "hidden",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).starts_with("imported 1 entries: 1 published, 0 undisclosed"),
        "{}",
        stdout(&out)
    );
    let text = stdout(&run(&["directory", "list"], &data));
    assert_eq!(text, "a@pension.example\tpublished\tA Person\t\n");
}

#[test]
fn a_bad_file_exits_2_with_every_bad_line_and_keeps_the_stored_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let good = write(tmp.path(), "staff.csv", STAFF_CSV);
    assert!(run(&["directory", "import", &good], &data).status.success());

    let bad = write(
        tmp.path(),
        "bad.csv",
        "address,name,department,published\n\
         a@pension.example,A,x,true\n\
         b@pension.example,B,x,sometimes\n\
         no-at-sign,C,x,true\n\
         A@PENSION.EXAMPLE,A again,x,false\n",
    );
    let out = run(&["directory", "import", &bad], &data);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv: 3 invalid lines"), "{err}");
    assert!(
        err.contains("line 3: published must be true or false"),
        "{err}"
    );
    assert!(
        err.contains("line 4: \"no-at-sign\" is not a mail address"),
        "{err}"
    );
    assert!(
        err.contains("line 5: duplicate address a@pension.example (first at line 2)"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let rows = stdout(&run(&["directory", "list"], &data));
    assert_eq!(
        rows.lines().count(),
        4,
        "the earlier import is untouched: {rows}"
    );

    let out = run(&["directory", "import", "/nonexistent/staff.csv"], &data);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn scan_directory_makes_a_staff_name_from_outside_an_impersonation() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = write(tmp.path(), "staff.csv", STAFF_CSV);
    let msg = write(tmp.path(), "imp.eml", IMPERSONATION);
    let staff = (
        "FROM_DISPLAY_NAME_IMPERSONATION".to_string(),
        "staff".to_string(),
    );

    let without = bin()
        .args(["scan", "--json", "--only", "sender", &msg])
        .output()
        .unwrap();
    assert!(
        !scanned_signals(&without).contains(&staff),
        "{}",
        stdout(&without)
    );

    let with = bin()
        .args([
            "scan",
            "--json",
            "--only",
            "sender",
            "--directory",
            &csv,
            &msg,
        ])
        .output()
        .unwrap();
    assert!(scanned_signals(&with).contains(&staff), "{}", stdout(&with));

    // The same through `[organisation] directory`, and a bad file there is a config error.
    let cfg = write(
        tmp.path(),
        "sg.toml",
        &format!("[organisation]\ndirectory = {csv:?}\n"),
    );
    let out = bin()
        .args(["--config", &cfg, "scan", "--json", "--only", "sender", &msg])
        .output()
        .unwrap();
    assert!(scanned_signals(&out).contains(&staff), "{}", stdout(&out));
    let bad = write(tmp.path(), "bad.csv", "address,name\n");
    let out = bin()
        .args(["scan", "--directory", &bad, &msg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("organisation.directory") && err.contains("line 1:"),
        "{err}"
    );
}

#[test]
fn serve_uses_the_imported_directory() {
    if !have_python() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let csv = write(tmp.path(), "staff.csv", STAFF_CSV);
    assert!(run(&["directory", "import", &csv], &data).status.success());
    let msg = tmp.path().join("imp.eml");
    std::fs::write(&msg, IMPERSONATION).unwrap();

    let gateway = Gateway::start(&data, &["--only", "sender"]);
    let sent = send(
        gateway.addr("SMTP"),
        "yamada.taro.private@mail.example.net",
        "m.ito@branch.pension.example",
        &msg,
    );
    assert_eq!(sent, "sent");
    let inbox = data.join("mailboxes/m.ito@branch.pension.example/new");
    wait_for("delivery to the Maildir", || files_in(&inbox).len() == 1);
    assert_eq!(gateway.stop(), Some(0));

    let out = run(&["messages", "--json"], &data);
    let row: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one row");
    let names: Vec<&str> = row["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(names.contains(&"FROM_DISPLAY_NAME_IMPERSONATION"), "{row}");
}
