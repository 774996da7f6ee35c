//! Quarantine review shared by the HTTP API and the `spearguard quarantine` command: what a
//! held message looks like in a listing and in detail, and release / delete on the spool.
//!
//! These functions do blocking spool I/O: async callers run them in `spawn_blocking`.

use serde::Serialize;
use sg_spool::{QueueEntry, QueueId, Spool, SpoolError};

/// Most header fields shown in a [`Detail`]; the raw message has them all.
const MAX_HEADERS: usize = 500;
/// Longest header value shown in a [`Detail`], in characters.
const MAX_HEADER_VALUE: usize = 4096;

/// One quarantined message in a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Queue id (20 hex digits).
    pub id: String,
    /// Arrival, Unix seconds.
    pub received_at: u64,
    /// Envelope sender (`None` for the null sender `<>`).
    pub mail_from: Option<String>,
    /// Envelope recipients.
    pub rcpt_to: Vec<String>,
    /// Size of the stored message in bytes.
    pub size: u64,
    /// The verdict when it was held (`quarantine`), if recorded.
    pub verdict: Option<String>,
    /// Its score, if recorded.
    pub score: Option<f64>,
    /// The signals that fired: `{name, score, detail}` objects as stored.
    pub signals: Vec<serde_json::Value>,
}

impl Summary {
    /// Builds the summary of a spool entry (its stored verdict JSON, if readable).
    pub fn from_entry(e: &QueueEntry) -> Summary {
        let verdict: serde_json::Value = e
            .meta
            .verdict
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default();
        Summary {
            id: e.id.to_string(),
            received_at: e.meta.received_at,
            mail_from: e.meta.mail_from.clone(),
            rcpt_to: e.meta.rcpt_to.clone(),
            size: e.body_len,
            verdict: verdict["verdict"].as_str().map(str::to_owned),
            score: verdict["score"].as_f64(),
            signals: verdict["signals"].as_array().cloned().unwrap_or_default(),
        }
    }
}

/// One header field of a held message (unfolded, lossily decoded as UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderField {
    /// Field name as written.
    pub name: String,
    /// Raw value, unfolded, without the leading space.
    pub value: String,
}

/// One quarantined message in detail: the summary plus its subject and headers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    /// Everything the listing shows.
    #[serde(flatten)]
    pub summary: Summary,
    /// The decoded Subject (RFC 2047 words decoded), if any.
    pub subject: Option<String>,
    /// The header fields in order (at most 500).
    pub headers: Vec<HeaderField>,
}

/// The quarantine in id (arrival) order. Unreadable files are moved aside by the spool and
/// logged here.
pub fn list(spool: &Spool) -> Result<Vec<Summary>, SpoolError> {
    let listing = spool.quarantined()?;
    for c in &listing.corrupt {
        tracing::warn!(file = %c.path.display(), defect = %c.defect, "corrupt quarantine file moved aside");
    }
    Ok(listing.entries.iter().map(Summary::from_entry).collect())
}

/// One held message: its detail and the raw bytes as stored.
pub fn show(spool: &Spool, id: QueueId) -> Result<(Detail, Vec<u8>), SpoolError> {
    let m = spool.read_quarantined(id)?;
    let subject = mail_parser::MessageParser::new()
        .parse_headers(&m.body[..])
        .and_then(|p| p.subject().map(str::to_owned));
    let detail = Detail {
        summary: Summary::from_entry(&m.entry),
        subject,
        headers: header_fields(&m.body),
    };
    Ok((detail, m.body))
}

/// Moves a held message back to the queue (once: a second release is
/// [`SpoolError::NotFound`]) and hands its id to `wake`, which starts its delivery.
pub fn release(spool: &Spool, id: QueueId, wake: impl FnOnce(QueueId)) -> Result<(), SpoolError> {
    spool.release(id)?;
    tracing::info!(queue_id = %id, "released from quarantine");
    wake(id);
    Ok(())
}

/// Deletes a held message for good.
pub fn delete(spool: &Spool, id: QueueId) -> Result<(), SpoolError> {
    spool.delete(id)?;
    tracing::info!(queue_id = %id, "deleted from quarantine");
    Ok(())
}

/// The header block's fields, unfolded, up to the first empty line.
fn header_fields(message: &[u8]) -> Vec<HeaderField> {
    let mut fields: Vec<HeaderField> = Vec::new();
    for raw in message.split(|&b| b == b'\n') {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(last) = fields.last_mut()
                && last.value.len() < MAX_HEADER_VALUE
            {
                last.value.push(' ');
                last.value.push_str(text.trim());
                truncate(&mut last.value);
            }
            continue;
        }
        if fields.len() == MAX_HEADERS {
            break;
        }
        let (name, value) = text.split_once(':').unwrap_or((&text, ""));
        let mut value = value.trim().to_owned();
        truncate(&mut value);
        fields.push(HeaderField {
            name: name.trim().to_owned(),
            value,
        });
    }
    fields
}

fn truncate(s: &mut String) {
    if s.len() > MAX_HEADER_VALUE {
        let mut end = MAX_HEADER_VALUE;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_unfolded_and_stop_at_the_body() {
        let m =
            b"Received: from a\r\n\tby b; date\r\nSubject: Hi\r\nX-Odd\r\n\r\nNot: a header\r\n";
        let h = header_fields(m);
        assert_eq!(
            h.iter()
                .map(|f| (f.name.as_str(), f.value.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("Received", "from a by b; date"),
                ("Subject", "Hi"),
                ("X-Odd", "")
            ]
        );
    }

    #[test]
    fn huge_header_values_are_cut_on_a_char_boundary() {
        let mut m = b"Subject: ".to_vec();
        m.extend("あ".repeat(3000).as_bytes());
        m.extend_from_slice(b"\r\n\r\n");
        let h = header_fields(&m);
        assert!(h[0].value.len() <= MAX_HEADER_VALUE);
        assert!(h[0].value.ends_with('あ'));
    }
}
