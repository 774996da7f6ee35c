//! Fast facts about HTML attachments, aimed at credential-phishing pages.
//!
//! A phishing HTML attachment is usually a fake login page that posts to a host the attacker
//! controls, or a loader that decodes and writes such a page at open time. [`inspect_html`]
//! finds the telltales with a single linear, byte-level, ASCII case-insensitive pass over at most
//! the first 4 MiB: `<form>` targets, password inputs, scripts, obfuscated decoding and meta
//! refreshes. It is not a conforming HTML parser and does not need to be: it errs towards seeing
//! a tag (comments and scripts are scanned too), and attribute values are entity-decoded so
//! `action="&#104;ttp…"` is reported as `http…`. UTF-16 input (BOM or `<\0`) is decoded first.

use std::borrow::Cow;

use memchr::{memchr, memchr3, memmem};

/// Bytes of input examined; the rest is ignored.
const SCAN_LIMIT: usize = 4 * 1024 * 1024;
/// Longest tag examined; a tag without `>` within this many bytes is cut here.
const MAX_TAG_LEN: usize = 16 * 1024;
/// At most this many form targets are reported.
const MAX_ACTIONS: usize = 32;
/// Reported attribute values are cut to this many characters.
const MAX_VALUE_CHARS: usize = 2048;
/// A quoted run of encoded-looking characters at least this long counts as an encoded payload.
const MIN_ENCODED_RUN: usize = 200;

/// Functions that turn an encoded string into markup or code.
const DECODERS: &[&[u8]] = &[
    b"eval",
    b"atob",
    b"unescape",
    b"decodeuricomponent",
    b"document.write",
];
/// Calls that run or write whatever they are given.
const SINKS: &[&[u8]] = &[b"eval", b"document.write", b"document.writeln"];
/// Arguments that show a sink is fed decoded data directly.
const DECODED_ARGS: &[&[u8]] = &[
    b"atob",
    b"window.atob",
    b"unescape",
    b"decodeuricomponent",
    b"string.fromcharcode",
];

/// What [`inspect_html`] found in an HTML attachment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlAttachmentFacts {
    /// A `<form>` element is present.
    pub has_form: bool,
    /// An `<input type="password">` is present.
    pub has_password_input: bool,
    /// Non-empty `action` of each form and `formaction` of inputs and buttons, entity-decoded.
    pub form_actions: Vec<String>,
    /// A `<script>` element, an `on…=` event handler or a `javascript:` URL is present.
    pub has_script: bool,
    /// Code decodes and runs or writes an encoded payload: `String.fromCharCode`, a decoder
    /// (`eval`, `atob`, `unescape`, `document.write`…) next to a long encoded string literal, or
    /// `eval`/`document.write` called directly on a decoder.
    pub script_obfuscation: bool,
    /// The `content` of a `<meta http-equiv="refresh">`, e.g. `0; url=https://…`.
    pub meta_refresh: Option<String>,
}

/// Scans an HTML attachment (first 4 MiB) for credential-phishing telltales.
pub fn inspect_html(data: &[u8]) -> HtmlAttachmentFacts {
    let text = decode_utf16(data.get(..SCAN_LIMIT).unwrap_or(data));
    let lower = text.to_ascii_lowercase();
    let mut facts = HtmlAttachmentFacts::default();
    scan_tags(&text, &lower, &mut facts);
    facts.has_script |= memmem::find(&lower, b"javascript:").is_some();
    facts.script_obfuscation = memmem::find(&lower, b"fromcharcode").is_some()
        || (DECODERS
            .iter()
            .any(|name| calls(&lower, name).next().is_some())
            && has_encoded_literal(&lower))
        || sink_fed_by_decoder(&lower);
    facts
}

/// Decodes UTF-16 (with a BOM, or starting with `<` and a NUL) to UTF-8; anything else as is.
fn decode_utf16(data: &[u8]) -> Cow<'_, [u8]> {
    let (body, little) = match data {
        [0xFF, 0xFE, rest @ ..] => (rest, true),
        [0xFE, 0xFF, rest @ ..] => (rest, false),
        [b'<', 0, ..] => (data, true),
        [0, b'<', ..] => (data, false),
        _ => return Cow::Borrowed(data),
    };
    let units = body.chunks_exact(2).map(|pair| match pair {
        [a, b] if little => u16::from_le_bytes([*a, *b]),
        [a, b] => u16::from_be_bytes([*a, *b]),
        _ => 0xFFFD,
    });
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or('\u{FFFD}'))
        .collect();
    Cow::Owned(text.into_bytes())
}

/// Visits every tag once; `orig` and `lower` have the same length.
fn scan_tags(orig: &[u8], lower: &[u8], facts: &mut HtmlAttachmentFacts) {
    let mut pos = 0;
    while let Some(rel) = lower.get(pos..).and_then(|rest| memchr(b'<', rest)) {
        let name_start = pos + rel + 1;
        let rest = lower.get(name_start..).unwrap_or_default();
        let name_len = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let attrs_start = name_start + name_len;
        let end = tag_end(lower, attrs_start);
        if let (Some(name), Some(attrs)) = (
            lower.get(name_start..attrs_start),
            Attrs::new(orig, lower, attrs_start..end),
        ) && !name.is_empty()
        {
            visit_tag(name, attrs, facts);
        }
        pos = end.max(name_start);
    }
}

/// Index of the `>` closing a tag whose attributes start at `from` (quotes after `=` respected),
/// or of a `<` that starts another one.
fn tag_end(lower: &[u8], from: usize) -> usize {
    let limit = lower.len().min(from.saturating_add(MAX_TAG_LEN));
    let mut quote = None;
    let mut last = 0u8;
    for (i, &b) in lower.iter().enumerate().take(limit).skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            // A `<` outside quotes starts the next tag: `if (a<b)` must not swallow a later tag.
            None if b == b'>' || b == b'<' => return i,
            None if (b == b'"' || b == b'\'') && last == b'=' => quote = Some(b),
            None => {}
        }
        if !b.is_ascii_whitespace() {
            last = b;
        }
    }
    limit.max(from.min(lower.len()))
}

fn visit_tag(name: &[u8], attrs: Attrs<'_>, facts: &mut HtmlAttachmentFacts) {
    let is_form = name == b"form";
    facts.has_form |= is_form;
    facts.has_script |= name == b"script";
    let mut refresh = false;
    let mut content = None;
    for (key, value) in attrs {
        facts.has_script |= key.len() > 2 && key.starts_with(b"on");
        match key {
            b"action" if is_form => push_action(facts, value),
            b"formaction" => push_action(facts, value),
            b"type" if name == b"input" => {
                facts.has_password_input |= attr_text(value).eq_ignore_ascii_case("password")
            }
            b"http-equiv" if name == b"meta" => {
                refresh = value.trim_ascii().eq_ignore_ascii_case(b"refresh")
            }
            b"content" if name == b"meta" => content = Some(value),
            _ => {}
        }
    }
    if refresh && facts.meta_refresh.is_none() {
        facts.meta_refresh = Some(content.map(attr_text).unwrap_or_default());
    }
}

fn push_action(facts: &mut HtmlAttachmentFacts, value: &[u8]) {
    if facts.form_actions.len() < MAX_ACTIONS {
        let action = attr_text(value);
        if !action.is_empty() {
            facts.form_actions.push(action);
        }
    }
}

/// Attribute value as text: entity-decoded, trimmed, cut to [`MAX_VALUE_CHARS`].
fn attr_text(value: &[u8]) -> String {
    let decoded = decode_entities(&String::from_utf8_lossy(value));
    decoded.trim().chars().take(MAX_VALUE_CHARS).collect()
}

/// Decodes numeric character references and the five XML entities; leaves anything else alone.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let tail = rest.get(amp + 1..).unwrap_or_default();
        // Entity names are short; looking further would make `&&&&…` quadratic.
        let entity = tail
            .bytes()
            .take(12)
            .position(|b| b == b';')
            .and_then(|semi| Some((entity_char(tail.get(..semi)?)?, semi)));
        match entity {
            Some((c, semi)) => {
                out.push(c);
                rest = tail.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity_char(name: &str) -> Option<char> {
    let number = |digits: &str, radix| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => match name.strip_prefix('#')? {
            hex if hex.starts_with(['x', 'X']) => number(hex.get(1..)?, 16),
            dec => number(dec, 10),
        },
    }
}

/// Attributes of one tag: `(lowercase name, original-case value)`.
struct Attrs<'a> {
    orig: &'a [u8],
    lower: &'a [u8],
    pos: usize,
}

impl<'a> Attrs<'a> {
    fn new(orig: &'a [u8], lower: &'a [u8], range: std::ops::Range<usize>) -> Option<Self> {
        Some(Self {
            orig: orig.get(range.clone())?,
            lower: lower.get(range)?,
            pos: 0,
        })
    }

    fn skip_while(&mut self, pred: impl Fn(u8) -> bool) {
        while self.lower.get(self.pos).is_some_and(|&b| pred(b)) {
            self.pos += 1;
        }
    }

    /// Reads a value after `=`: quoted, or up to whitespace.
    fn value(&mut self) -> &'a [u8] {
        let quote = self
            .lower
            .get(self.pos)
            .copied()
            .filter(|&b| b == b'"' || b == b'\'');
        let start = self.pos + usize::from(quote.is_some());
        self.pos = start;
        match quote {
            Some(q) => self.skip_while(|b| b != q),
            None => self.skip_while(|b| !b.is_ascii_whitespace() && b != b'>'),
        }
        let value = self.orig.get(start..self.pos).unwrap_or_default();
        self.pos += usize::from(quote.is_some());
        value
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.skip_while(|b| b.is_ascii_whitespace() || b == b'/');
            if self.pos >= self.lower.len() {
                return None;
            }
            let start = self.pos;
            self.skip_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'));
            let name = self.lower.get(start..self.pos).unwrap_or_default();
            self.skip_while(|b| b.is_ascii_whitespace());
            let value = if self.lower.get(self.pos) == Some(&b'=') {
                self.pos += 1;
                self.skip_while(|b| b.is_ascii_whitespace());
                self.value()
            } else {
                &[]
            };
            if name.is_empty() {
                self.pos = self.pos.max(start + 1);
                continue;
            }
            return Some((name, value));
        }
    }
}

/// Positions just after `name(` (whitespace allowed before the parenthesis), where `name` is
/// not the tail of a longer identifier.
fn calls<'a>(lower: &'a [u8], name: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    memmem::find_iter(lower, name).filter_map(move |at| {
        let before = at.checked_sub(1).and_then(|i| lower.get(i)).copied();
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            return None;
        }
        let after = at + name.len();
        let gap = lower
            .get(after..)?
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        (lower.get(after + gap) == Some(&b'(')).then_some(after + gap + 1)
    })
}

/// `eval(atob(…))`, `document.write(unescape(…))` and the like.
fn sink_fed_by_decoder(lower: &[u8]) -> bool {
    SINKS.iter().any(|sink| {
        calls(lower, sink).any(|arg| {
            let arg = lower.get(arg..).unwrap_or_default().trim_ascii_start();
            DECODED_ARGS.iter().any(|decoder| arg.starts_with(decoder))
        })
    })
}

/// A string literal that starts with a long run of base64/hex/percent/escape characters.
fn has_encoded_literal(lower: &[u8]) -> bool {
    let mut pos = 0;
    while let Some(rel) = lower
        .get(pos..)
        .and_then(|rest| memchr3(b'"', b'\'', b'`', rest))
    {
        let start = pos + rel + 1;
        let run = lower
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| is_encoded_char(b))
            .count();
        if run >= MIN_ENCODED_RUN {
            return true;
        }
        pos = start + run;
    }
    false
}

fn is_encoded_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'%' | b'\\' | b'-' | b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHISH: &str = r#"<!DOCTYPE html><html><head><title>Sign in</title></head>
<body onload="init()">
<FORM method="POST" ACTION="https://collect.example.net/post.php?id=1&amp;x=2">
  <input type="email" name="login">
  <input TYPE = 'Password' name=pw>
  <button formaction=https://other.example.org/b>Sign in</button>
</FORM></body></html>"#;

    #[test]
    fn credential_form_found() {
        let facts = inspect_html(PHISH.as_bytes());
        assert!(facts.has_form);
        assert!(facts.has_password_input);
        assert_eq!(
            facts.form_actions,
            vec![
                "https://collect.example.net/post.php?id=1&x=2",
                "https://other.example.org/b"
            ]
        );
        assert!(facts.has_script, "onload handler counts as script");
        assert!(!facts.script_obfuscation);
        assert_eq!(facts.meta_refresh, None);
    }

    #[test]
    fn plain_page_has_nothing() {
        let facts = inspect_html(
            b"<html><body><p>Hello <b>world</b> a > b, 'quoted' text</p></body></html>",
        );
        assert_eq!(facts, HtmlAttachmentFacts::default());
    }

    #[test]
    fn entity_encoded_action_is_decoded() {
        let facts = inspect_html(
            b"<form action='&#104;&#x74;tps://evil.example/&lt;x&gt;'><input type=pass&#119;ord></form>",
        );
        assert_eq!(facts.form_actions, vec!["https://evil.example/<x>"]);
        assert!(facts.has_password_input);
    }

    #[test]
    fn quoted_gt_does_not_end_tag() {
        let facts = inspect_html(b"<form title=\"a>b\" action=\"https://x.example/\">");
        assert_eq!(facts.form_actions, vec!["https://x.example/"]);
    }

    #[test]
    fn less_than_in_script_does_not_hide_tags() {
        let facts =
            inspect_html(b"<script>if (a<b) { x = 1 }</script><form action=https://late.example/>");
        assert_eq!(facts.form_actions, vec!["https://late.example/"]);
        assert!(inspect_html(b"<a title=\"x<y\" onclick=go()>").has_script);
    }

    #[test]
    fn meta_refresh_any_attribute_order() {
        let facts =
            inspect_html(b"<meta content=\"0; URL=https://evil.example/\" http-equiv=\"Refresh\">");
        assert_eq!(
            facts.meta_refresh.as_deref(),
            Some("0; URL=https://evil.example/")
        );
        let facts = inspect_html(b"<META HTTP-EQUIV=refresh CONTENT=5>");
        assert_eq!(facts.meta_refresh.as_deref(), Some("5"));
        let facts = inspect_html(b"<meta http-equiv=\"content-type\" content=\"text/html\">");
        assert_eq!(facts.meta_refresh, None);
    }

    #[test]
    fn obfuscation_patterns() {
        let payload = "PGh0bWw+".repeat(40);
        let atob = format!("<script>var p = '{payload}'; document.write(atob(p));</script>");
        let escaped = format!(
            "<script>document.write(unescape(\"{}\"))</script>",
            "%3C%66".repeat(5)
        );
        let cases: &[(&str, bool)] = &[
            (&atob, true),
            (&escaped, true), // sink fed by a decoder, even with a short literal
            ("<script>eval ( atob(x) )</script>", true),
            (
                "<script>var s = String.fromCharCode(60, 104);</script>",
                true,
            ),
            ("<script>console.log('hello world')</script>", false),
            ("<script>retrieval(x); medieval (y)</script>", false),
            (&format!("<script>var p = '{payload}';</script>"), false), // long literal, no decoder
            (
                &format!("<img src=\"data:image/png;base64,{payload}\"><script>eval(x)</script>"),
                false,
            ),
        ];
        for (html, want) in cases {
            let facts = inspect_html(html.as_bytes());
            assert_eq!(facts.script_obfuscation, *want, "{html}");
            assert!(facts.has_script, "{html}");
        }
    }

    #[test]
    fn javascript_url_counts_as_script() {
        assert!(inspect_html(b"<a href=\"JavaScript:go()\">x</a>").has_script);
    }

    #[test]
    fn utf16_input_is_decoded() {
        let html = "<form action=\"https://u16.example/\"><input type=password>";
        let mut le = vec![0xFF, 0xFE];
        le.extend(html.encode_utf16().flat_map(u16::to_le_bytes));
        let be: Vec<u8> = html.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for data in [le, be] {
            let facts = inspect_html(&data);
            assert_eq!(facts.form_actions, vec!["https://u16.example/"]);
            assert!(facts.has_password_input);
        }
    }

    #[test]
    fn actions_are_capped() {
        let html = "<form action=https://a.example/>".repeat(100);
        assert_eq!(
            inspect_html(html.as_bytes()).form_actions.len(),
            MAX_ACTIONS
        );
    }

    #[test]
    fn entities_edge_cases() {
        assert_eq!(
            decode_entities("a&b &amp; &#0; &#xZZ; &bogus; &#128512; &"),
            "a&b & \u{0} &#xZZ; &bogus; \u{1F600} &"
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        const ALPHABET: &[u8] = b"<>=\"' /ab&#;x\0fomrinput";
        let samples: [&[u8]; 8] = [
            b"<",
            b"<form",
            b"<form action=",
            b"<form action=\"",
            b"<<<>>>",
            b"<a =x ==y>",
            b"&#",
            b"\xFF\xFE<",
        ];
        for s in samples {
            let _ = inspect_html(s);
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..500 {
            let len = (xorshift(&mut state) % 300) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(xorshift(&mut state) % ALPHABET.len() as u64) as usize])
                .collect();
            let _ = inspect_html(&data);
        }
    }

    #[test]
    fn pathological_input_is_linear() {
        let started = std::time::Instant::now();
        let amps = format!("<form action=\"{}\">", "&".repeat(MAX_TAG_LEN));
        let opens = "<".repeat(1 << 20);
        let evals = "eval eval(".repeat(100_000);
        let quotes = "'aaaa".repeat(200_000);
        for data in [amps, opens, evals, quotes] {
            let _ = inspect_html(data.as_bytes());
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn large_input_is_bounded() {
        let mut data = vec![b'a'; SCAN_LIMIT];
        data.extend_from_slice(b"<form action=https://late.example/>");
        assert!(!inspect_html(&data).has_form);
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }
}
