//! spearguard as the milter of a real Postfix: `spearguard serve` and a throwaway Postfix
//! instance (scripts/postfix/start.sh: its own config and queue in a temp dir, smtpd on a
//! free loopback port, `contrib/postfix/main.cf` included with the milter port filled in).
//! Mail goes in through Postfix's smtpd with Python's smtplib. Postfix's own virtual(8)
//! agent delivers `@sink.test` into a Maildir in the temp dir, so what Postfix delivers is
//! checked without another server. Skips without root or /usr/sbin/postfix (CI has both).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Gateway, files_in, fixture, have_python, send, wait_for};

const POSTFIX: &str = "/usr/sbin/postfix";

/// A running test instance of Postfix; stopped when dropped, even if the test fails.
struct Postfix {
    dir: PathBuf,
    smtp: String,
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/postfix")
        .join(name)
}

impl Postfix {
    fn start(dir: &Path, milter: &str) -> Postfix {
        let out = Command::new("bash")
            .arg(script("start.sh"))
            .arg(dir)
            .arg(milter)
            .output()
            .expect("run scripts/postfix/start.sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "postfix did not start: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let smtp = stdout
            .lines()
            .find_map(|l| l.strip_prefix("smtp "))
            .expect("start.sh prints the smtp address")
            .to_string();
        Postfix {
            dir: dir.to_path_buf(),
            smtp,
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("etc")
    }

    fn inbox(&self) -> PathBuf {
        self.dir.join("mail/inbox/new")
    }

    /// Postfix's log, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postfix.log")).unwrap_or_default()
    }

    /// Queue ids in the hold queue, from `postqueue -j`.
    fn held(&self) -> Vec<String> {
        let out = Command::new("/usr/sbin/postqueue")
            .arg("-c")
            .arg(self.config())
            .arg("-j")
            .output()
            .expect("postqueue -j");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["queue_name"] == "hold")
            .filter_map(|m| m["queue_id"].as_str().map(str::to_string))
            .collect()
    }

    /// Headers and body of a queued message (`postcat -hbq`).
    fn queued_message(&self, id: &str) -> String {
        let out = Command::new("/usr/sbin/postcat")
            .arg("-c")
            .arg(self.config())
            .args(["-hbq", id])
            .output()
            .expect("postcat");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script("stop.sh"))
            .arg(&self.dir)
            .status();
    }
}

fn can_run() -> bool {
    if !Path::new(POSTFIX).exists() {
        eprintln!("skipping: {POSTFIX} not installed (scripts/setup.sh installs postfix)");
        return false;
    }
    let uid = Command::new("id").arg("-u").output().map(|o| o.stdout);
    if !uid.is_ok_and(|uid| uid == b"0\n") {
        eprintln!("skipping: the Postfix test must run as root (Postfix drops privileges itself)");
        return false;
    }
    if !have_python() {
        return false;
    }
    true
}

/// One SMTP session that starts a transaction and resets it (Postfix then sends the milter
/// SMFIC_ABORT), then sends each file in turn on the same connection; `sent` or the error.
fn send_session(addr: &str, to: &str, files: &[&Path]) -> String {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let script = r#"
import smtplib, sys
host, port, rcpt = sys.argv[1:4]
try:
    with smtplib.SMTP(host, int(port), timeout=30) as s:
        s.ehlo()
        s.mail("abandoned@example.net")
        s.rset()
        for path in sys.argv[4:]:
            s.sendmail("a@example.org", [rcpt], open(path, "rb").read())
    print("sent")
except smtplib.SMTPException as e:
    print("error", e)
"#;
    let out = Command::new("python3")
        .args(["-c", script, host, port, to])
        .args(files)
        .output()
        .expect("run python3");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Every setting line of contrib/postfix/main.cf, with the milter address given.
fn contrib_lines(milter: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/postfix/main.cf");
    std::fs::read_to_string(path)
        .expect("read contrib/postfix/main.cf")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.replace("127.0.0.1:11339", milter))
        .collect()
}

#[test]
fn postfix_delivers_clean_mail_with_verdict_headers_and_holds_phishing() {
    if !can_run() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let gateway = Gateway::start(&data, &[]);
    let milter = gateway.addr("milter").to_string();
    let postfix = Postfix::start(&tmp.path().join("postfix"), &milter);

    // The instance runs on the operator's lines, not a copy of them.
    let main_cf = std::fs::read_to_string(postfix.config().join("main.cf")).expect("main.cf");
    let lines = contrib_lines(&milter);
    assert!(lines.contains(&format!("smtpd_milters = inet:{milter}")));
    assert!(lines.contains(&"milter_default_action = tempfail".to_string()));
    for line in &lines {
        assert!(main_cf.lines().any(|l| l == line), "main.cf lacks {line:?}");
    }

    // Clean: delivered by Postfix, with spearguard's headers.
    let sent = send(
        &postfix.smtp,
        "sender@example.net",
        "alice@sink.test",
        &fixture("plain-colleague.eml"),
    );
    assert_eq!(sent, "sent", "{}", postfix.log());
    wait_for("Postfix to deliver the clean message", || {
        files_in(&postfix.inbox()).len() == 1
    });
    let delivered = std::fs::read_to_string(&files_in(&postfix.inbox())[0]).expect("read");
    assert!(delivered.contains("Message-ID: <minutes-1@example.org>"));
    assert!(
        delivered.contains("\nX-Spearguard-Verdict: deliver\n"),
        "{delivered}"
    );
    assert!(delivered.contains("\nX-Spearguard-Score: "));
    assert!(
        delivered.contains("\nX-Spearguard-Signals: none\n"),
        "{delivered}"
    );
    // Our sender-authentication verdict, at the top (the peer is on loopback: no SPF).
    let ar = delivered
        .find("Authentication-Results: localhost;")
        .expect("our Authentication-Results");
    assert!(
        ar < delivered.find("Message-ID:").expect("Message-ID"),
        "{delivered}"
    );
    assert!(delivered[ar..].contains("dmarc="), "{delivered}");

    // Phishing: accepted by Postfix, then put on hold with the verdict, never delivered.
    let sent = send(
        &postfix.smtp,
        "sender@example.net",
        "bob@sink.test",
        &fixture("phish-credential-lure.eml"),
    );
    assert_eq!(sent, "sent", "{}", postfix.log());
    wait_for("Postfix to hold the phishing message", || {
        postfix.held().len() == 1
    });
    let held = postfix.queued_message(&postfix.held()[0]);
    assert!(
        held.contains("Message-ID: <lure-1@mail.gmail.com>"),
        "{held}"
    );
    assert!(held.contains("X-Spearguard-Verdict: quarantine"), "{held}");
    assert!(held.contains("LINK_IP_HOST(+3.0)"), "{held}");
    assert!(postfix.log().contains("milter triggers HOLD action"));
    assert_eq!(
        files_in(&postfix.inbox()).len(),
        1,
        "phishing not delivered"
    );

    // A sender's forged verdict headers are replaced by ours; on the same SMTP connection,
    // after an abandoned transaction, a clean and a suspicious message are judged too.
    let forged = tmp.path().join("forged.eml");
    std::fs::write(
        &forged,
        "Authentication-Results: localhost; dkim=pass header.d=example.org\r\n\
         From: a@example.org\r\nX-Spearguard-Verdict: deliver\r\nSubject: forged\r\n\
         x-spearguard-score: -50\r\n\r\nhello\r\n",
    )
    .expect("write");
    let clean = fixture("plain-colleague.eml");
    let suspicious = fixture("multipart-html-attachment.eml");
    let session = [forged.as_path(), &clean, &suspicious];
    let sent = send_session(&postfix.smtp, "carol@sink.test", &session);
    assert_eq!(sent, "sent", "{}", postfix.log());
    wait_for("Postfix to deliver the messages of the session", || {
        files_in(&postfix.inbox()).len() == 4
    });
    let forged = files_in(&postfix.inbox())
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .find(|m| m.contains("Subject: forged"))
        .expect("forged message delivered");
    let lower = forged.to_ascii_lowercase();
    assert_eq!(
        lower.matches("x-spearguard-verdict:").count(),
        1,
        "{forged}"
    );
    assert_eq!(lower.matches("x-spearguard-score:").count(), 1, "{forged}");
    assert!(!forged.contains("-50"), "{forged}");
    assert_eq!(
        forged.matches("Authentication-Results: localhost;").count(),
        1,
        "the forged claim of our authserv-id is gone, ours is there: {forged}"
    );
    assert!(
        !forged.contains("dkim=pass header.d=example.org"),
        "{forged}"
    );
    let with_verdict = files_in(&postfix.inbox())
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .filter(|m| m.contains("\nX-Spearguard-Verdict: deliver\n"))
        .count();
    assert_eq!(with_verdict, 3, "every clean message was judged");
    let tagged = files_in(&postfix.inbox())
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .find(|m| m.contains("<fixture-1@example.net>"))
        .expect("tagged message delivered");
    assert!(tagged.contains("\nX-Spearguard-Verdict: tag\n"), "{tagged}");
    assert!(
        tagged.contains(
            "\nSubject: [SUSPICIOUS] =?ISO-2022-JP?B?GyRCJCpDTiRpJDsbKEI=?= account notice\n"
        ),
        "{tagged}"
    );
    assert_eq!(tagged.matches("\nSubject:").count(), 1, "{tagged}");

    // Postfix had nothing to complain about in the milter conversation.
    let log = postfix.log();
    let complaints: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("warning:") && l.to_ascii_lowercase().contains("milter"))
        .collect();
    assert!(complaints.is_empty(), "{complaints:#?}");

    // Milter mode spools nothing: Postfix owns the messages.
    assert!(files_in(&data.join("spool/queue")).is_empty());
    assert!(files_in(&data.join("spool/quarantine")).is_empty());
    // …but logs each decision, the held one included.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spearguard"))
        .env_remove("SPEARGUARD_CONFIG")
        .args(["messages", "--json", "--data-dir"])
        .arg(&data)
        .output()
        .expect("spearguard messages");
    let log_rows = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        log_rows.lines().all(|l| l.contains(r#""front":"milter""#)),
        "{log_rows}"
    );
    assert!(log_rows.contains(r#""action":"held""#), "{log_rows}");
    assert!(log_rows.contains(r#""action":"accepted""#), "{log_rows}");

    // With spearguard gone, `milter_default_action = tempfail` keeps mail out unscanned.
    assert_eq!(gateway.stop(), Some(0));
    let sent = send(
        &postfix.smtp,
        "sender@example.net",
        "alice@sink.test",
        &fixture("plain-colleague.eml"),
    );
    assert!(sent.starts_with("refused 4"), "{sent}: {}", postfix.log());
    assert_eq!(files_in(&postfix.inbox()).len(), 4);
}
