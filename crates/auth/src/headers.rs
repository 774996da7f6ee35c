//! Header surgery for RFC 8601 §5: find the incoming `Authentication-Results` fields that
//! claim our authserv-id (forged, or left over from a loop) and drop them, then put ours on
//! top.
//!
//! The authserv-id is read the way `sg-detect`'s auth analyser reads it (comments skipped,
//! a quoted string is a word, a first clause with `=` has no id), so no field the analyser
//! would attribute to us survives.

use std::ops::Range;

const NAME: &[u8] = b"authentication-results";

/// The byte ranges of the header fields (with continuation lines and line ends).
fn fields(raw: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let line_end = |from: usize| {
        raw[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| from + i + 1)
    };
    while pos < raw.len() && !raw[pos..].starts_with(b"\r\n") && raw[pos] != b'\n' {
        let mut end = line_end(pos);
        while end < raw.len() && matches!(raw[end], b' ' | b'\t') {
            end = line_end(end);
        }
        out.push(pos..end);
        pos = end;
    }
    out
}

/// The value of `field` when it is an `Authentication-Results` field.
fn results_value(field: &[u8]) -> Option<&[u8]> {
    let colon = field.iter().position(|&b| b == b':')?;
    let name = field[..colon].trim_ascii_end();
    name.eq_ignore_ascii_case(NAME).then(|| &field[colon + 1..])
}

/// The authserv-id of an `Authentication-Results` value, lowercase; `None` when the value
/// starts with a result (no id) or is empty.
pub(crate) fn authserv_id(value: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(value);
    let mut chars = text.chars();
    let (mut first, mut word, mut equals) = (None::<String>, String::new(), false);
    let take = |word: &mut String, first: &mut Option<String>| {
        if !word.is_empty() && first.is_none() {
            *first = Some(std::mem::take(word));
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '(' => {
                take(&mut word, &mut first);
                let mut depth = 1usize;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '(' => depth += 1,
                        ')' if depth == 1 => break,
                        ')' => depth -= 1,
                        _ => {}
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        c => word.push(c),
                    }
                }
            }
            ';' => break,
            '=' => {
                equals = true;
                take(&mut word, &mut first);
            }
            c if c.is_whitespace() => take(&mut word, &mut first),
            c => word.push(c),
        }
    }
    take(&mut word, &mut first);
    first.filter(|_| !equals).map(|id| id.to_ascii_lowercase())
}

fn claims(field: &[u8], ours: &str) -> Option<bool> {
    let value = results_value(field)?;
    Some(authserv_id(value).is_some_and(|id| id.eq_ignore_ascii_case(ours)))
}

/// Positions (1-based, counting only `Authentication-Results` fields, top to bottom) of the
/// fields that claim `authserv_id`: what a milter removes with `SMFIR_CHGHEADER`.
pub fn forged_results_positions(raw: &[u8], authserv_id: &str) -> Vec<usize> {
    fields(raw)
        .into_iter()
        .filter_map(|r| claims(&raw[r], authserv_id))
        .enumerate()
        .filter(|(_, ours)| *ours)
        .map(|(i, _)| i + 1)
        .collect()
}

/// Appends `raw` to `out` without the `Authentication-Results` fields that claim
/// `authserv_id`; returns how many were dropped. The body is never touched.
pub fn write_without_forged(out: &mut Vec<u8>, raw: &[u8], authserv_id: &str) -> usize {
    let mut copied = 0;
    let mut dropped = 0;
    for r in fields(raw) {
        if claims(&raw[r.clone()], authserv_id) == Some(true) {
            out.extend_from_slice(&raw[copied..r.start]);
            copied = r.end;
            dropped += 1;
        }
    }
    out.extend_from_slice(&raw[copied..]);
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(raw: &str) -> (String, usize) {
        let mut out = Vec::new();
        let n = write_without_forged(&mut out, raw.as_bytes(), "mx.example.org");
        (String::from_utf8(out).unwrap(), n)
    }

    #[test]
    fn forged_fields_in_every_disguise_are_dropped_others_kept() {
        let raw = "Authentication-Results: MX.example.ORG; dkim=pass header.d=bank.example\r\n\
                   Received: from x\r\n\
                   authentication-results : (hi) \"mx.example.org\" 1;\r\n\tdmarc=pass\r\n\
                   Authentication-Results: mx.example.org.evil; dkim=pass\r\n\
                   Authentication-Results: dkim=pass header.d=mx.example.org\r\n\
                   Authentication-Results:\r\n mx.example.org\r\n\
                   Subject: hi\r\n\r\n\
                   Authentication-Results: mx.example.org; body line, kept\r\n";
        let (out, n) = strip(raw);
        assert_eq!(n, 3);
        assert_eq!(
            out,
            "Received: from x\r\n\
             Authentication-Results: mx.example.org.evil; dkim=pass\r\n\
             Authentication-Results: dkim=pass header.d=mx.example.org\r\n\
             Subject: hi\r\n\r\n\
             Authentication-Results: mx.example.org; body line, kept\r\n"
        );
        assert_eq!(
            forged_results_positions(raw.as_bytes(), "mx.example.org"),
            [1, 2, 5]
        );
    }

    #[test]
    fn bare_lf_messages_and_messages_without_body_work() {
        let (out, n) = strip("Authentication-Results: mx.example.org; none\nFrom: a@b\n\nbody\n");
        assert_eq!((out.as_str(), n), ("From: a@b\n\nbody\n", 1));
        let (out, n) = strip("Subject: x\r\nAuthentication-Results: mx.example.org; none");
        assert_eq!((out.as_str(), n), ("Subject: x\r\n", 1));
        assert_eq!(strip(""), (String::new(), 0));
    }

    #[test]
    fn authserv_id_reading_never_panics() {
        for v in ["", "(", "\"", "\\", "((a)", "a=b", " ; ", "é(ü\\"] {
            let _ = authserv_id(v.as_bytes());
        }
        assert_eq!(
            authserv_id(b" (c (d)) Mx.Org 1; x=y").as_deref(),
            Some("mx.org")
        );
        assert_eq!(authserv_id(b" spf=pass").as_deref(), None);
    }
}
