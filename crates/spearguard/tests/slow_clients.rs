//! Slow and idle clients against the real `spearguard serve` (issue 4), with 2-second
//! timeouts: a slowloris sending one byte per second is cut by the command deadline, a
//! client that stalls in DATA by the data timeout, and clients beyond `max_sessions` are
//! refused with 421 — while a normal client is still served, during and after.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::client::{Client, send_clean};
use common::{delivered_count, start_with_config, wait_for};

const CONFIG: &str = "[smtp_server]\ncommand_timeout = 2\ndata_timeout = 2\nmax_sessions = 4\n";

/// A normal client gets its clean message accepted and delivered; retries while every
/// session slot is still taken (a closed session frees its slot a moment later).
fn still_serves(addr: &str, data: &Path, token: &str) {
    let start = Instant::now();
    let reply = loop {
        match send_clean(addr, "ok@example.org", token) {
            Ok(reply) => break reply,
            Err(e) => assert!(start.elapsed() < Duration::from_secs(20), "{e}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(reply.code, 250, "{reply:?}");
    wait_for("delivery of the clean message", || {
        delivered_count(data, "ok@example.org", token) == 1
    });
}

#[test]
fn slowloris_one_byte_per_second_is_cut_by_the_command_deadline() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    let mut c = Client::greeted(&addr).expect("connect");
    let mut writer = c.stream.try_clone().expect("clone");
    let trickle = std::thread::spawn(move || {
        for byte in b"EHLO slow.example.org\r\n" {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    still_serves(&addr, &data, "slowloris-during");
    // The line would take 23 s; the 2 s deadline covers the whole line, not each byte.
    let reply = c.reply().expect("a reply before the line is complete");
    assert!(reply.text.starts_with("421 4.4.2"), "{reply:?}");
    assert!(c.closed(), "the connection is closed after 421");
    trickle.join().expect("trickle thread");
    still_serves(&addr, &data, "slowloris-after");
    assert_eq!(gateway.stop(), Some(0));
}

#[test]
fn client_stalling_in_data_is_cut_by_the_data_timeout_and_nothing_is_delivered() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    let mut c = Client::greeted(&addr).expect("connect");
    assert_eq!(c.cmd("EHLO stall.example.net").expect("EHLO").code, 250);
    assert_eq!(c.cmd("MAIL FROM:<a@example.org>").expect("MAIL").code, 250);
    assert_eq!(
        c.cmd("RCPT TO:<stall@example.org>").expect("RCPT").code,
        250
    );
    assert_eq!(c.cmd("DATA").expect("DATA").code, 354);
    c.send_raw(b"Subject: half\r\n\r\nhalf a mess")
        .expect("write");
    still_serves(&addr, &data, "stall-during");
    let reply = c.reply().expect("a reply to the stalled DATA");
    assert!(reply.text.starts_with("421 4.4.2"), "{reply:?}");
    assert!(c.closed(), "the connection is closed after 421");
    still_serves(&addr, &data, "stall-after");
    assert_eq!(gateway.stop(), Some(0));
    assert!(
        !data.join("mailboxes/stall@example.org").exists(),
        "half a message delivered"
    );
}

#[test]
fn clients_beyond_max_sessions_get_421_and_idle_ones_time_out() {
    let root = tempfile::tempdir().expect("temp dir");
    let (gateway, data) = start_with_config(root.path(), CONFIG);
    let addr = gateway.addr("SMTP").to_string();
    let mut idle: Vec<Client> = (0..4)
        .map(|_| Client::greeted(&addr).expect("idle client within max_sessions"))
        .collect();
    let mut extra = Client::connect(&addr, Duration::from_secs(20)).expect("connect");
    let reply = extra.reply().expect("a reply to the fifth client");
    assert!(reply.text.starts_with("421 4.7.0"), "{reply:?}");
    assert!(extra.closed(), "the fifth client is closed");
    // One idle client leaves: its slot serves a normal client while the others idle on.
    drop(idle.pop());
    still_serves(&addr, &data, "busy-during");
    for mut c in idle {
        let reply = c.reply().expect("idle client hears why it is closed");
        assert!(reply.text.starts_with("421 4.4.2"), "{reply:?}");
        assert!(c.closed(), "idle client closed");
    }
    still_serves(&addr, &data, "busy-after");
    assert_eq!(gateway.stop(), Some(0));
}
