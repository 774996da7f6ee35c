//! Delivery status notifications, built then parsed back with mail-parser: the structure
//! RFC 3464 asks for, field by field.

use mail_parser::{MessageParser, MimeHeaders};
use sg_deliver::Failure;
use sg_deliver::dsn::{self, Report};

const ORIGINAL: &[u8] = b"Received: from client.example.org by gateway.example\r\n\
X-Spearguard-Verdict: deliver\r\n\
X-Spearguard-Signals: LINK_SHORTENER,\r\n\
\x20FROM_FREEMAIL\r\n\
X-Spearguard-Queue-Id: 0000018f0000000a1b2c\r\n\
From: alice@example.org\r\n\
To: gone@example.net\r\n\
Subject: quarterly figures\r\n\
\r\n\
The body, which a DSN does not return.\r\n";

fn failed() -> Vec<(String, Failure)> {
    vec![
        (
            "gone@example.net".to_string(),
            Failure::from_reply(550, Some([5, 1, 1]), "no such user"),
        ),
        (
            "late@example.net".to_string(),
            Failure::local(
                true,
                "4.4.7",
                "queue lifetime of 5 days expired: connection refused",
            ),
        ),
    ]
}

fn report<'a>(failed: &'a [(String, Failure)], sender: &'a str) -> Report<'a> {
    Report {
        reporting_mta: "gateway.example",
        queue_id: "0000018f0000000a1b2c",
        arrival_date: "Thu, 01 Jan 2026 00:00:00 +0000",
        date: "Fri, 02 Jan 2026 00:00:00 +0000",
        sender,
        remote_mta: Some("relay.example.net"),
        failed,
        original: ORIGINAL,
    }
}

/// The `Name: value` fields of one delivery-status block.
fn fields(block: &str) -> Vec<(String, String)> {
    block
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect()
}

#[test]
fn dsn_is_a_multipart_report_with_the_three_parts_of_rfc_3464() {
    let failed = failed();
    let bytes = dsn::build(&report(&failed, "alice@example.org"));
    let msg = MessageParser::default().parse(&bytes).expect("DSN parses");

    let ct = msg.content_type().expect("content type");
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("report")));
    assert_eq!(ct.attribute("report-type"), Some("delivery-status"));
    assert_eq!(msg.subject(), Some("Undelivered Mail Returned to Sender"));
    let from = msg.from().and_then(|a| a.first()).and_then(|a| a.address());
    assert_eq!(from, Some("MAILER-DAEMON@gateway.example"));
    let to = msg.to().and_then(|a| a.first()).and_then(|a| a.address());
    assert_eq!(to, Some("alice@example.org"));
    assert_eq!(
        msg.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-replied")
    );

    let parts = msg.parts[0].sub_parts().expect("multipart").to_vec();
    assert_eq!(parts.len(), 3);
    let part = |i: usize| &msg.parts[parts[i] as usize];
    let kind = |i: usize| {
        let ct = part(i).content_type().expect("part content type");
        format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""))
    };
    assert_eq!(kind(0), "text/plain");
    assert_eq!(kind(1), "message/delivery-status");
    assert_eq!(kind(2), "text/rfc822-headers");

    let text = String::from_utf8_lossy(part(0).contents()).into_owned();
    assert!(
        text.contains("<gone@example.net>: smtp; 550 5.1.1 no such user"),
        "{text}"
    );

    let status = String::from_utf8_lossy(part(1).contents()).into_owned();
    let blocks: Vec<&str> = status
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .collect();
    assert_eq!(
        blocks.len(),
        3,
        "per-message fields, then one block per recipient: {status}"
    );
    let per_message = fields(blocks[0]);
    assert!(per_message.contains(&("Reporting-MTA".into(), "dns; gateway.example".into())));
    assert!(per_message.iter().any(|(k, _)| k == "Arrival-Date"));
    let gone = fields(blocks[1]);
    for expected in [
        ("Final-Recipient", "rfc822; gone@example.net"),
        ("Action", "failed"),
        ("Status", "5.1.1"),
        ("Remote-MTA", "dns; relay.example.net"),
        ("Diagnostic-Code", "smtp; 550 5.1.1 no such user"),
    ] {
        assert!(
            gone.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} missing in {gone:?}"
        );
    }
    let late = fields(blocks[2]);
    assert!(late.contains(&("Status".into(), "4.4.7".into())));
    assert!(late.contains(&("Action".into(), "failed".into())));

    let headers = String::from_utf8_lossy(part(2).contents()).into_owned();
    assert!(headers.contains("Subject: quarterly figures"), "{headers}");
    assert!(headers.contains("X-Spearguard-Queue-Id: 0000018f0000000a1b2c"));
    assert!(
        !headers.contains("X-Spearguard-Verdict"),
        "no verdict to the sender"
    );
    assert!(
        !headers.contains("FROM_FREEMAIL"),
        "folded verdict lines are dropped too"
    );
    assert!(
        !headers.contains("does not return"),
        "headers only, no body"
    );
}

#[test]
fn non_ascii_recipient_uses_the_global_delivery_status() {
    let failed = vec![(
        "\u{305f}\u{308d}\u{3046}@example.jp".to_string(),
        Failure::from_reply(550, Some([5, 1, 1]), "no such user"),
    )];
    let bytes = dsn::build(&report(&failed, "alice@example.org"));
    let msg = MessageParser::default().parse(&bytes).expect("DSN parses");
    let parts = msg.parts[0].sub_parts().expect("multipart").to_vec();
    let status = &msg.parts[parts[1] as usize];
    let ct = status.content_type().expect("content type");
    assert_eq!(ct.subtype(), Some("global-delivery-status"));
    let body = String::from_utf8_lossy(status.contents()).into_owned();
    assert!(body.contains("Final-Recipient: utf-8; \u{305f}\u{308d}\u{3046}@example.jp"));
}

#[test]
fn a_boundary_planted_in_the_original_headers_is_not_used() {
    let mut original = b"X-Trap: x\r\n--=_spearguard_dsn_0000018f0000000a1b2c--\r\n".to_vec();
    original.extend_from_slice(ORIGINAL);
    let failed = failed();
    let r = Report {
        original: &original,
        ..report(&failed, "alice@example.org")
    };
    let bytes = dsn::build(&r);
    let msg = MessageParser::default().parse(&bytes).expect("parses");
    let parts = msg.parts[0].sub_parts().expect("multipart").to_vec();
    assert_eq!(parts.len(), 3);
    let headers = String::from_utf8_lossy(msg.parts[parts[2] as usize].contents()).into_owned();
    assert!(headers.contains("X-Trap: x"), "{headers}");
}
