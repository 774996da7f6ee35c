//! What one delivery attempt did for one recipient, in the terms a DSN needs: whether a
//! retry can help, the RFC 3463 status code, and the diagnostic (RFC 3464 §2.3.6).

use std::fmt;

/// The result of one attempt for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The next hop (or the Maildir) has the message: never send it to this recipient again.
    Delivered,
    /// Not delivered this time.
    Failed(Failure),
}

/// Why a recipient did not get the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Whether retrying cannot help (a 5xx reply, or a recipient we cannot even send to).
    pub permanent: bool,
    /// RFC 3463 enhanced status code, e.g. `5.1.1`.
    pub status: String,
    /// A DSN `Diagnostic-Code` value, `smtp; 550 5.1.1 no such user` for a reply of the next
    /// hop, `X-Spearguard; connection refused` for a local error. One line, no control
    /// characters.
    pub diagnostic: String,
}

/// Longest diagnostic kept; a DSN field line stays well under 998 octets.
const MAX_DIAGNOSTIC: usize = 900;

impl Failure {
    /// A failure found here rather than replied by the next hop (network, file system).
    pub fn local(permanent: bool, status: &str, detail: impl fmt::Display) -> Failure {
        Failure {
            permanent,
            status: status.to_string(),
            diagnostic: one_line(&format!("X-Spearguard; {detail}")),
        }
    }

    /// A negative SMTP reply of the next hop: 5xx is permanent, anything else temporary. The
    /// status is the reply's enhanced code when it has one of the same class, else `X.0.0`.
    pub fn from_reply(code: u16, enhanced: Option<[u8; 3]>, text: &str) -> Failure {
        let class = (code / 100) as u8;
        let permanent = class == 5;
        let class = if permanent { 5 } else { 4 };
        let status = match enhanced {
            Some([c, s, d]) if c == class => format!("{c}.{s}.{d}"),
            _ => format!("{class}.0.0"),
        };
        let reply = match enhanced {
            Some([c, s, d]) => format!("{code} {c}.{s}.{d} {text}"),
            None => format!("{code} {text}"),
        };
        Failure {
            permanent,
            status,
            diagnostic: one_line(&format!("smtp; {}", reply.trim_end())),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic)
    }
}

/// Joins lines with a space, drops other control characters, and cuts to [`MAX_DIAGNOSTIC`].
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_DIAGNOSTIC));
    for c in text.chars() {
        if out.len() + c.len_utf8() > MAX_DIAGNOSTIC {
            break;
        }
        match c {
            '\r' => {}
            '\n' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_reply_keeps_its_enhanced_code() {
        let f = Failure::from_reply(550, Some([5, 1, 1]), "no such user");
        assert!(f.permanent);
        assert_eq!(f.status, "5.1.1");
        assert_eq!(f.diagnostic, "smtp; 550 5.1.1 no such user");
    }

    #[test]
    fn temporary_reply_without_enhanced_code_gets_4_0_0() {
        let f = Failure::from_reply(451, None, "try later");
        assert!(!f.permanent);
        assert_eq!(f.status, "4.0.0");
    }

    #[test]
    fn mismatched_enhanced_class_is_not_trusted() {
        assert_eq!(
            Failure::from_reply(550, Some([2, 0, 0]), "x").status,
            "5.0.0"
        );
    }

    #[test]
    fn multi_line_text_becomes_one_bounded_line() {
        let f = Failure::local(false, "4.4.1", format!("a\r\nb\u{7}c{}", "x".repeat(2000)));
        assert!(f.diagnostic.starts_with("X-Spearguard; a bc"));
        assert!(f.diagnostic.len() <= MAX_DIAGNOSTIC);
        assert!(!f.diagnostic.chars().any(char::is_control));
    }
}
