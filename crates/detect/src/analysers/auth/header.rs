//! `Authentication-Results` header fields (RFC 8601 §2.2), parsed without any context so
//! that the gateway can reuse the parser for headers it reads or writes itself.

/// At most this many results are read from one header.
const MAX_RESULTS: usize = 64;

/// One `Authentication-Results` header, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthResultsHeader {
    /// Who verified; `None` when the header starts with a result (Microsoft 365 writes them
    /// so), which can never be trusted.
    pub authserv_id: Option<String>,
    /// The results, in order.
    pub results: Vec<MethodResult>,
}

/// One `method=result` clause with its properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodResult {
    /// Lowercase method without version: "spf", "dkim", "dmarc", "arc", …
    pub method: String,
    /// Lowercase result: "pass", "fail", "softfail", "none", "permerror", …
    pub result: String,
    /// `reason=` value, if given.
    pub reason: Option<String>,
    /// `ptype.property=value` pairs, keys lowercase ("header.d", "smtp.mailfrom").
    pub properties: Vec<(String, String)>,
    /// Text of the comments after the result, joined by spaces ("p=reject dis=none").
    pub comment: String,
}

impl MethodResult {
    /// The first value of a property, e.g. `property("header.d")`.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn is(&self, method: &str, result: &str) -> bool {
        self.method == method && self.result == result
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Equals,
    Semicolon,
    Comment(String),
}

/// Splits a header value into words, `=`, `;` and comments (nested, with quoted pairs);
/// quoted strings become words.
fn tokens(value: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = value.chars();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Token>| {
        if !word.is_empty() {
            out.push(Token::Word(std::mem::take(word)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '(' => {
                flush(&mut word, &mut out);
                let (mut depth, mut text) = (1usize, String::new());
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => text.extend(chars.next()),
                        ')' if depth == 1 => break,
                        ')' => {
                            depth -= 1;
                            text.push(c);
                        }
                        '(' => {
                            depth += 1;
                            text.push(c);
                        }
                        _ => text.push(c),
                    }
                }
                out.push(Token::Comment(text));
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(c),
                    }
                }
            }
            '=' | ';' => {
                flush(&mut word, &mut out);
                out.push(if c == '=' {
                    Token::Equals
                } else {
                    Token::Semicolon
                });
            }
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Parses an `Authentication-Results` value (RFC 8601 §2.2):
/// `authserv-id [version] ; method[/version]=result [reason=…] ptype.property=value … ; …`.
/// Lenient: clauses it cannot read are skipped, and it never fails.
pub fn parse_authentication_results(value: &str) -> AuthResultsHeader {
    let tokens = tokens(value);
    let mut segments = tokens.split(|t| *t == Token::Semicolon);
    let mut header = AuthResultsHeader::default();
    let first = segments.next().unwrap_or_default();
    let mut rest: Vec<&[Token]> = Vec::new();
    if first.contains(&Token::Equals) {
        rest.push(first);
    } else if let Some(Token::Word(id)) = first.iter().find(|t| matches!(t, Token::Word(_))) {
        header.authserv_id = Some(id.to_ascii_lowercase());
    }
    rest.extend(segments);
    for seg in rest {
        if header.results.len() >= MAX_RESULTS {
            break;
        }
        if let Some(r) = method_result(seg) {
            header.results.push(r);
        }
    }
    header
}

/// One `method=result …` clause.
fn method_result(seg: &[Token]) -> Option<MethodResult> {
    let mut r: Option<MethodResult> = None;
    let mut i = 0;
    while let Some(t) = seg.get(i) {
        match (t, seg.get(i + 1), seg.get(i + 2)) {
            (Token::Word(k), Some(Token::Equals), Some(Token::Word(v))) => {
                let k = k.to_ascii_lowercase();
                match r.as_mut() {
                    None => {
                        let method = k.split('/').next().unwrap_or_default().to_string();
                        r = Some(MethodResult {
                            method,
                            result: v.to_ascii_lowercase(),
                            ..MethodResult::default()
                        });
                    }
                    Some(r) if k == "reason" => r.reason = Some(v.clone()),
                    Some(r) => r.properties.push((k, v.clone())),
                }
                i += 3;
            }
            (Token::Comment(c), _, _) => {
                if let Some(r) = r.as_mut() {
                    if !r.comment.is_empty() {
                        r.comment.push(' ');
                    }
                    r.comment.push_str(c.trim());
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    r
}

/// What the start of a value tells about its authserv-id, without the full parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lead<'a> {
    /// A plain token: the authserv-id.
    Id(&'a str),
    /// It starts with `method=result`: there is no authserv-id.
    NoId,
    /// A comment or quoted string first: only the full parser can tell.
    Unclear,
}

/// Reads the first token of an `Authentication-Results` value.
pub(super) fn lead(value: &str) -> Lead<'_> {
    let v = value.trim_start();
    let end = v
        .find(|c: char| c.is_whitespace() || c == ';')
        .unwrap_or(v.len());
    match v.get(..end) {
        Some(t) if t.contains(['(', '"']) => Lead::Unclear,
        Some(t) if t.contains('=') => Lead::NoId,
        Some(t) if !t.is_empty() => Lead::Id(t),
        _ => Lead::Unclear,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- the parser ------------------------------------------------------------------

    #[test]
    fn parses_rfc8601_example_with_properties_and_comments() {
        let h = parse_authentication_results(
            "example.com 1; spf=pass smtp.mailfrom=example.net (checked (twice)); \
             dkim=pass reason=\"good signature\" header.d=Example.org header.i=@example.org; \
             dmarc=fail (p=REJECT sp=none) header.from=example.org",
        );
        assert_eq!(h.authserv_id.as_deref(), Some("example.com"));
        assert_eq!(h.results.len(), 3);
        let spf = &h.results[0];
        assert_eq!((spf.method.as_str(), spf.result.as_str()), ("spf", "pass"));
        assert_eq!(spf.property("smtp.mailfrom"), Some("example.net"));
        assert_eq!(spf.comment, "checked (twice)");
        let dkim = &h.results[1];
        assert_eq!(dkim.reason.as_deref(), Some("good signature"));
        assert_eq!(dkim.property("header.d"), Some("Example.org"));
        assert_eq!(super::super::dmarc_policy(&h.results[2]), "reject");
    }

    #[test]
    fn header_without_authserv_id_has_none() {
        // Microsoft 365 writes them so; nothing can vouch for such a header.
        let h = parse_authentication_results(
            "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.net; dkim=none \
             (message not signed) header.d=none;dmarc=fail action=oreject header.from=example.org",
        );
        assert_eq!(h.authserv_id, None);
        assert_eq!(h.results.len(), 3);
        assert_eq!(super::super::dmarc_policy(&h.results[2]), "reject");
    }

    #[test]
    fn none_version_and_method_version() {
        let h = parse_authentication_results("mx.example.org; none");
        assert_eq!(h.authserv_id.as_deref(), Some("mx.example.org"));
        assert!(h.results.is_empty());
        let h =
            parse_authentication_results("mx.example.org 1; dkim/1 = pass header.d=example.org");
        assert_eq!(h.results[0].method, "dkim");
        assert_eq!(h.results[0].result, "pass");
    }

    #[test]
    fn garbage_never_panics() {
        for v in [
            "",
            ";;;",
            "(",
            "((a)",
            "\"",
            "a=",
            "=b",
            "x; =; a b = ; (\\",
            "é; ü=ö",
        ] {
            let _ = parse_authentication_results(v);
        }
    }

    #[test]
    fn lead_reads_the_first_token() {
        assert_eq!(
            lead(" mx.example.org; spf=pass"),
            Lead::Id("mx.example.org")
        );
        assert_eq!(
            lead("mx.example.org 1; spf=pass"),
            Lead::Id("mx.example.org")
        );
        assert_eq!(lead("spf=pass smtp.mailfrom=x"), Lead::NoId);
        assert_eq!(lead("(c) mx.example.org; none"), Lead::Unclear);
        assert_eq!(lead(""), Lead::Unclear);
    }
}
