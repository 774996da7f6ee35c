//! `spearguard serve` end to end: the real binary on 127.0.0.1:0, a real SMTP client
//! (Python's smtplib), delivery to the local Maildir with verdict headers, quarantine of a
//! phishing message, and a graceful exit on SIGTERM.

mod common;

use common::{Gateway, files_in, fixture, have_python, send, wait_for};

#[test]
fn serve_delivers_clean_mail_quarantines_phishing_and_stops_on_sigterm() {
    if !have_python() {
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let gateway = Gateway::start(data.path(), &[]);
    let addr = gateway.addr("SMTP").to_string();

    let ok = send(
        &addr,
        "hanako.sato@example.org",
        "taro.yamada@example.org",
        &fixture("plain-colleague.eml"),
    );
    assert_eq!(ok, "sent");
    let lure = send(
        &addr,
        "examplebank.security@gmail.com",
        "victim@example.org",
        &fixture("phish-credential-lure.eml"),
    );
    assert_eq!(
        lure, "sent",
        "a quarantined message is accepted (250) and held"
    );

    let inbox = data.path().join("mailboxes/taro.yamada@example.org/new");
    wait_for("delivery to the Maildir", || files_in(&inbox).len() == 1);
    let delivered = std::fs::read_to_string(&files_in(&inbox)[0]).expect("read delivered");
    assert!(
        delivered.contains("X-Spearguard-Verdict: deliver"),
        "{delivered}"
    );
    assert!(delivered.contains("X-Spearguard-Queue-Id: "), "{delivered}");
    assert!(
        delivered.contains("(spearguard) with ESMTP"),
        "a Received trace header: {delivered}"
    );
    assert!(delivered.contains("Minutes of Tuesday"), "{delivered}");

    assert!(files_in(&data.path().join("mailboxes/victim@example.org/new")).is_empty());
    let quarantined = files_in(&data.path().join("spool/quarantine"));
    assert_eq!(quarantined.len(), 1, "the lure is held in quarantine");

    let code = gateway.stop();
    assert_eq!(code, Some(0));

    // The message log has both decisions, newest first.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spearguard"))
        .env_remove("SPEARGUARD_CONFIG")
        .args(["messages", "--json", "--data-dir"])
        .arg(data.path())
        .output()
        .expect("spearguard messages");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["verdict"], "quarantine");
    assert_eq!(rows[0]["action"], "quarantined");
    assert_eq!(rows[0]["mail_from"], "examplebank.security@gmail.com");
    assert!(!rows[0]["signals"].as_array().expect("signals").is_empty());
    assert_eq!(rows[1]["verdict"], "deliver");
    assert_eq!(rows[1]["action"], "queued");
    assert_eq!(
        rows[1]["rcpt_to"],
        serde_json::json!(["taro.yamada@example.org"])
    );
    assert!(
        files_in(&data.path().join("spool/queue")).is_empty(),
        "nothing left undelivered"
    );
}
