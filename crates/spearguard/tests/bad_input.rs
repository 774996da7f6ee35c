//! Bad input against the real `spearguard serve` (issue 4): malformed commands, bare LF,
//! 10 MB lines, recipient floods and oversized messages. Each gets a clear SMTP reply or a
//! closed connection, and a normal client sending a clean message at the same time and
//! afterwards still gets its 250 and its delivery. Slow and idle clients: `slow_clients.rs`.

mod common;

use std::io::ErrorKind;
use std::path::Path;

use common::client::{Client, clean_message, send_clean};
use common::{delivered_count, start_with_config, wait_for};
use sg_testkit::Rng;

/// Small limits so that floods and oversized messages are cheap to provoke.
const CONFIG: &str = "[smtp]\nmax_recipients = 5\nmax_message_size = 1000000\n\
                      [smtp_server]\ncommand_timeout = 20\ndata_timeout = 20\n";
const TEN_MB: usize = 10 * 1024 * 1024;

/// A normal client gets its clean message accepted and delivered, once.
fn still_serves(addr: &str, data: &Path, token: &str) {
    let reply = send_clean(addr, "ok@example.org", token).expect("clean client");
    assert_eq!(reply.code, 250, "{reply:?}");
    wait_for("delivery of the clean message", || {
        delivered_count(data, "ok@example.org", token) == 1
    });
}

fn greeted_ehlo(addr: &str) -> Client {
    let mut c = Client::greeted(addr).expect("connect");
    assert_eq!(c.cmd("EHLO bad.example.net").expect("EHLO").code, 250);
    c
}

#[test]
fn garbage_nul_and_unknown_verbs_get_500_then_421_after_too_many() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    let mut c = Client::greeted(&addr).expect("connect");
    let mut rng = Rng::new(4);
    let mut garbage: Vec<u8> = rng.bytes(300).into_iter().filter(|&b| b != b'\n').collect();
    garbage.extend_from_slice(b"\r\n");
    c.send_raw(&garbage).expect("write");
    assert_eq!(c.reply().expect("reply to garbage").code, 500);
    for (line, want) in [
        ("NOOP\0", "500 5.5.2"),
        ("EHLO a\0b.example.net", "500 5.5.2"),
        ("XYZZY plugh", "500 5.5.1"),
        ("\u{7f}\u{1b}[2J", "500"),
        ("MAIL FROM:<a@example.org>", "503 5.5.1"),
    ] {
        let reply = c.cmd(line).expect("reply");
        assert!(reply.text.starts_with(want), "{line:?} got {reply:?}");
    }
    // The bad client is still connected: others are served meanwhile.
    still_serves(&addr, &data, "garbage-during");
    // Keep going: after max_errors (20) negative replies the session says 421 and closes.
    let mut last = None;
    for _ in 0..30 {
        match c.cmd("\u{1}\u{2}\u{3}") {
            Ok(reply) => last = Some(reply),
            Err(_) => break,
        }
    }
    let last = last.expect("some replies");
    assert!(last.text.starts_with("421 4.7.0"), "{last:?}");
    assert!(c.closed(), "the session closes after 421");
    still_serves(&addr, &data, "garbage-after");
    assert_eq!(gateway.stop(), Some(0));
}

#[test]
fn bare_lf_commands_are_read_and_bare_lf_in_data_is_refused_without_smuggling() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    let mut c = Client::greeted(&addr).expect("connect");
    for (line, code) in [
        ("EHLO lf.example.net\n", 250),
        ("MAIL FROM:<a@example.org>\n", 250),
        ("RCPT TO:<ok@example.org>\n", 250),
        ("DATA\n", 354),
    ] {
        c.send_raw(line.as_bytes()).expect("write");
        assert_eq!(c.reply().expect("reply").code, code, "{line:?}");
    }
    // `\n.\n` must not end DATA (SMTP smuggling): the "second message" stays content.
    c.send_raw(
        b"Subject: lf\r\n\r\nfirst\n.\nMAIL FROM:<evil@example.net>\nRCPT TO:<ok@example.org>\n\
          DATA\nsmuggled-token\n.\n",
    )
    .expect("write");
    still_serves(&addr, &data, "lf-during");
    c.send_raw(b"\r\n.\r\n").expect("write");
    let reply = c.reply().expect("end of data");
    assert!(reply.text.starts_with("550 5.6.0"), "{reply:?}");
    // One reply for the whole block, and the session goes on with a clean message.
    let ok = c
        .send_mail(
            "a@example.org",
            &["ok@example.org"],
            &clean_message("lf-same"),
        )
        .expect("clean message on the same connection");
    assert_eq!(ok.code, 250, "{ok:?}");
    wait_for("delivery", || {
        delivered_count(&data, "ok@example.org", "lf-same") == 1
    });
    assert_eq!(
        delivered_count(&data, "ok@example.org", "smuggled-token"),
        0
    );
    assert_eq!(gateway.stop(), Some(0));
}

#[test]
fn ten_megabyte_command_line_gets_one_500_and_the_session_goes_on() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    let mut c = Client::greeted(&addr).expect("connect");
    let half = vec![b'A'; TEN_MB / 2];
    c.send_raw(&half).expect("first 5 MB");
    still_serves(&addr, &data, "long-command-during");
    c.send_raw(&half).expect("last 5 MB");
    c.send_raw(b"\r\nNOOP\r\n").expect("write");
    let reply = c.reply().expect("reply to the long line");
    assert!(reply.text.starts_with("500 5.5.2"), "{reply:?}");
    assert_eq!(
        c.reply().expect("NOOP").code,
        250,
        "one reply for the long line"
    );
    still_serves(&addr, &data, "long-command-after");
    assert_eq!(gateway.stop(), Some(0));
}

#[test]
fn ten_megabyte_line_in_data_over_the_size_limit_gets_552() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    let mut c = greeted_ehlo(&addr);
    assert_eq!(c.cmd("MAIL FROM:<a@example.org>").expect("MAIL").code, 250);
    assert_eq!(c.cmd("RCPT TO:<big@example.org>").expect("RCPT").code, 250);
    assert_eq!(c.cmd("DATA").expect("DATA").code, 354);
    let half = vec![b'B'; TEN_MB / 2];
    c.send_raw(b"Subject: big\r\n\r\n").expect("write");
    c.send_raw(&half).expect("first 5 MB");
    still_serves(&addr, &data, "long-data-during");
    c.send_raw(&half).expect("last 5 MB");
    c.send_raw(b"\r\n.\r\n").expect("write");
    let reply = c.reply().expect("end of data");
    assert!(reply.text.starts_with("552 5.3.4"), "{reply:?}");
    assert_eq!(
        c.cmd("NOOP").expect("NOOP").code,
        250,
        "the session goes on"
    );
    // Declared too big up front: refused at MAIL.
    let reply = c
        .cmd("MAIL FROM:<a@example.org> SIZE=2000000")
        .expect("MAIL");
    assert!(reply.text.starts_with("552 5.3.4"), "{reply:?}");
    still_serves(&addr, &data, "long-data-after");
    assert!(
        !data.join("mailboxes/big@example.org").exists(),
        "nothing delivered"
    );
    assert_eq!(gateway.stop(), Some(0));
}

#[test]
fn recipient_flood_gets_452_then_421_and_the_first_five_are_delivered() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    // Over the limit by a little: 452 for the extra ones, the message goes to the first 5.
    let mut c = greeted_ehlo(&addr);
    assert_eq!(c.cmd("MAIL FROM:<a@example.org>").expect("MAIL").code, 250);
    let codes: Vec<u16> = (0..8)
        .map(|i| {
            c.cmd(&format!("RCPT TO:<f{i}@example.org>"))
                .expect("RCPT")
                .code
        })
        .collect();
    assert_eq!(codes, [250, 250, 250, 250, 250, 452, 452, 452]);
    assert_eq!(c.cmd("DATA").expect("DATA").code, 354);
    c.send_raw(&common::client::data_block(&clean_message("flood-five")))
        .expect("write");
    assert_eq!(c.reply().expect("end of data").code, 250);
    for i in 0..8 {
        let rcpt = format!("f{i}@example.org");
        let want = usize::from(i < 5);
        wait_for("delivery", || {
            delivered_count(&data, &rcpt, "flood-five") == want
        });
    }
    // A real flood: the extra recipients become errors, and the session is cut with 421.
    assert_eq!(c.cmd("MAIL FROM:<a@example.org>").expect("MAIL").code, 250);
    let mut replies = Vec::new();
    for i in 0..1000 {
        match c.cmd(&format!("RCPT TO:<x{i}@example.org>")) {
            Ok(reply) => replies.push(reply),
            Err(_) => break,
        }
        still_serves_once(&addr, &data, i);
    }
    let last = replies.pop().expect("replies");
    assert!(last.text.starts_with("421 4.7.0"), "{last:?}");
    assert!(
        replies.len() < 100,
        "cut off early, not after {}",
        replies.len()
    );
    assert!(replies[..5].iter().all(|r| r.code == 250));
    assert!(replies[5..].iter().all(|r| r.code == 452), "{replies:?}");
    assert!(c.closed());
    still_serves(&addr, &data, "flood-after");
    assert_eq!(gateway.stop(), Some(0));
}

/// In the middle of the flood (once), a normal client is served.
fn still_serves_once(addr: &str, data: &Path, i: usize) {
    if i == 20 {
        still_serves(addr, data, "flood-during");
    }
}

#[test]
fn pipelined_recipient_flood_is_cut_and_the_server_stays_up() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    let mut c = greeted_ehlo(&addr);
    let mut flood = b"MAIL FROM:<a@example.org>\r\n".to_vec();
    for i in 0..20_000 {
        flood.extend_from_slice(format!("RCPT TO:<p{i}@example.org>\r\n").as_bytes());
    }
    // The server stops reading after its 421, so the write may fail half way: fine.
    let _ = c.send_raw(&flood);
    let mut codes = Vec::new();
    let end = loop {
        match c.reply() {
            Ok(reply) => codes.push(reply.code),
            Err(e) => break e.kind(),
        }
    };
    assert!(
        !matches!(end, ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "the server closes the connection ({end:?})"
    );
    assert!(
        codes.len() < 100,
        "cut off early, not after {} replies",
        codes.len()
    );
    assert!(
        codes.iter().skip(6).all(|&c| c == 452 || c == 421),
        "{codes:?}"
    );
    still_serves(&addr, &data, "pipelined-flood-after");
    assert_eq!(gateway.stop(), Some(0));
}
