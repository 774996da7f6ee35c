//! `spearguard serve` end to end: the real binary on 127.0.0.1:0, a real SMTP client
//! (Python's smtplib), delivery to the local Maildir with verdict headers, quarantine of a
//! phishing message, and a graceful exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/messages")
        .join(name)
}

/// Starts the gateway and returns it with the SMTP address it reports.
fn start(data: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spearguard"))
        .env_remove("SPEARGUARD_CONFIG")
        .args(["serve", "--smtp-listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start spearguard serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve printed its address")
            .expect("read stderr");
        if let Some(rest) = line.split("SMTP listening on ").nth(1) {
            break rest.split(',').next().expect("address").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// Sends a message file with Python's smtplib; returns the SMTP outcome it printed.
fn send(addr: &str, from: &str, to: &str, file: &Path) -> String {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let script = r#"
import smtplib, sys, email, email.policy
host, port, sender, rcpt, path = sys.argv[1:6]
msg = email.message_from_binary_file(open(path, 'rb'), policy=email.policy.SMTP)
try:
    with smtplib.SMTP(host, int(port), timeout=30) as s:
        s.send_message(msg, from_addr=sender, to_addrs=[rcpt])
    print('sent')
except smtplib.SMTPResponseException as e:
    print('refused', e.smtp_code)
except smtplib.SMTPRecipientsRefused as e:
    print('refused', list(e.recipients.values())[0][0])
"#;
    let out = Command::new("python3")
        .args(["-c", script, host, port, from, to])
        .arg(file)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_delivers_clean_mail_quarantines_phishing_and_stops_on_sigterm() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 (the SMTP client) not installed; scripts/setup.sh installs it");
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let (mut child, addr) = start(data.path());

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

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let start = Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s.code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
    assert!(
        files_in(&data.path().join("spool/queue")).is_empty(),
        "nothing left undelivered"
    );
}
