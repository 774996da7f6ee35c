//! What the session collects about a connection and a message, handed over at end of message.
//!
//! The types stay close to the wire: addresses keep their angle brackets and ESMTP
//! parameters, header values keep their bytes. The binary converts them to
//! `sg_message::Envelope` and parses the message; this crate knows nothing of detection.

use crate::command::ConnectInfo;

/// One header as the MTA sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Field name, without the colon.
    pub name: String,
    /// Everything after the colon, leading whitespace included, so `name:value` is the
    /// original line. When the MTA strips that whitespace (no `SMFIP_HDR_LEADSPC`), one
    /// space is restored. Folded values contain line breaks as the MTA sent them (LF).
    pub value: Vec<u8>,
}

/// One RCPT TO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The forward-path as given, e.g. `<bob@example.com>`.
    pub address: String,
    /// ESMTP parameters, e.g. `NOTIFY=NEVER`.
    pub params: Vec<String>,
}

/// The SMTP envelope of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse-path as given (`<alice@example.org>`, `<>` for bounces); `None` if the
    /// MTA sent no MAIL command.
    pub mail_from: Option<String>,
    /// ESMTP parameters of MAIL, e.g. `SIZE=1234`, `BODY=8BITMIME`.
    pub mail_params: Vec<String>,
    /// Recipients, in order.
    pub recipients: Vec<Recipient>,
}

/// Macros the MTA sent, per stage; a later stage's value wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Macros {
    /// (stage command byte, pairs), in arrival order; one entry per stage.
    stages: Vec<(u8, Vec<(String, String)>)>,
}

impl Macros {
    /// The most recent value of a macro; `i` and `{i}` name the same macro.
    pub fn get(&self, name: &str) -> Option<&str> {
        let bare = name
            .strip_prefix('{')
            .and_then(|n| n.strip_suffix('}'))
            .unwrap_or(name);
        self.stages
            .iter()
            .rev()
            .flat_map(|(_, pairs)| pairs.iter().rev())
            .find_map(|(n, v)| {
                let n = n
                    .strip_prefix('{')
                    .and_then(|n| n.strip_suffix('}'))
                    .unwrap_or(n);
                (n == bare).then_some(v.as_str())
            })
    }

    /// Every (stage byte, name, value), oldest stage first.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &str, &str)> {
        self.stages.iter().flat_map(|(stage, pairs)| {
            pairs
                .iter()
                .map(move |(n, v)| (*stage, n.as_str(), v.as_str()))
        })
    }

    /// Replaces the macros of one stage (the MTA resends them each time, e.g. per RCPT).
    pub(crate) fn set(&mut self, stage: u8, pairs: Vec<(String, String)>) {
        self.stages.retain(|(s, _)| *s != stage);
        self.stages.push((stage, pairs));
    }

    /// Forgets every stage not in `keep`.
    pub(crate) fn retain(&mut self, keep: &[u8]) {
        self.stages.retain(|(s, _)| keep.contains(s));
    }
}

/// Everything known when the MTA reaches end of message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletedMessage {
    /// The SMTP client, if the MTA sent CONNECT.
    pub connection: Option<ConnectInfo>,
    /// The HELO/EHLO name, if any.
    pub helo: Option<String>,
    /// MAIL and RCPT.
    pub envelope: Envelope,
    /// Connection- and message-level macros.
    pub macros: Macros,
    /// Headers in order.
    pub headers: Vec<Header>,
    /// Body bytes, CRLF line endings as Postfix sends them.
    pub body: Vec<u8>,
}

impl CompletedMessage {
    /// The MTA's queue id (macro `i`), which Postfix sends from DATA on.
    pub fn queue_id(&self) -> Option<&str> {
        self.macros.get("i")
    }

    /// The message as RFC 5322 bytes: `name:value` lines with CRLF, a blank line, the body.
    pub fn to_rfc5322(&self) -> Vec<u8> {
        let header_len: usize = self
            .headers
            .iter()
            .map(|h| h.name.len() + h.value.len() + 4)
            .sum();
        let mut out = Vec::with_capacity(header_len + 2 + self.body.len());
        for h in &self.headers {
            out.extend_from_slice(h.name.as_bytes());
            out.push(b':');
            // Folds arrive as bare LF; the wire format of a message wants CRLF.
            let mut previous = 0;
            for &b in &h.value {
                if b == b'\n' && previous != b'\r' {
                    out.push(b'\r');
                }
                out.push(b);
                previous = b;
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn later_stage_wins_and_braces_are_optional() {
        let mut m = Macros::default();
        m.set(
            b'C',
            pairs(&[("j", "mx.example.org"), ("{daemon_name}", "smtpd")]),
        );
        m.set(b'T', pairs(&[("i", "4Xyz1")]));
        m.set(b'E', pairs(&[("{i}", "4Xyz2")]));
        assert_eq!(m.get("{i}"), Some("4Xyz2"));
        assert_eq!(m.get("daemon_name"), Some("smtpd"));
        assert_eq!(m.get("{j}"), Some("mx.example.org"));
        assert_eq!(m.get("missing"), None);
    }

    #[test]
    fn resent_stage_replaces_the_old_values() {
        let mut m = Macros::default();
        m.set(b'R', pairs(&[("{rcpt_addr}", "a@example.com")]));
        m.set(b'R', pairs(&[("{rcpt_addr}", "b@example.com")]));
        assert_eq!(m.iter().count(), 1);
        assert_eq!(m.get("rcpt_addr"), Some("b@example.com"));
    }

    #[test]
    fn retain_keeps_only_the_named_stages() {
        let mut m = Macros::default();
        m.set(b'C', pairs(&[("j", "mx")]));
        m.set(b'H', pairs(&[("{tls_version}", "TLSv1.3")]));
        m.set(b'M', pairs(&[("{mail_addr}", "a@example.org")]));
        m.retain(b"CH");
        assert_eq!(m.get("mail_addr"), None);
        assert_eq!(m.get("tls_version"), Some("TLSv1.3"));
    }

    #[test]
    fn to_rfc5322_joins_headers_and_body_with_crlf() {
        let msg = CompletedMessage {
            headers: vec![
                Header {
                    name: "Subject".into(),
                    value: b" hi\n\tthere".to_vec(),
                },
                Header {
                    name: "X".into(),
                    value: b" 1".to_vec(),
                },
            ],
            body: b"body\r\n".to_vec(),
            ..CompletedMessage::default()
        };
        assert_eq!(
            msg.to_rfc5322(),
            b"Subject: hi\r\n\tthere\r\nX: 1\r\n\r\nbody\r\n"
        );
    }
}
