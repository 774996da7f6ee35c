//! Builds a [`Message`] from raw bytes with mail-parser, then adds what mail-parser does not
//! do: Japanese charset aliases, visible text of HTML, links with their origin, PDF facts.

use mail_parser::{Address, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::address::Mailbox;
use crate::charset;
use crate::html;
use crate::limits::Limits;
use crate::links::{self, Link, LinkOrigin};
use crate::model::{Anomaly, Attachment, Header, Message, PartInfo};
use crate::pdf;

/// Why a message could not be parsed at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// The message is larger than `Limits::max_message_size`.
    #[error("message of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Actual size.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// There are no bytes at all.
    #[error("message is empty")]
    Empty,
}

const MAX_HEADER_VALUE: usize = 8 * 1024;

impl Message {
    /// Parses a raw message. Never panics; only an empty or oversized input is an error,
    /// anything else yields a `Message` with its problems in `anomalies`.
    pub fn parse(raw: &[u8], limits: &Limits) -> Result<Message, ParseError> {
        if raw.len() > limits.max_message_size {
            return Err(ParseError::TooLarge {
                size: raw.len(),
                limit: limits.max_message_size,
            });
        }
        let raw = strip_mbox_line(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ParseError::Empty);
        }
        let mut msg = Message {
            size: raw.len(),
            ..Message::default()
        };
        let Some(parsed) = parser().parse(raw) else {
            msg.anomalies.push(Anomaly::NoHeaders);
            let text = String::from_utf8_lossy(raw.get(..limits.max_text_bytes).unwrap_or(raw));
            msg.text = text.into_owned();
            collect_text_links(&mut msg, 0, limits);
            return Ok(msg);
        };
        read_headers(&mut msg, &parsed, raw, limits);
        let mut walker = Walker {
            msg: &mut msg,
            limits,
        };
        walker.walk_message(&parsed, raw, 0);
        finish_links(&mut msg, limits);
        Ok(msg)
    }
}

/// The mail-parser instance, built once: building one allocates a table of header parsers.
fn parser() -> &'static MessageParser {
    static PARSER: std::sync::OnceLock<MessageParser> = std::sync::OnceLock::new();
    PARSER.get_or_init(MessageParser::default)
}

/// Drops a leading mbox envelope line ("From addr date"), which is not a header.
fn strip_mbox_line(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ")
        && let Some(nl) = memchr::memchr(b'\n', raw)
    {
        return &raw[nl + 1..];
    }
    raw
}

fn read_headers(msg: &mut Message, parsed: &mail_parser::Message<'_>, raw: &[u8], limits: &Limits) {
    let Some(root) = parsed.parts.first() else {
        return;
    };
    for h in root.headers.iter().take(limits.max_headers) {
        let value = raw
            .get(h.offset_start as usize..h.offset_end as usize)
            .map(unfold)
            .unwrap_or_default();
        msg.headers.push(Header {
            name: h.name.as_str().to_string(),
            value,
        });
    }
    msg.subject = decoded_header_text(parsed.subject(), msg.header("subject"));
    if let Some(from) = parsed.from() {
        let boxes = mailboxes(from);
        msg.from_count = boxes.len();
        msg.from = boxes.into_iter().next();
    }
    msg.sender = parsed
        .sender()
        .and_then(|a| mailboxes(a).into_iter().next());
    msg.reply_to = parsed.reply_to().map(mailboxes).unwrap_or_default();
    msg.to = parsed.to().map(mailboxes).unwrap_or_default();
    msg.cc = parsed.cc().map(mailboxes).unwrap_or_default();
    msg.message_id = parsed
        .message_id()
        .map(|s| s.trim_matches(['<', '>']).to_string());
    msg.date = parsed.date().map(|d| d.to_timestamp());
    msg.received_date = parsed
        .received()
        .and_then(|r| r.date.as_ref())
        .map(|d| d.to_timestamp());
}

/// The decoded value of a text header, redoing what mail-parser left undecoded.
fn decoded_header_text(parsed: Option<&str>, raw: Option<&str>) -> String {
    let value = parsed.unwrap_or_default();
    let needs_redo = value.contains("=?") || value.contains('\u{FFFD}') || value.contains('\u{1b}');
    if needs_redo && let Some(raw) = raw {
        if let Some(fixed) = charset::decode_encoded_words(raw.trim()) {
            return fixed;
        }
        if value.contains('\u{1b}') {
            return charset::decode(raw.trim().as_bytes(), Some("iso-2022-jp"));
        }
    }
    value.trim().to_string()
}

fn mailboxes(addr: &Address<'_>) -> Vec<Mailbox> {
    addr.iter()
        .filter_map(|a| {
            let address = a.address.as_deref()?;
            let name = a
                .name
                .as_deref()
                .map(|n| charset::decode_encoded_words(n).unwrap_or_else(|| n.to_string()));
            Some(Mailbox::new(name.as_deref(), address))
        })
        .collect()
}

/// Joins folded header lines and decodes bytes lossily.
fn unfold(v: &[u8]) -> String {
    let v = v.get(..MAX_HEADER_VALUE).unwrap_or(v);
    let s = String::from_utf8_lossy(v);
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if i > 0 {
            out.push(' ');
            out.push_str(line.trim_start());
        } else {
            out.push_str(line.trim());
        }
    }
    out.trim().to_string()
}

struct Walker<'m, 'l> {
    msg: &'m mut Message,
    limits: &'l Limits,
}

impl Walker<'_, '_> {
    /// Walks one (possibly nested) message's parts.
    fn walk_message(&mut self, parsed: &mail_parser::Message<'_>, raw: &[u8], depth: usize) {
        if depth > self.limits.max_depth {
            self.anomaly(Anomaly::TooDeep);
            return;
        }
        // The parts a reader sees as the body: HTML when there is HTML, else plain text.
        let body_ids: &[u32] = if parsed.html_body.iter().any(|&i| {
            matches!(
                parsed.parts.get(i as usize).map(|p| &p.body),
                Some(PartType::Html(_))
            )
        }) {
            &parsed.html_body
        } else {
            &parsed.text_body
        };
        for (id, part) in parsed.parts.iter().enumerate() {
            if self.msg.parts.len() >= self.limits.max_parts {
                self.anomaly(Anomaly::TooManyParts);
                return;
            }
            let is_body = body_ids.contains(&(id as u32));
            self.walk_part(part, raw, depth, is_body);
        }
    }

    fn walk_part(&mut self, part: &MessagePart<'_>, raw: &[u8], depth: usize, is_body: bool) {
        let index = self.msg.parts.len();
        let (ctype, charset) = content_type(part);
        let filename = part
            .attachment_name()
            .map(|n| charset::decode_encoded_words(n).unwrap_or_else(|| n.to_string()));
        let disposition_attachment = part
            .content_disposition()
            .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"));
        let is_attachment = disposition_attachment
            || (filename.is_some() && !matches!(part.body, PartType::Multipart(_)));
        self.msg.parts.push(PartInfo {
            content_type: ctype.clone(),
            charset: charset.clone(),
            filename: filename.clone(),
            is_attachment,
            size: part.len(),
            depth,
            encoding_problem: part.is_encoding_problem,
        });
        if part.is_encoding_problem {
            self.anomaly(Anomaly::EncodingProblem);
        }
        match &part.body {
            PartType::Text(text) | PartType::Html(text) if !is_attachment => {
                let text = self.fix_charset(part, raw, text, charset.as_deref());
                let is_html = matches!(part.body, PartType::Html(_));
                self.body_text(index, &text, is_html, is_body);
            }
            PartType::Text(_)
            | PartType::Html(_)
            | PartType::Binary(_)
            | PartType::InlineBinary(_) => {
                self.attachment(part, index, ctype, filename);
            }
            PartType::Message(inner) => self.walk_message(inner, &inner.raw_message, depth + 1),
            PartType::Multipart(_) => {}
        }
    }

    /// Re-decodes a text part whose charset mail-parser could not handle.
    fn fix_charset(
        &mut self,
        part: &MessagePart<'_>,
        raw: &[u8],
        text: &str,
        label: Option<&str>,
    ) -> String {
        let unknown_label = label.is_some_and(charset::mail_parser_lacks);
        let garbled = text.contains('\u{FFFD}') || text.contains('\u{1b}');
        if !unknown_label && !garbled {
            return text.to_string();
        }
        let Some(bytes) = transfer_decoded(part, raw) else {
            return text.to_string();
        };
        match label.and_then(charset::encoding_for_label) {
            Some(enc) if unknown_label || text.contains('\u{1b}') => {
                enc.decode(&bytes).0.into_owned()
            }
            Some(_) | None => {
                if let Some(l) = label.filter(|l| charset::encoding_for_label(l).is_none()) {
                    self.anomaly(Anomaly::UnknownCharset(l.to_string()));
                }
                let enc = charset::guess(&bytes);
                self.anomaly(Anomaly::CharsetGuessed(enc.name().to_string()));
                enc.decode(&bytes).0.into_owned()
            }
        }
    }

    fn body_text(&mut self, index: usize, text: &str, is_html: bool, is_body: bool) {
        if is_html {
            let budget = self
                .limits
                .max_text_bytes
                .saturating_sub(self.msg.text.len());
            let html_text = text.get(..self.limits.max_html_bytes).unwrap_or(text);
            let extracted = html::extract(html_text, budget, self.limits.max_links);
            let base = extracted.base.clone();
            for l in extracted.links {
                let url = resolve(&l.url, base.as_deref());
                if let Some(link) = Link::parse(&url, l.origin, index, l.text) {
                    self.msg.links.push(link);
                }
            }
            let mut facts = extracted.facts;
            facts.part = index;
            self.msg.html.push(facts);
            if is_body {
                self.push_text(&extracted.text);
            }
        } else {
            links::find_in_text(text, |u| {
                if let Some(link) = Link::parse(u, LinkOrigin::Text, index, None) {
                    self.msg.links.push(link);
                }
            });
            if is_body {
                self.push_text(text);
            }
        }
    }

    fn push_text(&mut self, text: &str) {
        let room = self
            .limits
            .max_text_bytes
            .saturating_sub(self.msg.text.len());
        if text.len() > room {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            self.msg.text.push_str(&text[..end]);
            self.anomaly(Anomaly::TextTruncated);
        } else {
            self.msg.text.push_str(text);
            if !text.ends_with('\n') {
                self.msg.text.push('\n');
            }
        }
    }

    fn attachment(
        &mut self,
        part: &MessagePart<'_>,
        index: usize,
        ctype: String,
        name: Option<String>,
    ) {
        let contents = part.contents();
        let max = self.limits.max_attachment_bytes;
        let data = contents.get(..max).unwrap_or(contents).to_vec();
        let inline = matches!(part.body, PartType::InlineBinary(_));
        let lower_name = name.as_deref().unwrap_or_default().to_ascii_lowercase();
        let is_pdf = data
            .get(..1024)
            .is_some_and(|h| memchr::memmem::find(h, b"%PDF").is_some())
            || (data.len() < 1024 && memchr::memmem::find(&data, b"%PDF").is_some());
        let pdf = is_pdf.then(|| pdf::scan_pdf(&data, &pdf::PdfLimits::default()));
        if let Some(facts) = &pdf {
            for uri in &facts.uris {
                if let Some(link) = Link::parse(uri, LinkOrigin::Pdf, index, None) {
                    self.msg.links.push(link);
                }
            }
        }
        let looks_html = ctype == "text/html"
            || lower_name.ends_with(".html")
            || lower_name.ends_with(".htm")
            || lower_name.ends_with(".shtml");
        if looks_html || ctype.starts_with("text/") {
            let text = charset::decode(&data, None);
            let found: Vec<(String, Option<String>)> = if looks_html {
                let e = html::extract(&text, 0, self.limits.max_links);
                e.links.into_iter().map(|l| (l.url, l.text)).collect()
            } else {
                let mut v = Vec::new();
                links::find_in_text(&text, |u| v.push((u.to_string(), None)));
                v
            };
            for (url, text) in found {
                if let Some(link) = Link::parse(&url, LinkOrigin::Attachment, index, text) {
                    self.msg.links.push(link);
                }
            }
        }
        self.msg.attachments.push(Attachment {
            part: index,
            name,
            content_type: ctype,
            size: contents.len(),
            truncated: contents.len() > max,
            data,
            inline,
            pdf,
        });
    }

    fn anomaly(&mut self, a: Anomaly) {
        if !self.msg.anomalies.contains(&a) {
            self.msg.anomalies.push(a);
        }
    }
}

/// Lowercase "type/subtype" and the charset label of a part.
fn content_type(part: &MessagePart<'_>) -> (String, Option<String>) {
    match part.content_type() {
        Some(ct) => {
            let t = match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            };
            (
                t.to_ascii_lowercase(),
                ct.attribute("charset").map(str::to_string),
            )
        }
        None => ("text/plain".to_string(), None),
    }
}

/// The part's body bytes after undoing base64 or quoted-printable, before charset decoding.
fn transfer_decoded(part: &MessagePart<'_>, raw: &[u8]) -> Option<Vec<u8>> {
    let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
    match part.encoding {
        mail_parser::Encoding::Base64 => mail_parser::decoders::base64::base64_decode(body),
        mail_parser::Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
        }
        mail_parser::Encoding::None => Some(body.to_vec()),
    }
}

/// Resolves a relative URL against `<base href>`; absolute URLs pass through.
fn resolve(url: &str, base: Option<&str>) -> String {
    let Some(base) = base else {
        return url.to_string();
    };
    if url.contains(':') || url.starts_with("//") {
        return url.to_string();
    }
    match url::Url::parse(base).and_then(|b| b.join(url)) {
        Ok(u) => u.to_string(),
        Err(_) => url.to_string(),
    }
}

/// Links from text when there were no headers at all.
fn collect_text_links(msg: &mut Message, part: usize, limits: &Limits) {
    let mut found = Vec::new();
    links::find_in_text(&msg.text, |u| found.push(u.to_string()));
    for u in found.into_iter().take(limits.max_links) {
        if let Some(l) = Link::parse(&u, LinkOrigin::Text, part, None) {
            msg.links.push(l);
        }
    }
}

/// Drops plain-text copies of anchors (multipart/alternative repeats them) and caps the count.
fn finish_links(msg: &mut Message, limits: &Limits) {
    let anchors: std::collections::HashSet<String> = msg
        .links
        .iter()
        .filter(|l| l.origin == LinkOrigin::Anchor)
        .map(|l| l.raw.clone())
        .collect();
    msg.links
        .retain(|l| l.origin != LinkOrigin::Text || !anchors.contains(&l.raw));
    if msg.links.len() > limits.max_links {
        msg.links.truncate(limits.max_links);
        msg.anomalies.push(Anomaly::TooManyLinks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Message {
        let path = format!(
            "{}/../../fixtures/messages/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let raw = std::fs::read(&path).expect("fixture exists");
        Message::parse(&raw, &Limits::default()).expect("fixture parses")
    }

    #[test]
    fn iso_2022_jp_headers_and_body_are_decoded() {
        let m = fixture("ja-iso2022jp-notice.eml");
        assert_eq!(m.subject, "会議のご案内");
        assert_eq!(
            m.from.as_ref().and_then(|f| f.name.as_deref()),
            Some("山田")
        );
        assert!(m.text.contains("お世話になっております"), "{:?}", m.text);
    }

    #[test]
    fn cp932_label_is_decoded_as_shift_jis() {
        let m = fixture("ja-cp932-label.eml");
        assert!(m.text.contains("年金の手続き"), "{:?}", m.text);
    }

    #[test]
    fn rich_message_yields_links_from_html_and_pdf() {
        let m = fixture("multipart-html-attachment.eml");
        let origins: Vec<_> = m.links.iter().map(|l| l.origin).collect();
        assert!(origins.contains(&LinkOrigin::Anchor));
        assert!(origins.contains(&LinkOrigin::FormAction));
        assert!(origins.contains(&LinkOrigin::Pdf), "{:?}", m.links);
        let anchor = m
            .links
            .iter()
            .find(|l| l.origin == LinkOrigin::Anchor)
            .expect("anchor");
        assert_eq!(anchor.text.as_deref(), Some("https://www.bank.example/"));
        assert_eq!(
            anchor.domain().map(|d| d.registrable()),
            Some("bank-secure.example")
        );
        assert_eq!(m.attachments.len(), 1);
        assert!(m.html.iter().any(|h| h.password_input));
        assert!(m.text.contains("Dear customer"));
        assert!(m.subject.ends_with("account notice"));
    }
}
