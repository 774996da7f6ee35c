//! Turns the paths given to `spearguard scan` into a stream of raw messages.
//!
//! Scanning happens in two steps. [`discover`] expands the command-line paths into the list of
//! files to read, without reading any message, so that a caller knows the total (files and bytes)
//! before it starts: a plain file is one source; a directory is walked recursively in path order,
//! skipping hidden entries and never following a symlink to a directory; a Maildir (a directory
//! with `cur/`, `new/` and `tmp/`) contributes the files of `cur/` and `new/`. [`read`] then turns
//! one source into its messages: an `.eml` file is one message, a file that starts with an mbox
//! envelope line (`From sender date`) is either one message with that line stripped (the way the
//! SpamAssassin corpus stores them) or, when more envelope lines carrying a time and followed by a
//! header line come later, an mbox split into messages labelled `path#1`, `path#2`, and so on. An
//! mbox is streamed line by line, so only one message at a time is held in memory, and nothing
//! larger than the size limit ever is. Problems are reported as [`InputError`] items and never
//! stop the other inputs.

use std::error::Error;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};
use std::path::{Path, PathBuf};

/// How many bytes are read up front to tell an mbox from a plain message.
const HEAD_LEN: u64 = 1024;

/// One raw message and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawMessage {
    /// The file path, or `path#N` for the Nth (1-based) message of an mbox.
    pub(crate) source: String,
    /// The message as stored, minus any mbox envelope line (and, in an mbox, `>From ` quoting).
    pub(crate) bytes: Vec<u8>,
}

/// Why an input could not be turned into a message.
#[derive(Debug)]
pub(crate) enum InputErrorKind {
    /// The path could not be listed, opened or read.
    Io(io::Error),
    /// The message is bigger than the limit, so it was skipped without being kept in memory.
    TooLarge {
        /// Size of the message in bytes (at least `limit + 1` when it cannot be known up front).
        size: u64,
        /// The limit it exceeds, in bytes.
        limit: u64,
    },
    /// The file holds nothing but whitespace.
    Empty,
}

impl fmt::Display for InputErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => e.fmt(f),
            Self::TooLarge { size, limit } => {
                write!(f, "message too large ({size} bytes > {limit} byte limit)")
            }
            Self::Empty => f.write_str("empty message"),
        }
    }
}

/// A path or message that could not be read; reported, never fatal for the other inputs.
#[derive(Debug)]
pub(crate) struct InputError {
    /// The path (or `path#N` inside an mbox) the problem is about.
    pub(crate) source: String,
    /// What went wrong.
    pub(crate) kind: InputErrorKind,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.kind)
    }
}

// No `source()`: the message already includes the I/O error, and `{:#}` would repeat it.
impl Error for InputError {}

/// One item of scan input: a message to analyse, or a problem to report.
#[derive(Debug)]
pub(crate) enum Input {
    /// A message, ready for the parser.
    Message(RawMessage),
    /// Something that could not be read.
    Error(InputError),
}

/// A file found by [`discover`], not read yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    path: PathBuf,
    label: String,
    size: u64,
    maildir: bool,
}

impl Source {
    fn found(path: PathBuf, size: u64, maildir: bool) -> Self {
        let label = path.to_string_lossy().into_owned();
        Self {
            path,
            label,
            size,
            maildir,
        }
    }

    /// The path of the file.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file in bytes when it was discovered (0 if unknown), for progress reporting.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

/// Expands command-line paths into the files to read, in a deterministic order.
///
/// A path named explicitly is used even if it is hidden or a symlink; inside directories, hidden
/// entries, symlinks to directories and special files are skipped, and entries are visited in
/// sorted order (depth first). Paths that cannot be read are returned as errors.
pub(crate) fn discover<P: AsRef<Path>>(paths: &[P]) -> (Vec<Source>, Vec<InputError>) {
    let mut found = Found::default();
    for path in paths {
        let path = path.as_ref();
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => found.dir(path),
            Ok(meta) => found
                .sources
                .push(Source::found(path.to_path_buf(), meta.len(), false)),
            Err(e) => found.error(path, e),
        }
    }
    (found.sources, found.errors)
}

#[derive(Default)]
struct Found {
    sources: Vec<Source>,
    errors: Vec<InputError>,
}

impl Found {
    fn error(&mut self, path: &Path, error: io::Error) {
        let source = path.to_string_lossy().into_owned();
        self.errors.push(InputError {
            source,
            kind: InputErrorKind::Io(error),
        });
    }

    /// Walks a directory below an explicitly named one; of a Maildir, only `cur/` and `new/`.
    fn dir(&mut self, dir: &Path) {
        let maildir = is_maildir(dir);
        let dirs = if maildir {
            vec![dir.join("cur"), dir.join("new")]
        } else {
            vec![dir.into()]
        };
        for dir in dirs {
            for (path, is_dir) in self.list(&dir) {
                if !is_dir {
                    self.file(path, maildir);
                } else if !maildir {
                    self.dir(&path);
                }
            }
        }
    }

    /// Adds a regular file, or a symlink to one; skips symlinks to directories and special files.
    fn file(&mut self, path: PathBuf, maildir: bool) {
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                self.sources.push(Source::found(path, meta.len(), maildir))
            }
            Ok(_) => {}
            Err(e) => self.error(&path, e),
        }
    }

    /// Lists a directory's non-hidden entries sorted by name, with whether each is a directory
    /// (a symlink is not). A listing error is recorded, keeping the entries read before it.
    fn list(&mut self, dir: &Path) -> Vec<(PathBuf, bool)> {
        let mut entries = Vec::new();
        let listed = fs::read_dir(dir).and_then(|listing| {
            for entry in listing {
                let entry = entry?;
                if entry.file_name().as_encoded_bytes().first() != Some(&b'.') {
                    entries.push((entry.path(), entry.file_type()?.is_dir()));
                }
            }
            Ok(())
        });
        if let Err(e) = listed {
            self.error(dir, e);
        }
        entries.sort();
        entries
    }
}

fn is_maildir(dir: &Path) -> bool {
    ["cur", "new", "tmp"]
        .iter()
        .all(|sub| dir.join(sub).is_dir())
}

/// Reads one discovered source: a single message, or the messages of an mbox one at a time.
pub(crate) fn read(source: &Source, max_message_size: usize) -> Messages<File> {
    let label = source.label.clone();
    let limit = u64::try_from(max_message_size).unwrap_or(u64::MAX);
    match File::open(&source.path) {
        // A regular file's size is known: an oversized plain message is skipped unread.
        Ok(file) => {
            let size = file
                .metadata()
                .ok()
                .filter(fs::Metadata::is_file)
                .map(|m| m.len());
            Messages::new(label, file, size, limit, source.maildir)
        }
        Err(e) => Messages::ready(label, limit, Err(InputErrorKind::Io(e))),
    }
}

/// Reads messages from any byte stream (such as standard input), labelled with `source`.
pub(crate) fn read_from<R: Read>(
    source: String,
    reader: R,
    max_message_size: usize,
) -> Messages<R> {
    let limit = u64::try_from(max_message_size).unwrap_or(u64::MAX);
    Messages::new(source, reader, None, limit, false)
}

/// Strips one leading mbox envelope line (`From sender date`) if the bytes start with one.
///
/// A `From:` header (or the obsolete `From :` form) is not an envelope line and is kept.
#[cfg(test)]
pub(crate) fn strip_envelope_line(bytes: &[u8]) -> &[u8] {
    let line = first_line(bytes);
    if is_envelope_line(line) {
        &bytes[line.len()..]
    } else {
        bytes
    }
}

/// The messages of one source, returned by [`read`] and [`read_from`].
///
/// An I/O error is yielded as an [`Input::Error`] and ends the stream.
#[derive(Debug)]
pub(crate) struct Messages<R> {
    label: String,
    limit: u64,
    /// The one item left to yield, for a source that is not split.
    ready: Option<Input>,
    /// The rest of a stream that started with an envelope line, until it ends.
    splitter: Option<Splitter<Stream<R>>>,
    /// Whether a second message was found, so this is an mbox.
    mbox: bool,
    /// Mbox messages (and oversized ones) yielded so far.
    count: usize,
}

impl<R: Read> Messages<R> {
    fn ready(label: String, limit: u64, result: Result<Vec<u8>, InputErrorKind>) -> Self {
        let ready = Some(input(label.clone(), result));
        Self {
            label,
            limit,
            ready,
            splitter: None,
            mbox: false,
            count: 0,
        }
    }

    fn new(label: String, mut reader: R, size: Option<u64>, limit: u64, maildir: bool) -> Self {
        let mut head = Vec::new();
        if let Err(e) = reader.by_ref().take(HEAD_LEN).read_to_end(&mut head) {
            return Self::ready(label, limit, Err(InputErrorKind::Io(e)));
        }
        if !is_envelope_line(first_line(&head)) {
            let result = read_whole(head, reader, size, limit);
            return Self::ready(label, limit, result);
        }
        let reader = BufReader::new(Cursor::new(head).chain(reader));
        let mut splitter = Splitter {
            reader,
            peeked: None,
            split: !maildir,
        };
        // The envelope line of the first message belongs to no message.
        if let Err(e) = splitter.next_line(0) {
            return Self::ready(label, limit, Err(InputErrorKind::Io(e)));
        }
        Self {
            label,
            limit,
            ready: None,
            splitter: Some(splitter),
            mbox: false,
            count: 0,
        }
    }
}

/// Reads a message that does not start with an envelope line: the whole stream, up to the limit.
fn read_whole(
    head: Vec<u8>,
    reader: impl Read,
    size: Option<u64>,
    limit: u64,
) -> Result<Vec<u8>, InputErrorKind> {
    if let Some(size) = size.filter(|&size| size > limit) {
        return Err(InputErrorKind::TooLarge { size, limit });
    }
    let mut reader = Cursor::new(head).chain(reader);
    let mut bytes = Vec::new();
    let taken = reader
        .by_ref()
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes);
    taken.map_err(InputErrorKind::Io)?;
    let read = bytes.len() as u64;
    if read > limit {
        // Count the rest without keeping it, to report the real size.
        let size = io::copy(&mut reader, &mut io::sink()).map_or(read, |rest| read + rest);
        return Err(InputErrorKind::TooLarge { size, limit });
    }
    Ok(bytes)
}

/// Builds the item for one message: the message itself, or why it cannot be scanned.
fn input(source: String, result: Result<Vec<u8>, InputErrorKind>) -> Input {
    match result {
        Ok(bytes) if !is_blank(&bytes) => Input::Message(RawMessage { source, bytes }),
        Ok(_) => Input::Error(InputError {
            source,
            kind: InputErrorKind::Empty,
        }),
        Err(kind) => Input::Error(InputError { source, kind }),
    }
}

impl<R: Read> Iterator for Messages<R> {
    type Item = Input;

    fn next(&mut self) -> Option<Input> {
        if let Some(input) = self.ready.take() {
            return Some(input);
        }
        loop {
            let chunk = match self.splitter.as_mut()?.next_chunk(self.limit) {
                Ok(chunk) => chunk,
                Err(e) => {
                    self.splitter = None;
                    return Some(input(self.label.clone(), Err(InputErrorKind::Io(e))));
                }
            };
            if !chunk.separated {
                self.splitter = None;
            }
            let (size, limit) = (chunk.size, self.limit);
            let result = chunk.bytes.ok_or(InputErrorKind::TooLarge { size, limit });
            if !self.mbox && !chunk.separated {
                // The only message of the file: everything after the envelope line, as stored.
                return Some(input(self.label.clone(), result));
            }
            self.mbox = true;
            let result = result.map(|mut bytes| {
                strip_separator_blank_line(&mut bytes);
                unescape_from_lines(&bytes)
            });
            if result.as_ref().is_ok_and(|bytes| is_blank(bytes)) {
                continue;
            }
            self.count += 1;
            return Some(input(format!("{}#{}", self.label, self.count), result));
        }
    }
}

/// The bytes already read to look at the start of a stream, followed by the rest of it.
type Stream<R> = BufReader<Chain<Cursor<Vec<u8>>, R>>;

/// Splits a stream that started with an envelope line at the next envelope lines.
#[derive(Debug)]
struct Splitter<B> {
    reader: B,
    /// A line read ahead to decide whether the `From ` line before it starts a message.
    peeked: Option<Line>,
    /// False for Maildir messages, which hold exactly one message.
    split: bool,
}

#[derive(Debug, Default)]
struct Line {
    /// The line with its line ending, truncated to the length asked for.
    bytes: Vec<u8>,
    /// The full length of the line.
    len: u64,
}

/// The raw lines of one message, up to the next separator or the end of the stream.
struct Chunk {
    /// The message, or `None` if it exceeded the limit.
    bytes: Option<Vec<u8>>,
    size: u64,
    /// Whether another message follows.
    separated: bool,
}

impl<B: BufRead> Splitter<B> {
    fn next_chunk(&mut self, limit: u64) -> io::Result<Chunk> {
        let keep = usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let mut bytes = Some(Vec::new());
        let mut size = 0u64;
        let separated = loop {
            let Some(line) = self.next_line(keep)? else {
                break false;
            };
            if self.split
                && is_separator_line(&line.bytes)
                && let Some(next) = self.next_line(keep)?
            {
                let separator = looks_like_header(&next.bytes);
                self.peeked = Some(next);
                if separator {
                    break true;
                }
            }
            size = size.saturating_add(line.len);
            if size > limit {
                bytes = None;
            } else if let Some(bytes) = &mut bytes {
                bytes.extend_from_slice(&line.bytes);
            }
        };
        Ok(Chunk {
            bytes,
            size,
            separated,
        })
    }

    /// The next line (keeping at most `keep` bytes of it), or `None` at the end of the stream.
    fn next_line(&mut self, keep: usize) -> io::Result<Option<Line>> {
        if let Some(line) = self.peeked.take() {
            return Ok(Some(line));
        }
        let mut line = Line::default();
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok((line.len > 0).then_some(line));
            }
            let (used, complete) = match buf.iter().position(|&b| b == b'\n') {
                Some(end) => (end + 1, true),
                None => (buf.len(), false),
            };
            let room = keep.saturating_sub(line.bytes.len()).min(used);
            line.bytes.extend_from_slice(&buf[..room]);
            line.len += used as u64;
            self.reader.consume(used);
            if complete {
                return Ok(Some(line));
            }
        }
    }
}

/// The first line of `bytes`, with its line ending.
fn first_line(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes, |end| &bytes[..=end])
}

/// `From ` followed by something (a sender), as opposed to a `From:` or `From :` header.
fn is_envelope_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    matches!(rest.trim_ascii_start().first(), Some(&b) if b != b':')
}

/// An envelope line that can start a new message inside an mbox: it must carry a time (`12:08`),
/// as the asctime date of a real envelope does, so a body line like "From the team" does not.
fn is_separator_line(line: &[u8]) -> bool {
    let is_time = |w: &[u8]| w[1] == b':' && [w[0], w[2], w[3]].iter().all(u8::is_ascii_digit);
    is_envelope_line(line) && line.windows(4).any(is_time)
}

/// `Name: value`, with a name of printable ASCII characters.
fn looks_like_header(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => line[..colon].iter().all(u8::is_ascii_graphic),
        _ => false,
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Removes the empty line an mbox writer puts between a message and the next envelope line.
fn strip_separator_blank_line(bytes: &mut Vec<u8>) {
    if bytes.ends_with(b"\r\n\r\n") {
        bytes.truncate(bytes.len() - 2);
    } else if bytes.ends_with(b"\n\n") {
        bytes.truncate(bytes.len() - 1);
    }
}

/// Undoes mboxrd quoting: `>From ` becomes `From `, `>>From ` becomes `>From `, and so on.
fn unescape_from_lines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        let quoted_from = quotes > 0 && line[quotes..].starts_with(b"From ");
        out.extend_from_slice(if quoted_from { &line[1..] } else { line });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use tempfile::TempDir;

    const LIMIT: usize = 1 << 20;

    fn write(path: &Path, bytes: &[u8]) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, bytes).unwrap();
    }

    fn label(path: &Path) -> String {
        path.to_string_lossy().into_owned()
    }

    /// Reads every source of `paths`: messages as (source, bytes), errors as "source: message".
    fn scan(paths: &[&Path], limit: usize) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        let (sources, errors) = discover(paths);
        let mut messages = Vec::new();
        let mut errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        for source in &sources {
            for input in read(source, limit) {
                match input {
                    Input::Message(m) => messages.push((m.source, m.bytes)),
                    Input::Error(e) => errors.push(e.to_string()),
                }
            }
        }
        (messages, errors)
    }

    fn sources(messages: &[(String, Vec<u8>)]) -> Vec<String> {
        messages.iter().map(|(s, _)| s.clone()).collect()
    }

    const EML: &[u8] = b"From: a@example.com\nSubject: hi\n\nbody\n";

    #[test]
    fn eml_file_is_one_message() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("one.eml");
        write(&path, EML);
        let (messages, errors) = scan(&[&path], LIMIT);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(messages, vec![(label(&path), EML.to_vec())]);
    }

    #[test]
    fn leading_envelope_line_is_stripped_from_a_single_message() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("00001.abc");
        let rest = b"Return-Path: <a@example.com>\nSubject: hi\n\nbody\n>From here, kept as is\n\n";
        let mut file = b"From a@example.com  Thu Aug 22 12:36:23 2002\n".to_vec();
        file.extend_from_slice(rest);
        write(&path, &file);
        let (messages, errors) = scan(&[&path], LIMIT);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(messages, vec![(label(&path), rest.to_vec())]);
    }

    fn mbox(eol: &str) -> (String, [String; 3]) {
        let file = "From a@example.com Mon Jan  1 00:00:00 2024\n\
                    Subject: one\n\nfirst\n>From the start\n>>From quoted\nFrom me, not a separator\n\n\
                    From b@example.com Mon Jan  1 00:00:01 2024\n\
                    Subject: two\n\nsecond\n\n\
                    From c@example.com Mon Jan  1 00:00:02 2024\n\
                    Subject: three\n\nthird, no final newline";
        let expected = [
            "Subject: one\n\nfirst\nFrom the start\n>From quoted\nFrom me, not a separator\n",
            "Subject: two\n\nsecond\n",
            "Subject: three\n\nthird, no final newline",
        ];
        let eol = |s: &str| s.replace('\n', eol);
        (eol(file), expected.map(eol))
    }

    #[test]
    fn mbox_is_split_and_unescaped_with_lf_and_crlf() {
        for eol in ["\n", "\r\n"] {
            let dir = TempDir::new().unwrap();
            let path = dir.path().join("inbox.mbox");
            let (file, expected) = mbox(eol);
            write(&path, file.as_bytes());
            let (messages, errors) = scan(&[&path], LIMIT);
            assert!(errors.is_empty(), "{errors:?}");
            let want: Vec<_> = (1..=3).map(|n| format!("{}#{n}", label(&path))).collect();
            assert_eq!(sources(&messages), want);
            for ((_, got), want) in messages.iter().zip(&expected) {
                assert_eq!(String::from_utf8_lossy(got), *want, "eol {eol:?}");
            }
        }
    }

    /// Splits an in-memory stream labelled "m" into (source, text) pairs; panics on errors.
    fn split(file: &[u8]) -> Vec<(String, String)> {
        let split = read_from("m".into(), file, LIMIT).map(|input| match input {
            Input::Message(m) => (m.source, String::from_utf8(m.bytes).unwrap()),
            Input::Error(e) => panic!("{e}"),
        });
        split.collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(s, b)| (s.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn mbox_never_yields_empty_messages() {
        let file = b"From a Mon Jan  1 00:00:00 2024\n\n\
                     From b Mon Jan  1 00:00:00 2024\nSubject: x\n\nx\n\n\
                     From d Mon Jan  1 00:00:00 2024\nSubject: y\n\ny\n\n\
                     From e Mon Jan  1 00:00:00 2024\nX-Empty: \n";
        let want = [
            ("m#1", "Subject: x\n\nx\n"),
            ("m#2", "Subject: y\n\ny\n"),
            ("m#3", "X-Empty: \n"),
        ];
        assert_eq!(split(file), owned(&want));
    }

    #[test]
    fn from_line_without_a_time_or_a_header_after_it_stays_in_the_body() {
        let file = b"From a Sat Jan  6 10:00:00 2024\nSubject: x\n\nx\n\
                     From b 10:00\n\nFrom the team\nP.S.: hi\nFrom c 10:00\nFrom d 10:00\n\
                     Subject: y\n\ny\n";
        let first = "Subject: x\n\nx\nFrom b 10:00\n\nFrom the team\nP.S.: hi\nFrom c 10:00\n";
        assert_eq!(
            split(file),
            owned(&[("m#1", first), ("m#2", "Subject: y\n\ny\n")])
        );
    }

    #[test]
    fn maildir_reads_cur_and_new_but_not_tmp() {
        let dir = TempDir::new().unwrap();
        let md = dir.path().join("Maildir");
        write(&md.join("new/2.host"), EML);
        write(&md.join("cur/1.host:2,S"), EML);
        write(&md.join("tmp/3.host"), EML);
        write(&md.join("new/.hidden"), EML);
        write(&md.join(".Sent/cur/4.host"), EML);
        write(&md.join("dovecot-uidlist"), b"3 V1 N5\n");
        let (messages, errors) = scan(&[&md], LIMIT);
        assert!(errors.is_empty(), "{errors:?}");
        let want = [
            label(&md.join("cur/1.host:2,S")),
            label(&md.join("new/2.host")),
        ];
        assert_eq!(sources(&messages), want);
    }

    #[test]
    fn maildir_message_is_never_split() {
        let dir = TempDir::new().unwrap();
        let md = dir.path().join("md");
        fs::create_dir_all(md.join("tmp")).unwrap();
        fs::create_dir_all(md.join("cur")).unwrap();
        let (file, _) = mbox("\n");
        write(&md.join("new/1"), file.as_bytes());
        let (messages, errors) = scan(&[&md], LIMIT);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(sources(&messages), [label(&md.join("new/1"))]);
        assert_eq!(messages[0].1, strip_envelope_line(file.as_bytes()));
    }

    #[test]
    fn directories_are_walked_in_sorted_order() {
        let dir = TempDir::new().unwrap();
        let root = dir.path();
        for name in [
            "z.eml",
            "b/2.eml",
            "a/y.eml",
            "a/x/1.eml",
            "b/1.eml",
            ".git/x",
            "a/.x.eml",
        ] {
            write(&root.join(name), EML);
        }
        fs::create_dir(root.join("empty")).unwrap();
        let (sources_, errors) = discover(&[root]);
        assert!(errors.is_empty());
        let got: Vec<_> = sources_
            .iter()
            .map(|s| s.path().strip_prefix(root).unwrap())
            .collect();
        let want = ["a/x/1.eml", "a/y.eml", "b/1.eml", "b/2.eml", "z.eml"].map(Path::new);
        assert_eq!(got, want);
        assert!(sources_.iter().all(|s| s.size() == EML.len() as u64));
    }

    #[test]
    fn missing_path_is_reported_and_the_rest_still_read() {
        let dir = TempDir::new().unwrap();
        let a = dir.path().join("a.eml");
        let missing = dir.path().join("missing.eml");
        let b = dir.path().join("b.eml");
        write(&a, EML);
        write(&b, EML);
        let (messages, errors) = scan(&[&a, &missing, &b], LIMIT);
        assert_eq!(sources(&messages), [label(&a), label(&b)]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with(&label(&missing)), "{errors:?}");
        let (_, errs) = discover(&[&missing]);
        assert!(
            matches!(&errs[0].kind, InputErrorKind::Io(e) if e.kind() == io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn oversized_messages_are_reported_not_read() {
        let dir = TempDir::new().unwrap();
        let big = dir.path().join("big.eml");
        write(&big, &[b'x'; 100]);
        let (messages, errors) = scan(&[&big], 99);
        assert!(messages.is_empty());
        assert_eq!(
            errors,
            [format!(
                "{}: message too large (100 bytes > 99 byte limit)",
                label(&big)
            )]
        );

        // In an mbox the limit applies per message, and the others still come through.
        let path = dir.path().join("mbox");
        let body = "y".repeat(200);
        let file = format!(
            "From a 0:00\nSubject: 1\n\nsmall\n\nFrom b 0:00\nSubject: 2\n\n{body}\n\n\
             From c 0:00\nSubject: 3\n\nsmall\n"
        );
        write(&path, file.as_bytes());
        let (messages, errors) = scan(&[&path], 100);
        assert_eq!(
            sources(&messages),
            [format!("{}#1", label(&path)), format!("{}#3", label(&path))]
        );
        assert_eq!(
            errors,
            [format!(
                "{}#2: message too large (214 bytes > 100 byte limit)",
                label(&path)
            )]
        );

        // A stream of unknown size is cut off at the limit, and its real size still reported.
        let got: Vec<_> = read_from("stdin".into(), &[b'z'; 5000][..], 10).collect();
        assert!(matches!(
            &got[..],
            [Input::Error(InputError {
                kind: InputErrorKind::TooLarge {
                    size: 5000,
                    limit: 10
                },
                ..
            })]
        ));
    }

    #[test]
    fn binary_garbage_is_a_message() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("garbage.bin");
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let bytes: Vec<u8> = (0..10_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        write(&path, &bytes);
        let (messages, errors) = scan(&[&path], LIMIT);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(messages, vec![(label(&path), bytes.clone())]);

        // Garbage after an envelope line, with no line breaks at all, is also fine.
        let mut from = b"From \xff\xfe\x00 x\n".to_vec();
        from.extend_from_slice(&bytes);
        let got: Vec<_> = read_from("g".into(), &from[..], LIMIT).collect();
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn empty_file_is_reported() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("empty.eml");
        write(&path, b"");
        let (messages, errors) = scan(&[&path], LIMIT);
        assert!(messages.is_empty());
        assert_eq!(errors, [format!("{}: empty message", label(&path))]);
    }

    #[test]
    fn strip_envelope_line_only_strips_envelope_lines() {
        assert_eq!(
            strip_envelope_line(b"From a@b Mon\r\nX: y\r\n"),
            b"X: y\r\n"
        );
        assert_eq!(strip_envelope_line(b"From a@b Mon"), b"");
        assert_eq!(strip_envelope_line(b"From: a@b\n\nx"), b"From: a@b\n\nx");
        assert_eq!(strip_envelope_line(b"From : a@b\n\nx"), b"From : a@b\n\nx");
        assert_eq!(strip_envelope_line(b"From \n"), b"From \n");
        assert_eq!(strip_envelope_line(b""), b"");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_to_files_are_followed_but_not_to_directories() {
        use std::os::unix::fs::symlink;
        let dir = TempDir::new().unwrap();
        let root = dir.path().join("root");
        write(&root.join("a.eml"), EML);
        symlink(&root, root.join("loop")).unwrap();
        symlink(root.join("a.eml"), root.join("b.eml")).unwrap();
        symlink(root.join("gone"), root.join("c.eml")).unwrap();
        let (sources_, errors) = discover(&[&root]);
        let got: Vec<_> = sources_.iter().map(|s| s.label.clone()).collect();
        assert_eq!(
            got,
            [label(&root.join("a.eml")), label(&root.join("b.eml"))]
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].source, label(&root.join("c.eml")));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_names_do_not_panic() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let dir = TempDir::new().unwrap();
        let path = dir.path().join(OsStr::from_bytes(b"caf\xe9.eml"));
        if fs::write(&path, EML).is_err() {
            return; // the file system rejects such names
        }
        let (messages, errors) = scan(&[dir.path()], LIMIT);
        assert!(errors.is_empty());
        assert_eq!(messages.len(), 1);
        assert!(messages[0].0.ends_with("caf\u{fffd}.eml"));
    }

    #[test]
    fn header_and_envelope_detection() {
        assert!(looks_like_header(b"Return-Path: <a@b>\r\n"));
        assert!(looks_like_header(b"X-Empty:\n"));
        assert!(!looks_like_header(b": x\n"));
        assert!(!looks_like_header(b"hello there: x\n"));
        assert!(is_envelope_line(
            b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n"
        ));
        assert!(!is_envelope_line(b"From:\n"));
        assert!(!is_envelope_line(b">From x\n"));
        assert!(is_separator_line(b"From - Sat Jan  6 10:00:00 2024\r\n"));
        assert!(!is_separator_line(b"From 10 to 12, call: 555\n"));
    }
}
