//! Recursive ZIP walker with hard limits on depth, entry count, size and compression ratio.
//!
//! [`walk_zip`] lists every entry of a ZIP (and of ZIPs nested in it, OOXML documents included),
//! sniffs each readable entry's true type and reports encryption, macros and bombs. Nothing in
//! the archive is trusted: declared sizes are only reported, never used to size a buffer; each
//! entry is read through `Read::take(limit + 1)` in fixed chunks, so actual decompressed bytes are
//! what count towards the per-entry, total and ratio limits, and a bomb is noticed after at most
//! about 1 MiB of inflation. Memory stays bounded by `max_entry_size` per nesting level (a whole
//! entry is kept only when it must be walked or parsed: ZIP and OLE content; otherwise 64 KiB).
//! Corrupt input ends up in [`ArchiveReport::errors`], never in a panic.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Cursor, ErrorKind, Read, Seek, SeekFrom};
use std::rc::Rc;

use zip::ZipArchive;

use super::filetype::{ExtKind, FileKind, extension_kind, sniff};
use super::office::ole_has_vba;

const MIB: u64 = 1024 * 1024;
/// Entries smaller than this are never called bombs for their ratio alone.
const RATIO_FLOOR: u64 = MIB;
/// How much of an entry is kept for sniffing when the whole of it is not needed.
const HEAD_LEN: usize = 64 * 1024;
/// Read granularity; limits are checked after every chunk.
const CHUNK_LEN: usize = 64 * 1024;

/// Hard limits for [`walk_zip`]; the defaults suit mail attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Deepest nesting level walked; entries of the outer archive are at depth 1.
    pub max_depth: u32,
    /// Entries examined in total, across all nesting levels.
    pub max_entries: u32,
    /// Bytes decompressed in total, across all entries and levels.
    pub max_total_uncompressed: u64,
    /// Bytes decompressed from any one entry.
    pub max_entry_size: u64,
    /// Largest decompressed/compressed ratio allowed for an entry over 1 MiB.
    pub max_ratio: u32,
}

impl Default for ArchiveLimits {
    /// Depth 3, 1000 entries, 100 MiB in total, 25 MiB per entry, ratio 100.
    fn default() -> Self {
        Self {
            max_depth: 3,
            max_entries: 1000,
            max_total_uncompressed: 100 * MIB,
            max_entry_size: 25 * MIB,
            max_ratio: 100,
        }
    }
}

/// Why an archive was judged to be a decompression bomb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BombReason {
    /// An entry over 1 MiB inflated more than `max_ratio` times its compressed size.
    Ratio {
        /// Path of the entry.
        path: String,
        /// Decompressed bytes per compressed byte when the walk stopped.
        ratio: u64,
    },
    /// More than `max_total_uncompressed` bytes were decompressed in total.
    TotalSize {
        /// The limit that was exceeded.
        limit: u64,
    },
    /// An archive was nested deeper than `max_depth`.
    TooDeep {
        /// Path of the nested archive that was not opened.
        path: String,
    },
    /// A nested archive is byte-identical to an archive containing it (a zip quine).
    SelfSimilar {
        /// Path of the nested archive.
        path: String,
    },
}

impl fmt::Display for BombReason {
    /// One line a reviewer can read, e.g. `a.zip/zeros.bin inflates 1032:1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ratio { path, ratio } => write!(f, "{path} inflates {ratio}:1"),
            Self::TotalSize { limit } => write!(f, "more than {limit} bytes decompressed"),
            Self::TooDeep { path } => write!(f, "{path} is nested too deep"),
            Self::SelfSimilar { path } => write!(f, "{path} contains itself"),
        }
    }
}

/// Everything [`walk_zip`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveReport {
    /// Files found, parents before their children (directories are not listed).
    pub entries: Vec<ArchiveEntry>,
    /// Whether any entry is encrypted (ZipCrypto or AES).
    pub encrypted: bool,
    /// Set when the archive is a decompression bomb; the walk stopped there.
    pub bomb: Option<BombReason>,
    /// Whether a limit left content unexamined: the entry limit (the walk stopped) or the
    /// per-entry size limit (that entry was only partly read and not walked).
    pub truncated: bool,
    /// Corrupt, truncated or unsupported content, as `path: message`.
    pub errors: Vec<String>,
    /// Whether a VBA project was found: an entry named `vbaProject.bin` or an OLE entry with VBA.
    pub has_vba_project: bool,
    /// Whether the outer archive is an OOXML package (has a root `[Content_Types].xml`).
    pub is_ooxml: bool,
    /// Bytes actually decompressed during the walk.
    pub decompressed_total: u64,
}

/// One file inside the archive tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Path through the nesting, e.g. `inner.zip/evil.exe` (the outer archive is not named).
    pub path: String,
    /// Nesting level: 1 for entries of the outer archive.
    pub depth: u32,
    /// Uncompressed size declared by the central directory (untrusted).
    pub size: u64,
    /// Compressed size declared by the central directory (untrusted).
    pub compressed_size: u64,
    /// Bytes actually decompressed, when the entry was read (a lower bound if a limit stopped it).
    pub decompressed: Option<u64>,
    /// Whether the entry is encrypted; encrypted entries are not read.
    pub encrypted: bool,
    /// True type sniffed from the content; `Unknown` when it could not be read.
    pub kind: FileKind,
    /// What the entry's name claims.
    pub ext: ExtKind,
    /// Whether this entry is a VBA project (`vbaProject.bin`) or an OLE document holding one.
    pub has_vba: bool,
}

/// Walks a ZIP archive and the ZIPs nested in it within `limits`; never panics, never allocates
/// more than the limits allow, and stops at the first sign of a bomb.
pub fn walk_zip(data: &[u8], limits: &ArchiveLimits) -> ArchiveReport {
    let mut walker = Walker {
        limits,
        report: ArchiveReport::default(),
        seen: 0,
        halted: false,
    };
    let root = Frame {
        data,
        prefix: "",
        depth: 1,
        ancestors: &[],
    };
    walker.report.is_ooxml = walker.walk(&root);
    walker.report
}

/// One archive being walked and where it sits in the tree.
struct Frame<'a> {
    data: &'a [u8],
    prefix: &'a str,
    depth: u32,
    ancestors: &'a [&'a [u8]],
}

/// Content read from an entry.
#[derive(Default)]
struct Body {
    /// The whole entry if it may need walking or parsing, else its first bytes.
    bytes: Vec<u8>,
    /// Bytes actually decompressed.
    len: u64,
    /// Whether the entry was read to its end without hitting a limit or an error.
    complete: bool,
}

struct Walker<'l> {
    limits: &'l ArchiveLimits,
    report: ArchiveReport,
    seen: u32,
    halted: bool,
}

/// A cursor over an archive that counts the bytes the ZIP reader pulls from it, so an entry's
/// ratio compares inflated bytes with the compressed bytes actually consumed so far.
struct CountingCursor<'a> {
    inner: Cursor<&'a [u8]>,
    consumed: Rc<Cell<u64>>,
}

impl Read for CountingCursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed
            .set(self.consumed.get().saturating_add(n as u64));
        Ok(n)
    }
}

impl Seek for CountingCursor<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

type Archive<'a> = ZipArchive<CountingCursor<'a>>;

impl Walker<'_> {
    fn stopped(&self) -> bool {
        self.halted || self.report.bomb.is_some()
    }

    fn error(&mut self, path: &str, err: &dyn fmt::Display) {
        let path = if path.is_empty() { "archive" } else { path };
        self.report.errors.push(format!("{path}: {err}"));
    }

    /// Walks one archive; returns whether it is an OOXML package.
    fn walk(&mut self, frame: &Frame<'_>) -> bool {
        let consumed = Rc::new(Cell::new(0));
        let cursor = CountingCursor {
            inner: Cursor::new(frame.data),
            consumed: Rc::clone(&consumed),
        };
        let mut archive = match ZipArchive::new(cursor) {
            Ok(archive) => archive,
            Err(err) => {
                self.error(frame.prefix, &err);
                return false;
            }
        };
        let mut ooxml = false;
        for index in 0..archive.len() {
            if self.stopped() {
                break;
            }
            if self.seen >= self.limits.max_entries {
                self.report.truncated = true;
                self.halted = true;
                break;
            }
            self.seen += 1;
            ooxml |= self.visit(&mut archive, index, frame, &consumed);
        }
        ooxml
    }

    /// The central directory's view of an entry and its bare name; `None` for directories and
    /// unreadable records.
    fn listing(
        &mut self,
        archive: &Archive<'_>,
        index: usize,
        frame: &Frame<'_>,
    ) -> Option<(String, ArchiveEntry)> {
        let file = archive
            .by_index_data(index)
            .map_err(|err| self.error(frame.prefix, &err))
            .ok()?;
        if file.is_dir() {
            return None;
        }
        let name = file.name().map_or_else(
            |_| String::from_utf8_lossy(file.name_raw()).into_owned(),
            Cow::into_owned,
        );
        let path = match frame.prefix {
            "" => name.clone(),
            prefix => format!("{prefix}/{name}"),
        };
        let entry = ArchiveEntry {
            path,
            depth: frame.depth,
            size: file.size(),
            compressed_size: file.compressed_size(),
            decompressed: None,
            encrypted: file.encrypted(),
            kind: FileKind::Unknown,
            ext: extension_kind(&name),
            has_vba: is_vba_project_name(&name),
        };
        Some((name, entry))
    }

    /// Lists, reads and if needed descends into one entry; returns whether it is the root
    /// `[Content_Types].xml` of an OOXML package.
    fn visit(
        &mut self,
        archive: &mut Archive<'_>,
        index: usize,
        frame: &Frame<'_>,
        consumed: &Cell<u64>,
    ) -> bool {
        let Some((name, mut entry)) = self.listing(archive, index, frame) else {
            return false;
        };
        self.report.encrypted |= entry.encrypted;
        let body = if entry.encrypted {
            None
        } else {
            self.read(archive, index, &entry.path, consumed)
        };
        if let Some(body) = &body {
            entry.kind = sniff(&body.bytes);
            entry.decompressed = Some(body.len);
            entry.has_vba |=
                entry.kind == FileKind::Ole && body.complete && ole_has_vba(&body.bytes);
        }
        self.report.has_vba_project |= entry.has_vba;
        let nested = body.filter(|b| b.complete && entry.kind.is_zip() && !self.stopped());
        let path = entry.path.clone();
        self.report.entries.push(entry);
        if let Some(body) = nested {
            let position = self.report.entries.len() - 1;
            self.descend(&body.bytes, &path, frame, position);
        }
        name.eq_ignore_ascii_case("[Content_Types].xml")
    }

    /// Reads an entry in chunks, enforcing the size, total and ratio limits as it goes.
    fn read(
        &mut self,
        archive: &mut Archive<'_>,
        index: usize,
        path: &str,
        consumed: &Cell<u64>,
    ) -> Option<Body> {
        let start = consumed.get();
        let file = archive
            .by_index(index)
            .map_err(|err| self.error(path, &err))
            .ok()?;
        let budget = self
            .limits
            .max_total_uncompressed
            .saturating_sub(self.report.decompressed_total);
        let cap = self.limits.max_entry_size.min(budget);
        let mut reader = file.take(cap.saturating_add(1));
        let mut body = Body::default();
        let mut chunk = vec![0u8; CHUNK_LEN];
        let mut keep_all = true;
        loop {
            let n = match reader.read(&mut chunk) {
                Ok(0) => {
                    body.complete = true;
                    break;
                }
                Ok(n) => n,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    self.error(path, &err);
                    break;
                }
            };
            body.len = body.len.saturating_add(n as u64);
            if keep_all || body.bytes.len() < HEAD_LEN {
                body.bytes
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
            }
            if keep_all && body.bytes.len() >= HEAD_LEN {
                keep_all = needs_whole_body(sniff(&body.bytes));
            }
            let ratio = body.len / consumed.get().saturating_sub(start).max(1);
            if body.len > RATIO_FLOOR && ratio > u64::from(self.limits.max_ratio) {
                let path = path.to_owned();
                self.report.bomb = Some(BombReason::Ratio { path, ratio });
                break;
            }
        }
        self.account(&mut body, cap);
        Some(body)
    }

    /// Adds an entry's bytes to the total and judges an entry that went past its cap.
    fn account(&mut self, body: &mut Body, cap: u64) {
        self.report.decompressed_total = self.report.decompressed_total.saturating_add(body.len);
        if body.len <= cap {
            return;
        }
        body.complete = false;
        if cap < self.limits.max_entry_size {
            let limit = self.limits.max_total_uncompressed;
            self.report
                .bomb
                .get_or_insert(BombReason::TotalSize { limit });
        } else {
            self.report.truncated = true;
        }
    }

    /// Walks a nested archive, unless it is too deep or one of its own ancestors.
    fn descend(&mut self, bytes: &[u8], path: &str, parent: &Frame<'_>, position: usize) {
        let depth = parent.depth.saturating_add(1);
        let owned = path.to_owned();
        if depth > self.limits.max_depth {
            self.report.bomb = Some(BombReason::TooDeep { path: owned });
            return;
        }
        if is_self_similar(bytes, parent) {
            self.report.bomb = Some(BombReason::SelfSimilar { path: owned });
            return;
        }
        let mut ancestors = parent.ancestors.to_vec();
        ancestors.push(parent.data);
        let child = Frame {
            data: bytes,
            prefix: path,
            depth,
            ancestors: &ancestors,
        };
        if self.walk(&child)
            && let Some(entry) = self.report.entries.get_mut(position)
        {
            entry.kind = FileKind::Ooxml;
        }
    }
}

/// Whether the whole entry must be kept: ZIPs to walk, OLE files to search for VBA.
fn needs_whole_body(kind: FileKind) -> bool {
    kind.is_zip() || kind == FileKind::Ole
}

fn is_vba_project_name(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.eq_ignore_ascii_case("vbaProject.bin")
}

/// Whether `nested` is byte-identical to the archive holding it or to any archive above that.
fn is_self_similar(nested: &[u8], parent: &Frame<'_>) -> bool {
    nested == parent.data || parent.ancestors.contains(&nested)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::{Duration, Instant};

    use flate2::{Compress, Compression, Crc, FlushCompress};
    use zip::CompressionMethod;
    use zip::write::{SimpleFileOptions, ZipWriter};

    use super::super::office::ooxml_has_macros;
    use super::*;

    const STORED: u16 = 0;
    const DEFLATED: u16 = 8;

    /// One entry for [`raw_zip`], with every header field under the test's control.
    struct Raw<'a> {
        name: &'a str,
        method: u16,
        flags: u16,
        crc: u32,
        declared_size: u32,
        data: &'a [u8],
        extra: &'a [u8],
    }

    impl<'a> Raw<'a> {
        fn stored(name: &'a str, data: &'a [u8]) -> Self {
            let mut crc = Crc::new();
            crc.update(data);
            let len = data.len() as u32;
            Self {
                name,
                method: STORED,
                flags: 0,
                crc: crc.sum(),
                declared_size: len,
                data,
                extra: &[],
            }
        }
    }

    /// Hand-built ZIP: local headers, central directory, end record.
    fn raw_zip(entries: &[Raw<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for e in entries {
            let offset = out.len() as u32;
            let common = |buf: &mut Vec<u8>| {
                for v in [20u16, e.flags, e.method, 0, 0] {
                    buf.extend_from_slice(&v.to_le_bytes());
                }
                for v in [e.crc, e.data.len() as u32, e.declared_size] {
                    buf.extend_from_slice(&v.to_le_bytes());
                }
                buf.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
                buf.extend_from_slice(&(e.extra.len() as u16).to_le_bytes());
            };
            out.extend_from_slice(b"PK\x03\x04");
            common(&mut out);
            out.extend_from_slice(e.name.as_bytes());
            out.extend_from_slice(e.extra);
            out.extend_from_slice(e.data);
            central.extend_from_slice(b"PK\x01\x02\x14\x00");
            common(&mut central);
            central.extend_from_slice(&[0u8; 10]); // comment length, disk, internal and external attributes
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(e.name.as_bytes());
            central.extend_from_slice(e.extra);
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        let count = entries.len() as u16;
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    /// A ZIP written by the `zip` crate; `deflate` picks the method for every entry.
    fn zip_of(files: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
        let method = if deflate {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        let options = SimpleFileOptions::default().compression_method(method);
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in files {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// Raw deflate of `chunks` runs of `chunk_len` zeros, built by repeating one sync-flushed
    /// segment so that gigabytes of output cost only kilobytes of work.
    fn deflated_zeros(chunk_len: usize, chunks: usize) -> Vec<u8> {
        let zeros = vec![0u8; chunk_len];
        let mut compress = Compress::new(Compression::best(), false);
        let mut segment = |flush| {
            let mut out = Vec::with_capacity(chunk_len);
            let input: &[u8] = if flush == FlushCompress::Finish {
                &[]
            } else {
                &zeros
            };
            compress.compress_vec(input, &mut out, flush).unwrap();
            out
        };
        let first = segment(FlushCompress::Sync);
        let repeated = segment(FlushCompress::Sync);
        let last = segment(FlushCompress::Finish);
        let mut stream = first;
        for _ in 1..chunks {
            stream.extend_from_slice(&repeated);
        }
        stream.extend_from_slice(&last);
        stream
    }

    fn exe() -> Vec<u8> {
        let mut pe = vec![0u8; 0x100];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3C] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe
    }

    fn walk(data: &[u8]) -> ArchiveReport {
        walk_zip(data, &ArchiveLimits::default())
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn lists_and_sniffs_entries() {
        let data = zip_of(
            &[("docs/readme.txt", b"hello\n"), ("invoice.pdf.exe", &exe())],
            true,
        );
        let report = walk(&data);
        assert_eq!(report.errors, Vec::<String>::new());
        assert_eq!(report.entries.len(), 2);
        let e = &report.entries[1];
        assert_eq!(
            (e.path.as_str(), e.depth, e.kind, e.ext),
            (
                "invoice.pdf.exe",
                1,
                FileKind::PeExecutable,
                ExtKind::Executable
            )
        );
        assert_eq!(e.decompressed, Some(0x100));
        assert_eq!(report.entries[0].kind, FileKind::Text);
        assert!(
            !report.encrypted && !report.truncated && report.bomb.is_none() && !report.is_ooxml
        );
    }

    #[test]
    fn nested_exe_found_at_depth_two() {
        let inner = zip_of(&[("evil.exe", &exe())], true);
        let outer = zip_of(
            &[("note.txt", b"see attached"), ("inner.zip", &inner)],
            false,
        );
        let report = walk(&outer);
        let paths: Vec<_> = report
            .entries
            .iter()
            .map(|e| (e.path.as_str(), e.depth, e.kind))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("note.txt", 1, FileKind::Text),
                ("inner.zip", 1, FileKind::Zip),
                ("inner.zip/evil.exe", 2, FileKind::PeExecutable)
            ]
        );
        assert!(report.bomb.is_none() && report.errors.is_empty());
    }

    #[test]
    fn encrypted_entries_listed_not_read() {
        // ZipCrypto: bit 0 set, 12-byte encryption header then ciphertext.
        let zipcrypto = Raw {
            name: "secret.exe",
            method: DEFLATED,
            flags: 1,
            crc: 0x1234_5678,
            declared_size: 4096,
            data: &[0xA5; 40],
            extra: &[],
        };
        // WinZip AES: method 99 with the 0x9901 extra field (AE-2, "AE", AES-256, deflate).
        let aes_extra = [0x01, 0x99, 7, 0, 2, 0, b'A', b'E', 3, 8, 0];
        let aes = Raw {
            name: "secret.js",
            method: 99,
            flags: 1,
            crc: 0,
            declared_size: 100,
            data: &[0x5A; 60],
            extra: &aes_extra,
        };
        let data = raw_zip(&[zipcrypto, aes, Raw::stored("readme.txt", b"password: 1234")]);
        let report = walk(&data);
        assert!(report.encrypted);
        let flags: Vec<_> = report
            .entries
            .iter()
            .map(|e| (e.path.as_str(), e.encrypted, e.decompressed, e.ext))
            .collect();
        assert_eq!(
            flags,
            vec![
                ("secret.exe", true, None, ExtKind::Executable),
                ("secret.js", true, None, ExtKind::Script),
                ("readme.txt", false, Some(14), ExtKind::Text)
            ]
        );
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    #[test]
    fn lying_header_bomb_stops_early() {
        // ~10 KB of deflate that inflates to 10 MiB, while the header claims 2 GiB.
        let stream = deflated_zeros(1 << 20, 10);
        assert!(stream.len() < 20_000, "{}", stream.len());
        let entry = Raw {
            name: "zeros.bin",
            method: DEFLATED,
            flags: 0,
            crc: 0,
            declared_size: 1 << 31,
            data: &stream,
            extra: &[],
        };
        let data = raw_zip(&[entry]);
        let started = Instant::now();
        let report = walk(&data);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            matches!(report.bomb, Some(BombReason::Ratio { .. })),
            "{report:?}"
        );
        assert!(report.decompressed_total < 4 * MIB);
        assert_eq!(report.entries[0].size, 1 << 31);
    }

    #[test]
    fn two_gib_bomb_is_bounded() {
        // A real 2 GiB zero run: the stream really inflates that far if anyone lets it.
        let stream = deflated_zeros(1 << 20, 2048);
        let entry = Raw {
            name: "a/b/zeros.img",
            method: DEFLATED,
            flags: 0,
            crc: 0,
            declared_size: 1 << 31,
            data: &stream,
            extra: &[],
        };
        let data = raw_zip(&[entry, Raw::stored("after.exe", &exe())]);
        let started = Instant::now();
        let report = walk(&data);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            matches!(&report.bomb, Some(BombReason::Ratio { path, .. }) if path == "a/b/zeros.img")
        );
        assert!(report.decompressed_total < 2 * MIB);
        assert_eq!(report.entries.len(), 1, "walk stops at the bomb");
    }

    #[test]
    fn total_size_cap_is_a_bomb() {
        let chunk = vec![7u8; 900 * 1024];
        let mut crc = Crc::new();
        crc.update(&chunk);
        let mut compress = Compress::new(Compression::fast(), false);
        let mut deflated = Vec::with_capacity(chunk.len());
        compress
            .compress_vec(&chunk, &mut deflated, FlushCompress::Finish)
            .unwrap();
        let names: Vec<String> = (0..10).map(|i| format!("part{i}.bin")).collect();
        let entries: Vec<Raw<'_>> = names
            .iter()
            .map(|name| Raw {
                name,
                method: DEFLATED,
                flags: 0,
                crc: crc.sum(),
                declared_size: chunk.len() as u32,
                data: &deflated,
                extra: &[],
            })
            .collect();
        let limits = ArchiveLimits {
            max_total_uncompressed: 4 * MIB,
            ..ArchiveLimits::default()
        };
        let report = walk_zip(&raw_zip(&entries), &limits);
        assert_eq!(report.bomb, Some(BombReason::TotalSize { limit: 4 * MIB }));
        assert!(report.decompressed_total <= 4 * MIB + 1);
        assert!(report.entries.len() <= 5);
    }

    #[test]
    fn oversized_entry_is_truncated_and_walk_goes_on() {
        let mut state = 42u64;
        let noise: Vec<u8> = (0..100_000).map(|_| xorshift(&mut state) as u8).collect();
        let data = zip_of(&[("big.bin", &noise), ("run.exe", &exe())], false);
        let limits = ArchiveLimits {
            max_entry_size: 64 * 1024,
            ..ArchiveLimits::default()
        };
        let report = walk_zip(&data, &limits);
        assert!(report.truncated && report.bomb.is_none());
        assert_eq!(report.entries[0].decompressed, Some(64 * 1024 + 1));
        assert_eq!(report.entries[1].kind, FileKind::PeExecutable);
    }

    #[test]
    fn thousand_level_nesting_stops_at_max_depth() {
        let mut data = zip_of(&[("core.exe", &exe())], false);
        for _ in 0..1000 {
            data = zip_of(&[("n.zip", &data)], false);
        }
        let started = Instant::now();
        let report = walk(&data);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            report.bomb,
            Some(BombReason::TooDeep {
                path: "n.zip/n.zip/n.zip".into()
            })
        );
        assert_eq!(report.entries.len(), 3);
        assert_eq!(report.entries.iter().map(|e| e.depth).max(), Some(3));
    }

    #[test]
    fn self_similar_nesting_detected() {
        let outer = zip_of(&[("x.txt", b"x")], false);
        let middle = zip_of(&[("y.txt", b"y")], false);
        let ancestors: [&[u8]; 1] = [&outer];
        let frame = Frame {
            data: &middle,
            prefix: "m.zip",
            depth: 2,
            ancestors: &ancestors,
        };
        assert!(is_self_similar(&outer, &frame));
        assert!(is_self_similar(&middle, &frame));
        assert!(!is_self_similar(b"PK\x05\x06", &frame));
    }

    #[test]
    fn entry_limit_truncates_across_levels() {
        let names: Vec<String> = (0..20).map(|i| format!("f{i}.txt")).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let inner = zip_of(&files, false);
        let outer = zip_of(&[("a.txt", b"a"), ("in.zip", &inner)], false);
        let limits = ArchiveLimits {
            max_entries: 10,
            ..ArchiveLimits::default()
        };
        let report = walk_zip(&outer, &limits);
        assert!(report.truncated);
        assert_eq!(report.entries.len(), 10);
    }

    fn ole_with_vba() -> Vec<u8> {
        let mut data = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
        data.resize(512, 0);
        let mut entry = vec![0u8; 128];
        for (i, u) in "VBA".encode_utf16().enumerate() {
            entry[i * 2..i * 2 + 2].copy_from_slice(&u.to_le_bytes());
        }
        entry[0x40] = 8;
        entry[0x42] = 1;
        data.extend(entry);
        data.resize(1024, 0);
        data
    }

    #[test]
    fn vba_projects_found() {
        let docm = zip_of(
            &[
                ("[Content_Types].xml", b"<Types/>"),
                ("word/document.xml", b"<w/>"),
                ("word/vbaProject.bin", b"not even ole"),
            ],
            true,
        );
        let report = walk(&docm);
        assert!(report.is_ooxml && report.has_vba_project && ooxml_has_macros(&report));

        let renamed = zip_of(
            &[
                ("[Content_Types].xml", b"<Types/>"),
                ("word/harmless.dat", &ole_with_vba()),
            ],
            true,
        );
        let report = walk(&renamed);
        assert!(
            report.has_vba_project
                && report.entries[1].has_vba
                && report.entries[1].kind == FileKind::Ole
        );

        let docx = zip_of(
            &[
                ("[Content_Types].xml", b"<Types/>"),
                ("word/document.xml", b"<w/>"),
            ],
            true,
        );
        let outer = zip_of(
            &[("report.docx", &docx), ("old.doc", &ole_with_vba())],
            false,
        );
        let report = walk(&outer);
        assert!(!report.is_ooxml);
        assert_eq!(report.entries[0].kind, FileKind::Ooxml);
        assert!(
            report.has_vba_project
                && report
                    .entries
                    .iter()
                    .any(|e| e.path == "old.doc" && e.has_vba)
        );
        assert!(!walk(&docx).has_vba_project);
    }

    #[test]
    fn unsupported_method_listed_with_error() {
        let mut e = Raw::stored("packed.exe", b"BZh91AY&SY");
        e.method = 12; // bzip2, not compiled in
        let report = walk(&raw_zip(&[e]));
        assert_eq!(report.entries.len(), 1);
        assert_eq!(report.entries[0].kind, FileKind::Unknown);
        assert_eq!(report.entries[0].ext, ExtKind::Executable);
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    }

    #[test]
    fn corrupt_archives_give_errors() {
        let valid = zip_of(&[("a.txt", b"hello hello hello")], true);
        let mut bad_crc = raw_zip(&[Raw::stored("a.txt", b"hello")]);
        let at = bad_crc.windows(5).position(|w| w == b"hello").unwrap();
        bad_crc[at] = b'j';
        for data in [
            b"PK\x03\x04garbage".to_vec(),
            valid[..valid.len() / 2].to_vec(),
            bad_crc,
            Vec::new(),
        ] {
            let report = walk(&data);
            assert!(!report.errors.is_empty(), "{report:?}");
        }
    }

    #[test]
    fn fuzz_never_panics() {
        let nested = zip_of(&[("c.exe", &exe())], true);
        let valid = zip_of(&[("a.txt", b"hello hello"), ("b.zip", &nested)], true);
        let limits = ArchiveLimits::default();
        // Every truncation of a valid archive with a nested one.
        for len in 0..=valid.len() {
            let report = walk_zip(&valid[..len], &limits);
            assert!(len == valid.len() || report.entries.len() < 3 || !report.errors.is_empty());
        }
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        // 2,000 random byte strings, half of them starting like a ZIP.
        for i in 0..2000 {
            let len = (xorshift(&mut state) % 512) as usize;
            let mut data: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
            if i % 2 == 0 {
                data.splice(..0, *b"PK\x03\x04");
            }
            let _ = walk_zip(&data, &limits);
        }
        // 2,000 valid archives with 1 to 8 bytes overwritten at random.
        for _ in 0..2000 {
            let mut data = valid.clone();
            for _ in 0..1 + xorshift(&mut state) % 8 {
                let at = (xorshift(&mut state) % data.len() as u64) as usize;
                data[at] = xorshift(&mut state) as u8;
            }
            let report = walk_zip(&data, &limits);
            assert!(report.decompressed_total <= limits.max_total_uncompressed + 1);
        }
    }

    #[test]
    fn bomb_reasons_display() {
        let r = BombReason::Ratio {
            path: "a.zip/z".into(),
            ratio: 1032,
        };
        assert_eq!(r.to_string(), "a.zip/z inflates 1032:1");
        assert_eq!(
            BombReason::TooDeep { path: "p".into() }.to_string(),
            "p is nested too deep"
        );
    }
}
