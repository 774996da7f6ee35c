//! CSV as RFC 4180 writes it (and Python's `csv` module, spreadsheets): fields separated by
//! commas, records by CRLF or LF, quoted fields may hold commas, quotes (doubled) and line
//! breaks. Hand-written rather than the `csv` crate so each record keeps the line it starts on
//! and a bad record is reported and skipped instead of ending the read.

use crate::error::Problems;
use crate::value::{parse_flag, shown};
use crate::{Builder, Directory, DirectoryError};

/// The columns a directory needs, in the order the header names them.
const COLUMNS: [&str; 4] = ["address", "name", "department", "published"];

/// One record: the line it starts on, and its fields or why it is unreadable.
type Record = (usize, Result<Vec<Vec<u8>>, String>);

/// Parses a directory CSV file.
pub(crate) fn parse(bytes: &[u8]) -> Result<Directory, DirectoryError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut problems = Problems::default();
    let mut builder = Builder::default();
    let mut records = split(bytes).into_iter().filter(|(_, r)| !is_blank(r));
    let Some((header_line, header)) = records.next() else {
        problems.add(
            1,
            "the file is empty: expected the header address,name,department,published",
        );
        return builder.finish(problems);
    };
    let (width, at) = match header.and_then(|h| columns(&h)) {
        Ok(c) => c,
        Err(e) => {
            problems.add(header_line, e);
            return builder.finish(problems);
        }
    };
    for (line, record) in records {
        let fields = match record {
            Ok(f) if f.len() == width => f,
            Ok(f) => {
                problems.add(
                    line,
                    format!(
                        "expected {width} fields as in the header, found {}",
                        f.len()
                    ),
                );
                continue;
            }
            Err(e) => {
                problems.add(line, e);
                continue;
            }
        };
        let mut values = [""; 4];
        let mut bad_utf8 = false;
        for (k, &i) in at.iter().enumerate() {
            match std::str::from_utf8(fields.get(i).map_or(&[][..], Vec::as_slice)) {
                Ok(v) => values[k] = v,
                Err(_) => {
                    problems.add(
                        line,
                        format!(
                            "the {} is not valid UTF-8 (save the file as UTF-8)",
                            COLUMNS[k]
                        ),
                    );
                    bad_utf8 = true;
                }
            }
        }
        if !bad_utf8 {
            let [address, name, department, published] = values;
            builder.add(
                line,
                address,
                name,
                department,
                parse_flag(published),
                &mut problems,
            );
        }
    }
    builder.finish(problems)
}

/// The header's width and where each needed column is.
fn columns(header: &[Vec<u8>]) -> Result<(usize, [usize; 4]), String> {
    let names: Vec<String> = header
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_ascii_lowercase())
        .collect();
    let mut at = [0; 4];
    let mut missing = Vec::new();
    for (k, want) in COLUMNS.iter().enumerate() {
        let mut found = names.iter().enumerate().filter(|(_, n)| n == want);
        match (found.next(), found.next()) {
            (Some((i, _)), None) => at[k] = i,
            (Some(_), Some(_)) => return Err(format!("the header names {want} twice")),
            (None, _) => missing.push(*want),
        }
    }
    if missing.is_empty() {
        Ok((names.len(), at))
    } else {
        Err(format!(
            "the header must name the columns address,name,department,published; missing {} (found {})",
            missing.join(","),
            shown(&names.join(","))
        ))
    }
}

/// An empty or whitespace-only line.
fn is_blank(record: &Result<Vec<Vec<u8>>, String>) -> bool {
    matches!(record, Ok(f) if f.len() == 1 && f.iter().all(|v| v.trim_ascii().is_empty()))
}

/// Splits the bytes into records.
fn split(bytes: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < bytes.len() {
        let start = line;
        let mut fields = Vec::new();
        let mut error = None;
        loop {
            let mut field = Vec::new();
            if bytes.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            error = Some("a quoted field is never closed".to_string());
                            break;
                        }
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                            field.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            if c == b'\n' || (c == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                                line += 1;
                            }
                            field.push(c);
                            i += 1;
                        }
                    }
                }
                if error.is_none() && !matches!(bytes.get(i), None | Some(b',' | b'\n' | b'\r')) {
                    error = Some("text after a closing quote (a quote inside a quoted field must be doubled)".into());
                }
            } else {
                while let Some(&c) = bytes.get(i) {
                    if matches!(c, b',' | b'\n' | b'\r') {
                        break;
                    }
                    if c == b'"' && error.is_none() {
                        error = Some("a quote inside an unquoted field (quote the field and double the quote)".into());
                    }
                    field.push(c);
                    i += 1;
                }
            }
            if error.is_some() {
                while bytes.get(i).is_some_and(|c| !matches!(c, b'\n' | b'\r')) {
                    i += 1;
                }
            } else {
                fields.push(field);
            }
            match bytes.get(i) {
                Some(b',') if error.is_none() => i += 1,
                Some(b'\r') => {
                    i += 1 + usize::from(bytes.get(i + 1) == Some(&b'\n'));
                    line += 1;
                    break;
                }
                Some(b'\n') => {
                    i += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        out.push((start, error.map_or(Ok(fields), Err)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(bytes: &str) -> Vec<Vec<String>> {
        split(bytes.as_bytes())
            .into_iter()
            .map(|(_, r)| {
                r.unwrap()
                    .into_iter()
                    .map(|f| String::from_utf8(f).unwrap())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn rfc4180_quoting() {
        assert_eq!(
            fields("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",,\n"),
            [vec!["a", "b,c", "say \"hi\""], vec!["two\nlines", "", ""]]
        );
        assert_eq!(fields("x"), [vec!["x"]]);
        assert_eq!(fields("\"\""), [vec![""]]);
    }

    #[test]
    fn records_keep_their_first_line() {
        let lines: Vec<usize> = split(b"h\r\n\"a\r\nb\"\r\nc\n\nd")
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert_eq!(lines, [1, 2, 4, 5, 6]);
    }

    #[test]
    fn bad_quoting_is_reported_and_the_next_record_still_read() {
        let r = split(b"a\"b,c\n\"x\"y,z\nok\n\"open");
        assert!(r[0].1.as_ref().unwrap_err().contains("unquoted"));
        assert!(
            r[1].1
                .as_ref()
                .unwrap_err()
                .contains("after a closing quote")
        );
        assert_eq!(r[2].1.as_ref().unwrap(), &[b"ok".to_vec()]);
        assert_eq!(r[3].0, 4);
        assert!(r[3].1.as_ref().unwrap_err().contains("never closed"));
    }
}
