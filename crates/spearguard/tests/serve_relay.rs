//! `spearguard serve --relay`: the real binary relays to a programmable SMTP sink (sg-smtp's
//! server on loopback): clean mail arrives with the verdict headers, a tempfailing next hop
//! gets the message after retries exactly once, and a recipient the next hop refuses for
//! good produces a DSN to the sender, relayed the same way.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Gateway, files_in, fixture, have_python, send, wait_for};
use sg_testkit::sink::{BlockingSink, Received, SinkOptions};

/// A config with a fast retry schedule, so retries happen within the test.
fn fast_retries(dir: &Path) -> PathBuf {
    let path = dir.join("spearguard.toml");
    std::fs::write(
        &path,
        "[delivery]\nretry_first = 0.2\nretry_max = 0.5\ncommand_timeout = 10\n",
    )
    .expect("write config");
    path
}

/// Starts the sink and a gateway relaying to it; `None` when python3 (the client) is missing.
fn setup(options: SinkOptions) -> Option<(tempfile::TempDir, BlockingSink, Gateway)> {
    if !have_python() {
        return None;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let sink = BlockingSink::start(options);
    let config = fast_retries(data.path());
    let relay = sink.addr().to_string();
    let gateway = Gateway::start(
        &data.path().join("data"),
        &[
            "--relay",
            &relay,
            "--config",
            config.to_str().expect("utf-8 path"),
        ],
    );
    Some((data, sink, gateway))
}

const LIMIT: Duration = Duration::from_secs(20);

fn queue_is_empty(data: &Path) -> bool {
    files_in(&data.join("data/spool/queue")).is_empty()
}

#[test]
fn clean_mail_is_relayed_with_the_verdict_headers() {
    let Some((data, sink, gateway)) = setup(SinkOptions::default()) else {
        return;
    };
    let sent = send(
        gateway.addr("SMTP"),
        "hanako.sato@example.org",
        "taro.yamada@example.org",
        &fixture("plain-colleague.eml"),
    );
    assert_eq!(sent, "sent");
    sink.wait_for("the relayed message", LIMIT, |m| m.len() == 1);
    let got = &sink.messages()[0];
    assert_eq!(got.envelope.mail_from, "hanako.sato@example.org");
    assert_eq!(got.envelope.rcpt_to, ["taro.yamada@example.org"]);
    let text = got.text();
    assert!(text.starts_with("X-Spearguard-Queue-Id: "), "{text}");
    assert!(text.contains("X-Spearguard-Verdict: deliver"), "{text}");
    assert!(text.contains("X-Spearguard-Score: "), "{text}");
    assert!(text.contains("Minutes of Tuesday"), "{text}");
    wait_for("the queue to empty", || queue_is_empty(data.path()));
    assert!(
        files_in(&data.path().join("data/mailboxes")).is_empty(),
        "relayed, not delivered locally"
    );
    assert_eq!(gateway.stop(), Some(0));
}

#[test]
fn tempfailing_next_hop_gets_the_message_after_retries_exactly_once() {
    let Some((data, sink, gateway)) = setup(SinkOptions {
        tempfail_first: 2,
        ..SinkOptions::default()
    }) else {
        return;
    };
    let sent = send(
        gateway.addr("SMTP"),
        "hanako.sato@example.org",
        "taro.yamada@example.org",
        &fixture("plain-colleague.eml"),
    );
    assert_eq!(sent, "sent");
    sink.wait_for("delivery after two 451s", LIMIT, |m| m.len() == 1);
    wait_for("the queue to empty", || queue_is_empty(data.path()));
    assert_eq!(gateway.stop(), Some(0));
    assert_eq!(sink.attempts(), 3, "two tempfails, then the delivery");
    let got = sink.messages();
    assert_eq!(got.len(), 1, "delivered exactly once");
    assert!(got[0].text().contains("Minutes of Tuesday"));
}

fn is_dsn(m: &Received) -> bool {
    m.envelope.mail_from.is_empty()
}

#[test]
fn recipient_refused_for_good_bounces_to_the_sender_through_the_relay() {
    let Some((data, sink, gateway)) = setup(SinkOptions {
        reject_recipients: vec!["nobody@example.net".into()],
        ..SinkOptions::default()
    }) else {
        return;
    };
    let sent = send(
        gateway.addr("SMTP"),
        "hanako.sato@example.org",
        "nobody@example.net",
        &fixture("plain-colleague.eml"),
    );
    assert_eq!(sent, "sent");
    sink.wait_for("the DSN", LIMIT, |m| m.iter().any(is_dsn));
    wait_for("the queue to empty", || queue_is_empty(data.path()));
    assert_eq!(gateway.stop(), Some(0));

    let got = sink.messages();
    assert_eq!(got.len(), 1, "only the DSN reached the sink: {got:?}");
    let dsn = &got[0];
    assert_eq!(dsn.envelope.mail_from, "", "sent from the null sender");
    assert_eq!(dsn.envelope.rcpt_to, ["hanako.sato@example.org"]);
    let text = dsn.text();
    for expected in [
        "Content-Type: multipart/report; report-type=delivery-status;",
        "Content-Type: message/delivery-status",
        "Final-Recipient: rfc822; nobody@example.net",
        "Action: failed",
        "Status: 5.7.1",
        "Diagnostic-Code: smtp; 550 5.7.1",
        "Content-Type: text/rfc822-headers",
        "Subject: Minutes of Tuesday's meeting",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in\n{text}");
    }
    assert!(
        !text.contains("X-Spearguard-Verdict"),
        "no verdict to the sender"
    );
    assert!(
        !text.contains("Attached below are my notes"),
        "headers only"
    );
}
