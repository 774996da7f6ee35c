//! Links: every URL a reader could follow, with where it was found, normalised once.
//!
//! Phishing lives in links (the 2015 attack carried no attachment at all), so links are
//! collected from plain text, HTML (`href`, `src`, form actions, meta refresh, `<base>`),
//! HTML and text attachments and PDF link annotations. Each is parsed with the WHATWG URL
//! parser, so the host an analyser sees is the host a browser would contact.

use std::net::IpAddr;

use crate::domain::{Domain, Host};

/// Where in the message a link was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkOrigin {
    /// A URL written in plain text.
    Text,
    /// `<a href>` or `<area href>`: a link the reader clicks, with its visible text.
    Anchor,
    /// `src` of an image, frame or script: loaded, not clicked.
    Src,
    /// The `action` of an HTML form.
    FormAction,
    /// The target of `<meta http-equiv="refresh">`.
    MetaRefresh,
    /// `<base href>`: relative links resolve against it.
    Base,
    /// Found inside an HTML or text attachment.
    Attachment,
    /// A link annotation or action of a PDF attachment.
    Pdf,
}

impl LinkOrigin {
    /// Whether a reader would click (or submit) this link, as opposed to content the client loads.
    pub fn is_clickable(self) -> bool {
        !matches!(self, LinkOrigin::Src | LinkOrigin::Base)
    }
}

/// One link, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The URL as written (trimmed, at most 2 KiB).
    pub raw: String,
    /// Lowercase scheme: "http", "https", "mailto", "data", "javascript", …
    pub scheme: String,
    /// Host the URL points at, when it has one that parses.
    pub host: Option<Host>,
    /// Explicit non-default port.
    pub port: Option<u16>,
    /// Userinfo before `@` in the authority (`http://paypal.com@evil.example/`), if any.
    pub userinfo: Option<String>,
    /// Path, percent-decoded.
    pub path: String,
    /// Query string without `?`, percent-decoded.
    pub query: String,
    /// Where it was found.
    pub origin: LinkOrigin,
    /// Index of the MIME part it came from (see [`crate::Message::parts`]).
    pub part: usize,
    /// Visible text of the anchor (whitespace collapsed), for `Anchor` links.
    pub text: Option<String>,
}

const MAX_RAW: usize = 2048;

impl Link {
    /// Parses a URL found in the message; `None` when it is empty or not a URL at all.
    pub fn parse(raw: &str, origin: LinkOrigin, part: usize, text: Option<String>) -> Option<Link> {
        let raw = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{0}');
        if raw.is_empty() || raw.starts_with('#') {
            return None;
        }
        let raw = truncate(raw, MAX_RAW);
        let lower_start: String = raw
            .chars()
            .take(12)
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let with_scheme;
        let candidate = if lower_start.starts_with("www.") {
            with_scheme = format!("http://{raw}");
            with_scheme.as_str()
        } else if raw.starts_with("//") {
            with_scheme = format!("http:{raw}");
            with_scheme.as_str()
        } else {
            raw
        };
        let mut link = Link {
            raw: raw.to_string(),
            scheme: String::new(),
            host: None,
            port: None,
            userinfo: None,
            path: String::new(),
            query: String::new(),
            origin,
            part,
            text,
        };
        match url::Url::parse(candidate) {
            Ok(url) => {
                link.scheme = url.scheme().to_string();
                link.host = match url.host() {
                    Some(url::Host::Domain(d)) => Domain::parse(d).map(Host::Domain),
                    Some(url::Host::Ipv4(ip)) => Some(Host::Ip(IpAddr::V4(ip))),
                    Some(url::Host::Ipv6(ip)) => Some(Host::Ip(IpAddr::V6(ip))),
                    None => None,
                };
                link.port = url.port();
                if !url.username().is_empty() || url.password().is_some() {
                    link.userinfo = Some(percent_decode(url.username()));
                }
                link.path = percent_decode(url.path());
                link.query = url.query().map(percent_decode).unwrap_or_default();
            }
            Err(_) => {
                // Relative or broken: keep the scheme if it has one (`javascript:`, `data:`).
                let scheme = raw.split_once(':').map(|(s, _)| s).unwrap_or_default();
                if scheme.is_empty()
                    || !scheme
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                {
                    return None;
                }
                link.scheme = scheme.to_ascii_lowercase();
            }
        }
        Some(link)
    }

    /// The host's domain, when the host is a domain name.
    pub fn domain(&self) -> Option<&Domain> {
        self.host.as_ref().and_then(Host::domain)
    }

    /// Whether this is a web link (http or https).
    pub fn is_web(&self) -> bool {
        self.scheme == "http" || self.scheme == "https"
    }
}

/// Finds URLs written in plain text: `scheme://…` and `www.…`.
pub(crate) fn find_in_text(text: &str, mut found: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let next_scheme = memchr::memmem::find(rest, b"://").map(|i| pos + i);
        let next_www = find_ascii_ci(rest, b"www.").map(|i| pos + i);
        let (start, body_from) = match (next_scheme, next_www) {
            (Some(s), w) if w.is_none_or(|w| s < w) => {
                let mut st = s;
                while st > pos && (bytes[st - 1].is_ascii_alphanumeric() || bytes[st - 1] == b'+') {
                    st -= 1;
                }
                if st == s {
                    pos = s + 3;
                    continue;
                }
                (st, s + 3)
            }
            (_, Some(w)) => {
                if w > 0 && (bytes[w - 1].is_ascii_alphanumeric() || bytes[w - 1] == b'.') {
                    pos = w + 4;
                    continue;
                }
                (w, w + 4)
            }
            _ => break,
        };
        let end = url_end(text, body_from);
        if let Some(url) = text.get(start..end) {
            let url = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"']);
            let url = trim_unbalanced(url);
            if url.len() > body_from - start {
                found(url);
            }
        }
        pos = end.max(body_from);
    }
}

/// Byte index where a URL starting before `from` stops in `text`.
fn url_end(text: &str, from: usize) -> usize {
    let tail = text.get(from..).unwrap_or_default();
    for (i, c) in tail.char_indices() {
        let stop = c.is_whitespace()
            || c.is_control()
            || matches!(c, '<' | '>' | '"' | '`' | '{' | '}' | '|' | '\\' | '^')
            || is_cjk_or_fullwidth(c);
        if stop {
            return from + i;
        }
    }
    text.len()
}

/// CJK text and full-width punctuation end a URL: Japanese writers put no space after one.
fn is_cjk_or_fullwidth(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0xAC00..=0xD7AF)
}

fn trim_unbalanced(url: &str) -> &str {
    let mut url = url;
    while url.ends_with(')') && url.matches('(').count() < url.matches(')').count() {
        url = &url[..url.len() - 1];
    }
    while url.ends_with(']') && url.matches('[').count() < url.matches(']').count() {
        url = &url[..url.len() - 1];
    }
    url
}

fn find_ascii_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Decodes `%XX` escapes; invalid UTF-8 after decoding is replaced, never an error.
pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<String> {
        let mut v = Vec::new();
        find_in_text(text, |u| v.push(u.to_string()));
        v
    }

    #[test]
    fn text_urls_stop_at_japanese_and_punctuation() {
        assert_eq!(
            urls("資料はhttp://www.kobe.example/a.exeからどうぞ。"),
            vec!["http://www.kobe.example/a.exe"]
        );
        assert_eq!(
            urls("see (https://example.org/x). and www.example.net, ok"),
            vec!["https://example.org/x", "www.example.net"]
        );
        assert!(urls("no links here :// www").is_empty());
    }

    #[test]
    fn userinfo_trick_is_exposed() {
        let l = Link::parse(
            "http://paypal.com@198.51.100.7/login",
            LinkOrigin::Anchor,
            0,
            None,
        )
        .unwrap();
        assert_eq!(l.userinfo.as_deref(), Some("paypal.com"));
        assert!(matches!(l.host, Some(Host::Ip(_))));
    }

    #[test]
    fn decimal_ip_host_is_an_ip() {
        let l = Link::parse("http://3232235777/", LinkOrigin::Text, 0, None).unwrap();
        assert_eq!(l.host, Some(Host::Ip("192.168.1.1".parse().unwrap())));
    }

    #[test]
    fn javascript_and_data_keep_their_scheme() {
        let j = Link::parse("javascript:alert(1)", LinkOrigin::Anchor, 0, None).unwrap();
        assert_eq!(j.scheme, "javascript");
        let d = Link::parse("data:text/html;base64,PGh0", LinkOrigin::Anchor, 0, None).unwrap();
        assert_eq!(d.scheme, "data");
        assert!(Link::parse("#top", LinkOrigin::Anchor, 0, None).is_none());
        assert!(Link::parse("relative/path", LinkOrigin::Anchor, 0, None).is_none());
    }

    #[test]
    fn path_and_query_are_percent_decoded() {
        let l = Link::parse(
            "https://x.example/dl%2Ffile.exe?u=%68ttp",
            LinkOrigin::Text,
            0,
            None,
        )
        .unwrap();
        assert_eq!(l.path, "/dl/file.exe");
        assert_eq!(l.query, "u=http");
        assert_eq!(percent_decode("%E3%81%82%"), "あ%");
    }
}
