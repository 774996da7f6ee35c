//! SMTP replies a filter hands the MTA with `SMFIR_REPLYCODE`.
//!
//! Postfix (`milter8.c`, `SMFIR_REPLYCODE`) accepts a reply only if it starts with a 4xx
//! or 5xx code, a space, and an enhanced status code of the same class (`550 5.7.1 …`);
//! anything else is a configuration error that turns into its `milter_default_action`. A
//! [`Reply`] is checked once, at construction, so the session can always send it. Sendmail
//! treats the text as a format string, and Postfix follows it by turning `%%` into `%` and
//! dropping a lone `%`, so the encoder doubles every `%`.

use std::borrow::Cow;
use std::fmt;

/// Longest reply line we send: RFC 5321 §4.5.3.1.5 allows 512 octets including CRLF.
pub const MAX_REPLY_LEN: usize = 510;

/// Why a reply was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The code is not 4xx or 5xx.
    #[error("reply code {0} is not a 4xx or 5xx code")]
    Code(u16),
    /// The enhanced status code is not `c.sss.ddd` with the class of the reply code.
    #[error("enhanced status code {status:?} does not fit reply code {code}")]
    Status {
        /// The reply code.
        code: u16,
        /// The enhanced status given.
        status: String,
    },
    /// The text contains a control or non-ASCII byte.
    #[error("reply text has a control or non-ASCII character at byte {0}")]
    Text(usize),
    /// The whole line is longer than [`MAX_REPLY_LEN`].
    #[error("reply of {0} bytes is longer than {MAX_REPLY_LEN}")]
    TooLong(usize),
    /// Wire text that does not start with `ddd x.y.z`.
    #[error("malformed reply {0:?}")]
    Malformed(String),
}

/// A single-line SMTP reply with an enhanced status code, e.g. `550 5.7.1 message refused`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    status: Cow<'static, str>,
    text: Cow<'static, str>,
}

/// Sent when a message exceeds the filter's size limit and the limit is set to refuse.
pub const MESSAGE_TOO_BIG: Reply =
    Reply::fixed(552, "5.3.4", "message too big for content inspection");
/// Sent when the size limit is configured to defer rather than refuse.
pub const MESSAGE_TOO_BIG_TEMPORARY: Reply = Reply::fixed(
    452,
    "4.3.4",
    "message too big for content inspection, try again later",
);
/// Sent when a message has more recipients than the filter keeps.
pub const TOO_MANY_RECIPIENTS: Reply =
    Reply::fixed(452, "4.5.3", "too many recipients for content inspection");

impl Reply {
    /// A checked reply: code 400–599, enhanced status of the same class, printable ASCII text.
    pub fn new(code: u16, status: &str, text: &str) -> Result<Self, ReplyError> {
        if !(400..=599).contains(&code) {
            return Err(ReplyError::Code(code));
        }
        if !status_fits(code, status) {
            return Err(ReplyError::Status {
                code,
                status: status.to_owned(),
            });
        }
        if let Some(at) = text.bytes().position(|b| !(b' '..=b'~').contains(&b)) {
            return Err(ReplyError::Text(at));
        }
        let reply = Self {
            code,
            status: Cow::Owned(status.to_owned()),
            text: Cow::Owned(text.to_owned()),
        };
        let len = reply.to_wire().len();
        if len > MAX_REPLY_LEN {
            return Err(ReplyError::TooLong(len));
        }
        Ok(reply)
    }

    /// A named constant; the arguments are literals checked by the tests below.
    const fn fixed(code: u16, status: &'static str, text: &'static str) -> Self {
        Self {
            code,
            status: Cow::Borrowed(status),
            text: Cow::Borrowed(text),
        }
    }

    /// Parses the text of an `SMFIR_REPLYCODE` response (as a test MTA would).
    pub fn parse(wire: &str) -> Result<Self, ReplyError> {
        let malformed = || ReplyError::Malformed(wire.to_owned());
        let (code, rest) = wire.split_at_checked(3).ok_or_else(malformed)?;
        let rest = rest.strip_prefix(' ').ok_or_else(malformed)?;
        let code: u16 = code.parse().map_err(|_| malformed())?;
        let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
        Self::new(code, status, &unescape_percent(text))
    }

    /// The three-digit code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The enhanced status code, e.g. `5.7.1`.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The human-readable text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether this is a 5xx (permanent) reply.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// The line as sent in `SMFIR_REPLYCODE`, with `%` doubled for Sendmail and Postfix.
    pub(crate) fn to_wire(&self) -> String {
        let mut line = format!("{} {}", self.code, self.status);
        if !self.text.is_empty() {
            line.push(' ');
            line.push_str(&self.text.replace('%', "%%"));
        }
        line
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.status, self.text)
    }
}

/// RFC 3463: `class.subject.detail`, class 4 or 5 matching the reply, 1–3 and 1–3 digits.
fn status_fits(code: u16, status: &str) -> bool {
    let mut parts = status.split('.');
    let (Some(class), Some(subject), Some(detail), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let digits = |s: &str| (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    class == (code / 100).to_string() && digits(subject) && digits(detail)
}

/// Postfix's reading of a reply: `%%` is `%`, a lone `%` is dropped.
fn unescape_percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_replies_are_valid() {
        for r in [
            MESSAGE_TOO_BIG,
            MESSAGE_TOO_BIG_TEMPORARY,
            TOO_MANY_RECIPIENTS,
        ] {
            assert_eq!(Reply::new(r.code(), r.status(), r.text()), Ok(r));
        }
    }

    #[test]
    fn reply_with_matching_class_is_accepted() {
        let r = Reply::new(550, "5.7.1", "phishing refused").unwrap();
        assert_eq!(r.to_wire(), "550 5.7.1 phishing refused");
        assert!(r.is_permanent());
    }

    #[test]
    fn status_of_another_class_is_refused() {
        assert!(matches!(
            Reply::new(550, "4.7.1", "x"),
            Err(ReplyError::Status { .. })
        ));
        assert!(matches!(
            Reply::new(451, "4.7", "x"),
            Err(ReplyError::Status { .. })
        ));
        assert!(matches!(
            Reply::new(451, "4.7.1234", "x"),
            Err(ReplyError::Status { .. })
        ));
    }

    #[test]
    fn success_codes_are_refused() {
        assert_eq!(Reply::new(250, "2.0.0", "ok"), Err(ReplyError::Code(250)));
    }

    #[test]
    fn line_breaks_in_text_are_refused() {
        assert_eq!(
            Reply::new(550, "5.7.1", "a\r\n550 b"),
            Err(ReplyError::Text(1))
        );
    }

    #[test]
    fn overlong_reply_is_refused() {
        assert!(matches!(
            Reply::new(550, "5.7.1", &"x".repeat(600)),
            Err(ReplyError::TooLong(_))
        ));
    }

    #[test]
    fn percent_is_doubled_on_the_wire_and_restored_by_parse() {
        let r = Reply::new(550, "5.7.1", "100% phish").unwrap();
        assert_eq!(r.to_wire(), "550 5.7.1 100%% phish");
        assert_eq!(Reply::parse(&r.to_wire()), Ok(r));
    }

    #[test]
    fn parse_refuses_garbage() {
        assert!(Reply::parse("5").is_err());
        assert!(Reply::parse("abc 5.7.1 x").is_err());
        assert!(Reply::parse("550-5.7.1 x").is_err());
    }
}
