//! The on-disk format of one spool file: the message and everything known about it, in one
//! file, so that a rename moves (or replaces) all of it atomically.
//!
//! ```text
//! offset 0   8 bytes   magic "SGSPOOL1" (the digit is the format version)
//! offset 8   4 bytes   header length H, little-endian u32
//! offset 12  H bytes   header: UTF-8 JSON {id, meta, state, body_len, body_xxh3}
//! offset 12+H          the raw message, exactly body_len bytes, nothing after it
//! ```
//!
//! JSON keeps the header readable with `head -c 2000 FILE` during an incident, and
//! `#[serde(default)]` lets a later version add fields that this one still reads. The body
//! checksum (XXH3-64) catches bit rot and stray writes; the exact length catches truncation.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::{Defect, QueueId};

/// The magic that opens every spool file of this format version.
pub(crate) const MAGIC: &[u8; 8] = b"SGSPOOL1";
/// Bytes before the header: magic and header length.
const PREFIX: u64 = 12;
/// Larger headers are refused as corrupt (a header holds addresses and short texts only).
const MAX_HEADER: u64 = 64 << 20;

/// What the transport knew about a message when it was accepted, plus the verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Metadata {
    /// Reverse-path of MAIL FROM; `Some("")` for the null sender `<>`, `None` when unknown.
    pub mail_from: Option<String>,
    /// Forward-paths of RCPT TO, in the order given.
    pub rcpt_to: Vec<String>,
    /// When the message was accepted, in Unix seconds.
    pub received_at: u64,
    /// Address of the connecting client, when known.
    pub peer_ip: Option<IpAddr>,
    /// Name the client gave in HELO/EHLO.
    pub helo: Option<String>,
    /// The verdict as a JSON document, free-form for the caller; replaced by [`quarantine`].
    ///
    /// [`quarantine`]: crate::Spool::quarantine
    pub verdict: Option<String>,
}

/// Delivery bookkeeping, rewritten by [`record_attempt`](crate::Spool::record_attempt).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryState {
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// Unix seconds before which the worker should not try again (0: at once).
    pub next_attempt_at: u64,
    /// The error of the last failed attempt, as the worker wants to show it.
    pub last_error: Option<String>,
    /// Recipients the next hop has already accepted: never deliver to them again.
    pub delivered: Vec<String>,
    /// Recipients that failed for good (a 5xx, or the queue lifetime ran out) and whose
    /// sender has been told, unless it was the null sender: never try them again.
    pub failed: Vec<String>,
}

impl DeliveryState {
    /// Whether `rcpt` still waits for delivery (neither delivered nor failed for good).
    pub fn is_pending(&self, rcpt: &str) -> bool {
        !self.delivered.iter().any(|r| r == rcpt) && !self.failed.iter().any(|r| r == rcpt)
    }
}

/// What one delivery attempt changed, for [`Spool::record`](crate::Spool::record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// Unix seconds before which the worker should not try again.
    pub next_attempt_at: u64,
    /// The error to show for this attempt.
    pub last_error: &'a str,
    /// Recipients the next hop accepted this time.
    pub delivered: &'a [String],
    /// Recipients that failed for good this time (already bounced, if a bounce was due).
    pub failed: &'a [String],
}

/// The JSON header of a spool file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) id: QueueId,
    #[serde(default)]
    pub(crate) meta: Metadata,
    #[serde(default)]
    pub(crate) state: DeliveryState,
    pub(crate) body_len: u64,
    /// XXH3-64 of the body.
    pub(crate) body_xxh3: u64,
}

impl Header {
    pub(crate) fn new(id: QueueId, meta: Metadata, body: &[u8]) -> Header {
        Header {
            id,
            meta,
            state: DeliveryState::default(),
            body_len: body.len() as u64,
            body_xxh3: xxh3_64(body),
        }
    }

    /// The magic, the length and the JSON: everything that precedes the body.
    pub(crate) fn encode(&self) -> io::Result<Vec<u8>> {
        let json = serde_json::to_vec(self).map_err(io::Error::other)?;
        let len = u32::try_from(json.len())
            .ok()
            .filter(|&l| u64::from(l) <= MAX_HEADER)
            .ok_or_else(|| {
                io::Error::other(format!("header of {} bytes is too long", json.len()))
            })?;
        let mut out = Vec::with_capacity(json.len() + PREFIX as usize);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&json);
        Ok(out)
    }
}

/// A read failure: the I/O itself failed, or the bytes are wrong.
#[derive(Debug)]
pub(crate) enum LoadError {
    Io(io::Error),
    Defect(Defect),
}

impl From<io::Error> for LoadError {
    fn from(e: io::Error) -> Self {
        LoadError::Io(e)
    }
}

/// Reads and checks the header of an open spool file, leaving the file positioned at the body.
pub(crate) fn read_header(file: &mut File, name: QueueId) -> Result<Header, LoadError> {
    let actual = file.metadata()?.len();
    let mut prefix = [0u8; PREFIX as usize];
    if let Err(e) = file.read_exact(&mut prefix) {
        return Err(match e.kind() {
            io::ErrorKind::UnexpectedEof => LoadError::Defect(Defect::Length {
                expected: PREFIX,
                actual,
            }),
            _ => LoadError::Io(e),
        });
    }
    if &prefix[..8] != MAGIC {
        return Err(LoadError::Defect(Defect::BadMagic(prefix[..8].to_vec())));
    }
    let header_len = u64::from(u32::from_le_bytes([
        prefix[8], prefix[9], prefix[10], prefix[11],
    ]));
    if header_len > MAX_HEADER {
        return Err(LoadError::Defect(Defect::HeaderTooLong(header_len)));
    }
    if PREFIX + header_len > actual {
        return Err(LoadError::Defect(Defect::Length {
            expected: PREFIX + header_len,
            actual,
        }));
    }
    let mut json = vec![0u8; header_len as usize];
    file.read_exact(&mut json)?;
    let header: Header = serde_json::from_slice(&json)
        .map_err(|e| LoadError::Defect(Defect::Header(e.to_string())))?;
    if header.id != name {
        return Err(LoadError::Defect(Defect::IdMismatch {
            name,
            inside: header.id,
        }));
    }
    let expected = PREFIX + header_len + header.body_len;
    if expected != actual {
        return Err(LoadError::Defect(Defect::Length { expected, actual }));
    }
    Ok(header)
}

/// Reads the body that follows a header read by [`read_header`] and checks its checksum.
pub(crate) fn read_body(file: &mut File, header: &Header) -> Result<Vec<u8>, LoadError> {
    let mut body = Vec::with_capacity(usize::try_from(header.body_len).unwrap_or(0));
    file.take(header.body_len).read_to_end(&mut body)?;
    if body.len() as u64 != header.body_len {
        return Err(LoadError::Defect(Defect::Length {
            expected: header.body_len,
            actual: body.len() as u64,
        }));
    }
    let actual = xxh3_64(&body);
    if actual != header.body_xxh3 {
        return Err(LoadError::Defect(Defect::Checksum {
            expected: header.body_xxh3,
            actual,
        }));
    }
    Ok(body)
}

/// Writes a new file: header then body.
pub(crate) fn write_new(out: &mut File, header: &Header, body: &[u8]) -> io::Result<()> {
    out.write_all(&header.encode()?)?;
    out.write_all(body)
}

/// Writes a file with a new header and the body of `from`, which must be positioned at its body
/// (as [`read_header`] leaves it). The body is copied by the kernel where it can
/// (`copy_file_range` on Linux), without passing through memory.
pub(crate) fn write_rewritten(out: &mut File, header: &Header, from: &mut File) -> io::Result<()> {
    out.write_all(&header.encode()?)?;
    let copied = io::copy(&mut from.take(header.body_len), out)?;
    if copied != header.body_len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("body ended after {copied} of {} bytes", header.body_len),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom};

    use super::*;

    fn sample() -> (Header, Vec<u8>) {
        let meta = Metadata {
            mail_from: Some("alice@example.org".into()),
            rcpt_to: vec!["bob@example.net".into()],
            received_at: 1_767_225_600,
            peer_ip: Some("192.0.2.7".parse().unwrap()),
            helo: Some("mail.example.org".into()),
            verdict: Some(r#"{"action":"deliver"}"#.into()),
        };
        let body = b"Subject: hi\r\n\r\nhello\r\n".to_vec();
        let id = QueueId::parse("0000018f0000000a1b2c").unwrap();
        (Header::new(id, meta, &body), body)
    }

    fn written(header: &Header, body: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        write_new(&mut f, header, body).unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f
    }

    #[test]
    fn header_and_body_round_trip() {
        let (h, body) = sample();
        let mut f = written(&h, &body);
        let back = read_header(&mut f, h.id).unwrap();
        assert_eq!(back.meta, h.meta);
        assert_eq!(read_body(&mut f, &back).unwrap(), body);
    }

    #[test]
    fn truncated_file_is_a_length_defect() {
        let (h, body) = sample();
        let f = written(&h, &body);
        let len = f.metadata().unwrap().len();
        f.set_len(len - 1).unwrap();
        let mut f = f;
        assert!(matches!(
            read_header(&mut f, h.id),
            Err(LoadError::Defect(Defect::Length { .. }))
        ));
    }

    #[test]
    fn flipped_body_byte_is_a_checksum_defect() {
        let (h, mut body) = sample();
        body[3] ^= 1;
        let mut f = written(&h, &body);
        let back = read_header(&mut f, h.id).unwrap();
        assert!(matches!(
            read_body(&mut f, &back),
            Err(LoadError::Defect(Defect::Checksum { .. }))
        ));
    }

    #[test]
    fn foreign_file_is_a_magic_defect() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"From: someone\r\n\r\nnot a spool file")
            .unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        let id = QueueId::parse("0000018f0000000a1b2c").unwrap();
        assert!(matches!(
            read_header(&mut f, id),
            Err(LoadError::Defect(Defect::BadMagic(_)))
        ));
    }

    #[test]
    fn file_under_another_name_is_an_id_defect() {
        let (h, body) = sample();
        let mut f = written(&h, &body);
        let other = QueueId::parse("0000018f0000000b1b2c").unwrap();
        assert!(matches!(
            read_header(&mut f, other),
            Err(LoadError::Defect(Defect::IdMismatch { .. }))
        ));
    }
}
