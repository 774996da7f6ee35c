//! The parsed message: plain owned data, cheap to share across threads.

use crate::address::Mailbox;
use crate::html::HtmlFacts;
use crate::links::Link;
use crate::pdf::PdfFacts;

/// One header field as written, unfolded.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Field name as written.
    pub name: String,
    /// Raw value, unfolded, invalid UTF-8 replaced, at most 8 KiB.
    pub value: String,
}

/// One MIME part of the message tree (nested messages included), in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct PartInfo {
    /// Declared content type, lowercase ("text/html").
    pub content_type: String,
    /// Declared charset label, if any.
    pub charset: Option<String>,
    /// File name from Content-Disposition or Content-Type, decoded.
    pub filename: Option<String>,
    /// Whether the part is an attachment rather than body text.
    pub is_attachment: bool,
    /// Decoded size in bytes.
    pub size: usize,
    /// Nesting depth (0 = top-level message).
    pub depth: usize,
    /// Whether decoding it met a problem (bad transfer encoding, unknown charset).
    pub encoding_problem: bool,
}

/// An attached file (or inline binary part), decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// Index into [`Message::parts`].
    pub part: usize,
    /// Declared file name.
    pub name: Option<String>,
    /// Declared content type, lowercase.
    pub content_type: String,
    /// Decoded bytes (at most `Limits::max_attachment_bytes`).
    pub data: Vec<u8>,
    /// Full decoded size, even when `data` was cut.
    pub size: usize,
    /// Whether `data` holds only a prefix.
    pub truncated: bool,
    /// Whether it is an inline part (e.g. an embedded image) rather than a file to open.
    pub inline: bool,
    /// Facts about it when it is a PDF.
    pub pdf: Option<PdfFacts>,
}

/// Something about the message's form that is not right, or a limit that was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// No header could be parsed: the bytes are not an email.
    NoHeaders,
    /// More MIME parts than the limit; the rest were not examined.
    TooManyParts,
    /// Nesting deeper than the limit; deeper parts were not examined.
    TooDeep,
    /// Visible text was cut at the limit.
    TextTruncated,
    /// More links than the limit.
    TooManyLinks,
    /// A part declared a charset label nobody knows.
    UnknownCharset(String),
    /// A text part without a usable label was decoded by guessing this charset.
    CharsetGuessed(String),
    /// A part could not be decoded cleanly (bad base64, bad quoted-printable, …).
    EncodingProblem,
}

/// A message parsed once into the facts analysers read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    /// Size of the raw message in bytes.
    pub size: usize,
    /// Top-level header fields in order.
    pub headers: Vec<Header>,
    /// Decoded Subject ("" when absent).
    pub subject: String,
    /// First From mailbox.
    pub from: Option<Mailbox>,
    /// How many mailboxes the From header lists.
    pub from_count: usize,
    /// Sender mailbox.
    pub sender: Option<Mailbox>,
    /// Reply-To mailboxes.
    pub reply_to: Vec<Mailbox>,
    /// To mailboxes.
    pub to: Vec<Mailbox>,
    /// Cc mailboxes.
    pub cc: Vec<Mailbox>,
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// Date header as Unix seconds.
    pub date: Option<i64>,
    /// Date of the topmost `Received` header (when the last hop got it), Unix seconds.
    pub received_date: Option<i64>,
    /// What a reader sees: the visible text of the body (HTML rendered to text), decoded.
    pub text: String,
    /// Facts about each HTML body part.
    pub html: Vec<HtmlFacts>,
    /// Every link, in order of appearance.
    pub links: Vec<Link>,
    /// Attachments and inline binary parts.
    pub attachments: Vec<Attachment>,
    /// Every MIME part, nested ones included.
    pub parts: Vec<PartInfo>,
    /// Problems met while parsing.
    pub anomalies: Vec<Anomaly>,
}

impl Message {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every header with this name (case-insensitive), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Whether a body part is HTML.
    pub fn has_html(&self) -> bool {
        !self.html.is_empty()
    }
}
