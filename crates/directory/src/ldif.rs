//! LDIF content records (RFC 2849), the subset a directory export needs: `dn`, `mail`
//! (one entry per value), the name from `displayName` or else `cn`, the department from `ou`
//! or else `departmentNumber`, and the published flag from a configurable attribute. Folded
//! lines, `#` comments, a `version:` line, base64 (`::`) values and attribute options
//! (`cn;lang-ja`) are understood; URL values (`:<`) and change records are refused.
//! Records without `mail` (organisational units, groups) are skipped.

use crate::error::Problems;
use crate::value::parse_flag;
use crate::{Builder, Directory, DirectoryError};

/// How LDIF is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LdifOptions {
    /// The attribute holding the published flag (`TRUE`/`FALSE`, yes/no, 1/0), compared
    /// ignoring case. `None`: every entry is published. An entry without the attribute
    /// counts as published.
    pub published_attribute: Option<String>,
}

/// One logical (unfolded) line: where it starts and its bytes.
type Line = (usize, Vec<u8>);

/// Parses LDIF into a directory.
pub(crate) fn parse(bytes: &[u8], opts: &LdifOptions) -> Result<Directory, DirectoryError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut problems = Problems::default();
    let mut builder = Builder::default();
    let published_attr = opts
        .published_attribute
        .as_deref()
        .map(str::to_ascii_lowercase);
    for (n, mut record) in records(bytes, &mut problems).into_iter().enumerate() {
        if n == 0 && record.first().is_some_and(|(_, l)| attr_is(l, "version")) {
            record.remove(0);
            if record.is_empty() {
                continue;
            }
        }
        entry(
            &record,
            published_attr.as_deref(),
            &mut builder,
            &mut problems,
        );
    }
    builder.finish(problems)
}

/// Reads one record's attributes and adds an entry per `mail` value.
fn entry(record: &[Line], published_attr: Option<&str>, b: &mut Builder, p: &mut Problems) {
    let mut attrs: Vec<(usize, String, bool, Vec<u8>)> = Vec::new();
    for (line, raw) in record {
        match attribute(raw) {
            Ok((name, options, value)) => attrs.push((*line, name, options, value)),
            Err(e) => p.add(*line, e),
        }
    }
    let Some((first_line, first, ..)) = attrs.first() else {
        return;
    };
    if first != "dn" {
        p.add(*first_line, "a record must start with dn:");
        return;
    }
    if let Some((line, ..)) = attrs.iter().find(|a| a.1 == "changetype") {
        p.add(
            *line,
            "change records (changetype) are not supported: export the entries as content records",
        );
        return;
    }
    // The first value of `name`, preferring one without options; as UTF-8.
    let pick = |names: &[&str], p: &mut Problems| -> Option<(usize, String)> {
        let (line, _, _, v) = names.iter().find_map(|n| {
            attrs
                .iter()
                .find(|a| a.1 == *n && !a.2)
                .or_else(|| attrs.iter().find(|a| a.1 == *n))
        })?;
        utf8(*line, v, p)
    };
    let name = pick(&["displayname", "cn"], p)
        .map(|(_, v)| v)
        .unwrap_or_default();
    let department = pick(&["ou", "departmentnumber"], p)
        .map(|(_, v)| v)
        .unwrap_or_default();
    let published = match published_attr.and_then(|a| pick(&[a], p)) {
        Some((line, v)) => match parse_flag(&v) {
            Ok(f) => f,
            Err(e) => {
                p.add(line, e);
                return;
            }
        },
        None => true,
    };
    for (line, _, _, v) in attrs.iter().filter(|a| a.1 == "mail") {
        if let Some((_, mail)) = utf8(*line, v, p) {
            b.add(*line, &mail, &name, &department, Ok(published), p);
        }
    }
}

fn utf8(line: usize, v: &[u8], p: &mut Problems) -> Option<(usize, String)> {
    match std::str::from_utf8(v) {
        Ok(s) => Some((line, s.to_string())),
        Err(_) => {
            p.add(line, "the value is not valid UTF-8");
            None
        }
    }
}

/// `name[;options]: value`, `name:: base64` → (lowercase name, has options, value bytes).
fn attribute(raw: &[u8]) -> Result<(String, bool, Vec<u8>), String> {
    let colon = raw
        .iter()
        .position(|&c| c == b':')
        .ok_or("expected attribute: value")?;
    let (spec, rest) = raw.split_at(colon);
    let spec = std::str::from_utf8(spec).map_err(|_| "the attribute name is not ASCII")?;
    let (name, options) = match spec.split_once(';') {
        Some((n, _)) => (n, true),
        None => (spec, false),
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        return Err(format!(
            "{:?} is not an attribute name",
            crate::value::shown(spec)
        ));
    }
    let name = name.to_ascii_lowercase();
    let rest = rest.get(1..).unwrap_or_default();
    let value = match rest.first() {
        Some(b':') => base64(rest.get(1..).unwrap_or_default().trim_ascii())
            .ok_or_else(|| format!("the {name}:: value is not valid base64"))?,
        Some(b'<') => return Err(format!("URL values ({name}:<) are not supported")),
        _ => rest.trim_ascii_start().to_vec(),
    };
    Ok((name, options, value))
}

fn attr_is(line: &[u8], name: &str) -> bool {
    line.len() > name.len()
        && line.get(name.len()) == Some(&b':')
        && line
            .get(..name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
}

/// Unfolds lines, drops comments and splits on blank lines.
fn records(bytes: &[u8], p: &mut Problems) -> Vec<Vec<Line>> {
    let mut out = Vec::new();
    let mut current: Vec<Line> = Vec::new();
    let mut in_comment = false;
    for (i, raw) in bytes.split(|&c| c == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if let Some(more) = raw.strip_prefix(b" ") {
            match current.last_mut() {
                _ if in_comment => {}
                Some((_, l)) => l.extend_from_slice(more),
                None => p.add(
                    line,
                    "a continuation line (starting with a space) with nothing to continue",
                ),
            }
        } else if raw.is_empty() {
            in_comment = false;
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else if raw.starts_with(b"#") {
            in_comment = true;
        } else {
            in_comment = false;
            current.push((line, raw.to_vec()));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Standard base64 with padding, as RFC 2849 writes it.
fn base64(s: &[u8]) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let chunks = s.chunks(4);
    let last = chunks.len().saturating_sub(1);
    for (n, chunk) in chunks.enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && n != last) {
            return None;
        }
        let mut v = 0u32;
        for &c in chunk.iter().take(4 - pad) {
            v = (v << 6) | sextet(c)?;
        }
        v <<= 6 * pad as u32;
        let bytes = v.to_be_bytes();
        out.extend_from_slice(bytes.get(1..4 - pad).unwrap_or_default());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64(b"5bGx55Sw").unwrap(), "山田".as_bytes());
        assert_eq!(base64(b"YQ==").unwrap(), b"a");
        assert_eq!(base64(b"YWI=").unwrap(), b"ab");
        assert_eq!(base64(b"").unwrap(), b"");
        for bad in [&b"YQ="[..], b"Y===", b"YQ==YQ==", b"a*cd"] {
            assert!(base64(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn folded_lines_join_and_comments_vanish() {
        let mut p = Problems::default();
        let r = records(
            b"dn: a\r\n b\n# note\n  more note\ncn: x\n\n\ndn: c\n",
            &mut p,
        );
        assert_eq!(
            r,
            vec![
                vec![(1, b"dn: ab".to_vec()), (5, b"cn: x".to_vec())],
                vec![(8, b"dn: c".to_vec())]
            ]
        );
        assert!(p.finish(()).is_ok());
    }
}
