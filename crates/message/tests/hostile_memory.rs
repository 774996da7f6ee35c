//! Peak memory while parsing hostile input stays bounded. Its own test binary (so its own
//! process): it reads the process's peak resident size (VmHWM) around the parses.

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn deep_nesting_and_long_lines_cost_bounded_memory() {
    use sg_message::{Limits, Message};
    let Some(before) = peak_rss_kib() else {
        eprintln!("skipped: /proc/self/status not available");
        return;
    };
    let mut deep = String::from("From: a@example.org\r\nMIME-Version: 1.0\r\n");
    for i in 0..1000 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    deep.push_str("Content-Type: text/html\r\n\r\n");
    for _ in 0..20_000 {
        deep.push_str("<div><a href=\"http://x.example/\">x</a>");
    }
    let _ = Message::parse(deep.as_bytes(), &Limits::default());
    let mut rfc822 = String::new();
    for _ in 0..1000 {
        rfc822.push_str("From: a@example.org\r\nContent-Type: message/rfc822\r\n\r\n");
    }
    let _ = Message::parse(rfc822.as_bytes(), &Limits::default());
    let after = peak_rss_kib().unwrap_or(before);
    let grown_mib = after.saturating_sub(before) / 1024;
    assert!(
        grown_mib < 256,
        "peak resident size grew by {grown_mib} MiB"
    );
}
