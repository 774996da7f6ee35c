//! Delivery status notifications (RFC 3464, RFC 3462's multipart/report): the message that
//! tells a sender which recipients did not get their mail and why.
//!
//! A DSN has three parts: a short text for people, a `message/delivery-status` part for
//! programs (`Reporting-MTA`, then per recipient `Final-Recipient`, `Action: failed`,
//! `Status`, `Diagnostic-Code`), and the original headers as `text/rfc822-headers` (not the
//! body: the sender has it, and returning it would make the bounce an amplifier). The
//! gateway's own `X-Spearguard-*` verdict headers are left out of the returned headers, so
//! a bounce never teaches a sender how the message was scored. Addresses that are not ASCII
//! use RFC 6533's `utf-8` address type and `message/global-delivery-status`.
//!
//! Building it is pure; the caller sends it from the null sender `<>` (RFC 5321 §4.5.5)
//! and never bounces a message whose sender was null.

use crate::Failure;

/// Most bytes of original headers returned.
const MAX_HEADERS: usize = 64 * 1024;

/// Everything a DSN says.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// This gateway's host name (`Reporting-MTA`, the From address's domain).
    pub reporting_mta: &'a str,
    /// The failed message's queue id, for the operator.
    pub queue_id: &'a str,
    /// When the failed message arrived (RFC 5322 date).
    pub arrival_date: &'a str,
    /// Now (RFC 5322 date): the DSN's Date and each `Last-Attempt-Date`.
    pub date: &'a str,
    /// The envelope sender of the failed message: the DSN goes to it.
    pub sender: &'a str,
    /// The next hop that gave the diagnostics, if any (`Remote-MTA`).
    pub remote_mta: Option<&'a str>,
    /// The recipients that failed for good, and why.
    pub failed: &'a [(String, Failure)],
    /// The failed message as delivered (only its header section is returned).
    pub original: &'a [u8],
}

/// Builds the whole DSN message (headers and body, CRLF line endings).
pub fn build(r: &Report<'_>) -> Vec<u8> {
    let headers = returned_headers(r.original);
    let global = !r.sender.is_ascii() || r.failed.iter().any(|(rcpt, _)| !rcpt.is_ascii());
    let text = human_text(r);
    let status = delivery_status(r, global);
    let mut boundary = format!("=_spearguard_dsn_{}", r.queue_id);
    while [text.as_bytes(), status.as_bytes(), &headers]
        .iter()
        .any(|part| contains(part, boundary.as_bytes()))
    {
        boundary.push('_');
    }

    let mut out = Vec::with_capacity(text.len() + status.len() + headers.len() + 1024);
    let mut put = |s: &str| out.extend_from_slice(s.as_bytes());
    put(&format!(
        "From: Mail Delivery System <MAILER-DAEMON@{mta}>\r\n\
         To: <{to}>\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Date: {date}\r\n\
         Message-ID: <{id}.dsn@{mta}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status;\r\n\
         \tboundary=\"{boundary}\"\r\n\
         \r\n\
         This is a MIME-encapsulated message.\r\n\r\n",
        mta = r.reporting_mta,
        to = r.sender,
        date = r.date,
        id = r.queue_id,
    ));
    put(&format!(
        "--{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: {}\r\n\r\n{text}\r\n",
        if text.is_ascii() { "7bit" } else { "8bit" }
    ));
    put(&format!(
        "--{boundary}\r\nContent-Type: message/{}delivery-status\r\n\r\n{status}\r\n",
        if global { "global-" } else { "" }
    ));
    put(&format!(
        "--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    ));
    out.extend_from_slice(&headers);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

/// The part for people.
fn human_text(r: &Report<'_>) -> String {
    let mut text = format!(
        "This is the mail system at host {}.\r\n\r\n\
         Your message could not be delivered to one or more recipients.\r\n\
         Its headers are attached below.\r\n\r\n",
        r.reporting_mta
    );
    for (rcpt, failure) in r.failed {
        text.push_str(&format!("<{rcpt}>: {}\r\n", failure.diagnostic));
    }
    text
}

/// The `message/delivery-status` body: per-message fields, then one block per recipient.
fn delivery_status(r: &Report<'_>, global: bool) -> String {
    let mut s = format!(
        "Reporting-MTA: dns; {}\r\nX-Spearguard-Queue-ID: {}\r\nArrival-Date: {}\r\n",
        r.reporting_mta, r.queue_id, r.arrival_date
    );
    let kind = if global { "utf-8" } else { "rfc822" };
    for (rcpt, failure) in r.failed {
        s.push_str(&format!(
            "\r\nFinal-Recipient: {kind}; {rcpt}\r\nAction: failed\r\nStatus: {}\r\n",
            failure.status
        ));
        if let Some(mta) = r.remote_mta {
            s.push_str(&format!("Remote-MTA: dns; {mta}\r\n"));
        }
        s.push_str(&format!(
            "Diagnostic-Code: {}\r\nLast-Attempt-Date: {}\r\n",
            failure.diagnostic, r.date
        ));
    }
    s
}

/// The original header section (up to the first empty line), without our verdict headers,
/// cut at a line boundary after [`MAX_HEADERS`] bytes, with CRLF line endings.
fn returned_headers(original: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut skipping = false;
    for line in original.split_inclusive(|&b| b == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            break;
        }
        let continuation = content.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            skipping = starts_with_ci(content, b"x-spearguard-")
                && !starts_with_ci(content, b"x-spearguard-queue-id:");
        }
        if skipping {
            continue;
        }
        if out.len() + content.len() + 2 > MAX_HEADERS {
            break;
        }
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn starts_with_ci(line: &[u8], prefix: &[u8]) -> bool {
    line.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
