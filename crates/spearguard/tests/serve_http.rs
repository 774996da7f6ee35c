//! The HTTP API of the real `spearguard serve`: a phishing message sent over SMTP is held,
//! listed and released through `/api/v1` with the token generated into `DATA/api-token`,
//! lands in the recipient's Maildir, and `/metrics` counted it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;

use common::{Gateway, files_in, fixture, have_python, http, send, wait_for};

/// The value of one sample line (`name value`) in a metrics page.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

fn metrics(base: &str) -> String {
    let (status, body) = http("GET", &format!("{base}/metrics"), None);
    assert_eq!(status, 200);
    String::from_utf8(body).expect("UTF-8 metrics")
}

#[test]
fn quarantined_phish_is_listed_released_and_delivered_through_the_api() {
    if !have_python() {
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let gateway = Gateway::start(data.path(), &[]);
    let base = format!("http://{}", gateway.addr("HTTP"));
    let token_file = data.path().join("api-token");
    let token = std::fs::read_to_string(&token_file).expect("DATA/api-token");
    let token = token.trim().to_string();
    assert_eq!(token.len(), 64, "a generated token");
    let mode = std::fs::metadata(&token_file)
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the token file is private");

    assert_eq!(
        http("GET", &format!("{base}/healthz"), None),
        (200, b"ok\n".to_vec())
    );

    // An open SMTP session shows in the gauge, and leaves it when it ends.
    let smtp = TcpStream::connect(gateway.addr("SMTP")).expect("connect SMTP");
    let mut greeting = String::new();
    BufReader::new(&smtp)
        .read_line(&mut greeting)
        .expect("greeting");
    assert!(greeting.starts_with("220"), "{greeting}");
    assert_eq!(
        sample(&metrics(&base), "spearguard_smtp_sessions_active"),
        Some(1.0)
    );
    (&smtp).write_all(b"QUIT\r\n").expect("QUIT");
    drop(smtp);
    wait_for("the session gauge to drop", || {
        sample(&metrics(&base), "spearguard_smtp_sessions_active") == Some(0.0)
    });

    let sent = send(
        gateway.addr("SMTP"),
        "examplebank.security@gmail.com",
        "victim@example.org",
        &fixture("phish-credential-lure.eml"),
    );
    assert_eq!(sent, "sent");
    let held = data.path().join("spool/quarantine");
    wait_for("the lure in quarantine", || files_in(&held).len() == 1);

    let list_url = format!("{base}/api/v1/quarantine");
    assert_eq!(http("GET", &list_url, None).0, 401);
    assert_eq!(http("GET", &list_url, Some("wrong")).0, 401);
    let (status, body) = http("GET", &list_url, Some(&token));
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_slice(&body).expect("JSON list");
    let items = list.as_array().expect("array");
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["verdict"], "quarantine");
    assert_eq!(items[0]["mail_from"], "examplebank.security@gmail.com");
    assert_eq!(
        items[0]["rcpt_to"],
        serde_json::json!(["victim@example.org"])
    );
    assert!(items[0]["score"].as_f64().expect("score") > 0.0);
    assert!(!items[0]["signals"].as_array().expect("signals").is_empty());
    let id = items[0]["id"].as_str().expect("id").to_string();

    let metrics_before = metrics(&base);
    assert_eq!(
        sample(
            &metrics_before,
            "spearguard_messages_total{verdict=\"quarantine\"}"
        ),
        Some(1.0),
        "{metrics_before}"
    );
    assert_eq!(
        sample(&metrics_before, "spearguard_quarantine_size"),
        Some(1.0)
    );
    assert_eq!(
        sample(&metrics_before, "spearguard_scan_seconds_count"),
        Some(1.0)
    );

    let release = format!("{base}/api/v1/quarantine/{id}/release");
    assert_eq!(
        http("POST", &release, None).0,
        401,
        "no release without the token"
    );
    assert_eq!(http("POST", &release, Some(&token)).0, 200);
    let inbox = data.path().join("mailboxes/victim@example.org/new");
    wait_for("the released message in the Maildir", || {
        files_in(&inbox).len() == 1
    });
    let delivered = std::fs::read_to_string(&files_in(&inbox)[0]).expect("read delivered");
    assert!(
        delivered.contains(&format!("X-Spearguard-Queue-Id: {id}")),
        "{delivered}"
    );
    assert_eq!(
        http("POST", &release, Some(&token)).0,
        404,
        "released once only"
    );

    let after = metrics(&base);
    assert_eq!(
        sample(&after, "spearguard_quarantine_size"),
        Some(0.0),
        "{after}"
    );
    assert_eq!(
        sample(&after, "spearguard_delivery_attempts_total"),
        Some(1.0),
        "{after}"
    );
    assert_eq!(
        sample(&after, "spearguard_delivery_failures_total"),
        Some(0.0),
        "{after}"
    );
    assert_eq!(gateway.stop(), Some(0));

    // The next start reuses the token.
    let again = Gateway::start(data.path(), &[]);
    let base = format!("http://{}", again.addr("HTTP"));
    let reread = std::fs::read_to_string(&token_file).expect("DATA/api-token");
    assert_eq!(reread.trim(), token);
    assert_eq!(
        http("GET", &format!("{base}/api/v1/quarantine"), Some(&token)),
        (200, b"[]".to_vec())
    );
    assert_eq!(again.stop(), Some(0));
}
