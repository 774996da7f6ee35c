//! Every reply the session sends, by name, so a grep for a code finds the one place it is made.
//!
//! A reply is a code (RFC 5321 §4.2), an enhanced status code (RFC 3463, RFC 2034) and a
//! short text. Texts with `{}` are templates: [`Reply::fill`] puts a value in, after making
//! it safe for a reply line (no CR, LF or other control characters, ASCII only, bounded
//! length), so a queue id or an engine's reason can never inject a second reply.
//! The 220 greeting, 354 and the EHLO lines carry no enhanced code (RFC 2034 §3 only
//! asks for them on 2xx/4xx/5xx replies to commands).

use std::borrow::Cow;
use std::fmt;

/// Longest reply line written, CRLF included (RFC 5321 §4.5.3.1.5: 512 octets).
const MAX_REPLY_LINE: usize = 512;

/// Longest value [`Reply::fill`] inserts into a template, in bytes.
const MAX_FILL: usize = 200;

/// One SMTP reply line: code, enhanced status code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    status: &'static str,
    text: Cow<'static, str>,
}

impl Reply {
    /// A reply with a fixed text; `status` is `""` when the reply carries no enhanced code.
    pub const fn new(code: u16, status: &'static str, text: &'static str) -> Reply {
        Reply {
            code,
            status,
            text: Cow::Borrowed(text),
        }
    }

    /// The three-digit reply code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The enhanced status code, e.g. `"5.3.4"`, or `""` when there is none.
    pub fn status(&self) -> &str {
        self.status
    }

    /// The human-readable text after the codes.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether this is a 4xx or 5xx reply.
    pub fn is_negative(&self) -> bool {
        self.code >= 400
    }

    /// Replaces the first `{}` of the text with `value`, made safe for a reply line.
    pub fn fill(&self, value: &str) -> Reply {
        let value = sanitize(value);
        let text = match self.text.split_once("{}") {
            Some((head, tail)) => format!("{head}{value}{tail}"),
            None => format!("{} {value}", self.text),
        };
        Reply {
            code: self.code,
            status: self.status,
            text: Cow::Owned(text),
        }
    }

    /// Appends the reply line, CRLF-terminated and at most 512 bytes, to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(self.code.to_string().as_bytes());
        if !self.status.is_empty() {
            out.push(b' ');
            out.extend_from_slice(self.status.as_bytes());
        }
        if !self.text.is_empty() {
            out.push(b' ');
            out.extend_from_slice(self.text.as_bytes());
        }
        // Texts are ASCII (constants, or filled through `sanitize`), so any cut is on a char.
        out.truncate(start + (out.len() - start).min(MAX_REPLY_LINE - 2));
        out.extend_from_slice(b"\r\n");
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = Vec::new();
        self.write_to(&mut line);
        f.write_str(String::from_utf8_lossy(&line).trim_end())
    }
}

/// Printable ASCII only: control characters become spaces, other characters `?`.
fn sanitize(value: &str) -> String {
    value
        .chars()
        .take(MAX_FILL)
        .map(|c| match c {
            ' '..='~' => c,
            c if c.is_control() => ' ',
            _ => '?',
        })
        .collect()
}

/// Writes the multi-line EHLO reply: the host name, then one capability per line.
pub fn write_ehlo(out: &mut Vec<u8>, hostname: &str, capabilities: &[String]) {
    let mut lines = std::iter::once(hostname).chain(capabilities.iter().map(String::as_str));
    let mut next = lines.next();
    while let Some(line) = next {
        next = lines.next();
        out.extend_from_slice(if next.is_some() { b"250-" } else { b"250 " });
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

// Connection-level replies. `{}` is the server's host name (RFC 5321 §4.2: 220 and 421
// replies start with the domain).

/// The greeting, sent when the connection opens.
pub const GREETING: Reply = Reply::new(220, "", "{} ESMTP ready");
/// Answer to QUIT; the session then closes.
pub const CLOSING: Reply = Reply::new(221, "2.0.0", "bye");
/// The gateway is stopping; sent instead of the next reply, then the session closes.
pub const SHUTTING_DOWN: Reply = Reply::new(421, "4.3.2", "{} service shutting down");
/// The client made too many errors; the session closes.
pub const TOO_MANY_ERRORS: Reply = Reply::new(421, "4.7.0", "{} too many errors, closing");
/// The driver's command or data timer expired; the session closes.
pub const TIMEOUT: Reply = Reply::new(421, "4.4.2", "{} timeout, closing connection");
/// The driver already runs `max_sessions` sessions; sent instead of the greeting, then close.
pub const TOO_MANY_CONNECTIONS: Reply =
    Reply::new(421, "4.7.0", "{} too many connections, try again later");

// Positive replies to commands.

/// Answer to HELO: the server's host name.
pub const HELO_OK: Reply = Reply::new(250, "", "{}");
/// Answer to NOOP and RSET.
pub const OK: Reply = Reply::new(250, "2.0.0", "ok");
/// MAIL FROM accepted.
pub const SENDER_OK: Reply = Reply::new(250, "2.1.0", "sender ok");
/// RCPT TO accepted.
pub const RECIPIENT_OK: Reply = Reply::new(250, "2.1.5", "recipient ok");
/// DATA accepted: the client sends the message now.
pub const START_DATA: Reply = Reply::new(354, "", "end data with <CR><LF>.<CR><LF>");
/// Sent only after the message is fsync'd to the spool (RFC 5321 §4.2.5).
pub const QUEUED: Reply = Reply::new(250, "2.0.0", "message queued as {}");
/// STARTTLS accepted: the next bytes are the TLS handshake.
pub const READY_FOR_TLS: Reply = Reply::new(220, "2.0.0", "ready to start TLS");
/// Answer to VRFY: the gateway does not disclose which addresses exist.
pub const CANNOT_VERIFY: Reply = Reply::new(252, "2.0.0", "cannot verify, send some mail");
/// Answer to HELP.
pub const HELP: Reply = Reply::new(214, "2.0.0", "see RFC 5321");

// The engine's decision after DATA.

/// The engine rejected the message; `{}` is its short reason.
pub const REJECTED: Reply = Reply::new(550, "5.7.1", "{}");
/// The engine asks the client to retry later; `{}` is its short reason.
pub const TEMPFAILED: Reply = Reply::new(451, "4.7.1", "{}");
/// The message could not be written to the spool; the client retries.
pub const NOT_STORED: Reply = Reply::new(451, "4.3.0", "local error, message not stored");

// Limits.

/// MAIL FROM declared a SIZE above the limit, or the message exceeded it (RFC 1870).
pub const TOO_BIG: Reply = Reply::new(552, "5.3.4", "message exceeds fixed maximum size");
/// One recipient more than `max_recipients` (RFC 5321 §4.5.3.1.10).
pub const TOO_MANY_RECIPIENTS: Reply = Reply::new(452, "4.5.3", "too many recipients");
/// The server-wide memory budget for messages in flight is spent (RFC 3463 §3.4); retry later.
pub const INSUFFICIENT_STORAGE: Reply = Reply::new(452, "4.3.1", "insufficient system storage");
/// A command line longer than `max_line_length`.
pub const LINE_TOO_LONG: Reply = Reply::new(500, "5.5.2", "line too long");
/// The message contains a CR or LF that is not part of a CRLF pair.
pub const BARE_NEWLINE: Reply = Reply::new(
    550,
    "5.6.0",
    "bare CR or LF in message, lines must end with CRLF",
);

// Errors in commands.

/// Not a command smtp-proto knows.
pub const UNKNOWN_COMMAND: Reply = Reply::new(500, "5.5.1", "unknown command");
/// A command this gateway knows but does not offer (AUTH, EXPN, BDAT, ...).
pub const NOT_IMPLEMENTED: Reply = Reply::new(502, "5.5.1", "command not implemented");
/// Bytes in a command line that no command may contain (NUL, bare CR, invalid UTF-8).
pub const BAD_CHARACTERS: Reply = Reply::new(500, "5.5.2", "invalid characters in command");
/// A known command with arguments that do not parse; `{}` is the expected syntax.
pub const SYNTAX: Reply = Reply::new(501, "5.5.4", "syntax: {}");
/// A parameter with a bad value; `{}` is its name.
pub const BAD_PARAMETER: Reply = Reply::new(501, "5.5.4", "invalid {} parameter");
/// A parameter of an extension this gateway does not offer; `{}` is its name.
pub const UNSUPPORTED_PARAMETER: Reply = Reply::new(555, "5.5.4", "unsupported parameter {}");
/// The reverse-path does not parse.
pub const BAD_SENDER: Reply = Reply::new(501, "5.1.7", "bad sender address syntax");
/// The forward-path does not parse.
pub const BAD_RECIPIENT: Reply = Reply::new(501, "5.1.3", "bad recipient address syntax");
/// MAIL FROM parameters after HELO: they exist only in ESMTP (RFC 5321 §4.1.1.11).
pub const PARAMETERS_NEED_EHLO: Reply = Reply::new(555, "5.5.4", "parameters need EHLO");
/// A non-ASCII address in a transaction without SMTPUTF8 (RFC 6531 §3.5).
pub const NEEDS_SMTPUTF8: Reply = Reply::new(553, "5.6.7", "non-ASCII address needs SMTPUTF8");

// Commands out of sequence (RFC 5321 §4.1.4).

/// MAIL before HELO/EHLO.
pub const NEED_HELO: Reply = Reply::new(503, "5.5.1", "send HELO or EHLO first");
/// RCPT or DATA before MAIL.
pub const NEED_MAIL: Reply = Reply::new(503, "5.5.1", "need MAIL command");
/// DATA before any accepted RCPT.
pub const NEED_RCPT: Reply = Reply::new(503, "5.5.1", "need RCPT command");
/// MAIL while a transaction is open.
pub const NESTED_MAIL: Reply = Reply::new(503, "5.5.1", "sender already given");
/// STARTTLS during a mail transaction.
pub const TLS_IN_TRANSACTION: Reply = Reply::new(503, "5.5.1", "mail transaction in progress");
/// STARTTLS on a connection that is already encrypted.
pub const TLS_ALREADY_ACTIVE: Reply = Reply::new(503, "5.5.1", "TLS already active");
/// STARTTLS when the driver has no certificate.
pub const TLS_NOT_AVAILABLE: Reply = Reply::new(502, "5.5.1", "STARTTLS not available");
/// `require_tls` is on and the client has not run STARTTLS yet (RFC 3207 §4).
pub const TLS_REQUIRED: Reply = Reply::new(530, "5.7.0", "must issue a STARTTLS command first");

#[cfg(test)]
mod tests {
    use super::*;

    fn line(reply: &Reply) -> String {
        let mut out = Vec::new();
        reply.write_to(&mut out);
        String::from_utf8(out).expect("replies are ASCII")
    }

    #[test]
    fn reply_has_code_status_and_text() {
        assert_eq!(
            line(&TOO_BIG),
            "552 5.3.4 message exceeds fixed maximum size\r\n"
        );
    }

    #[test]
    fn reply_without_status_omits_it() {
        assert_eq!(line(&START_DATA), "354 end data with <CR><LF>.<CR><LF>\r\n");
    }

    #[test]
    fn fill_replaces_placeholder() {
        assert_eq!(
            line(&QUEUED.fill("Q123")),
            "250 2.0.0 message queued as Q123\r\n"
        );
    }

    #[test]
    fn fill_cannot_inject_a_second_reply() {
        let reply = REJECTED.fill("bad\r\n250 2.0.0 ok");
        assert_eq!(line(&reply), "550 5.7.1 bad  250 2.0.0 ok\r\n");
    }

    #[test]
    fn fill_replaces_non_ascii() {
        assert_eq!(REJECTED.fill("詐欺 link").text(), "?? link");
    }

    #[test]
    fn long_reply_is_cut_to_512_bytes() {
        let long = "x".repeat(2000);
        let reply = Reply::new(550, "5.7.1", "{}{}{}")
            .fill(&long)
            .fill(&long)
            .fill(&long);
        let out = line(&reply);
        assert_eq!(out.len(), 512);
        assert!(out.ends_with("\r\n"));
    }

    #[test]
    fn ehlo_lines_use_dash_until_the_last() {
        let mut out = Vec::new();
        write_ehlo(
            &mut out,
            "mx.example.org",
            &["PIPELINING".into(), "SMTPUTF8".into()],
        );
        assert_eq!(
            out,
            b"250-mx.example.org\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n"
        );
    }

    #[test]
    fn ehlo_without_capabilities_is_one_line() {
        let mut out = Vec::new();
        write_ehlo(&mut out, "mx.example.org", &[]);
        assert_eq!(out, b"250 mx.example.org\r\n");
    }

    #[test]
    fn display_shows_the_line_without_crlf() {
        assert_eq!(OK.to_string(), "250 2.0.0 ok");
    }
}
