//! The message content after DATA: dot-unstuffing, the end-of-data marker, bare CR/LF and
//! the size limit, one byte state machine that never looks back and never buffers a line.
//!
//! Only `<CR><LF>.<CR><LF>` ends the content (RFC 5321 §4.1.1.4); the CRLF of the DATA
//! command line counts, so `.` `<CR><LF>` right after the 354 is an empty message. A `\n.\n`,
//! `\r.\r`, `\r\n.\n` or `\r\n.\r\r\n` inside the content is content, whatever the
//! [`BareNewlines`] policy: these are the SMTP smuggling end-of-data variants (CVE-2023-51766
//! and its family), and treating any of them as the end would let a client slip a second,
//! unauthenticated message past whoever reads the first. A line that starts with `.` after
//! a CRLF loses that dot (§4.5.2); a line after a bare newline is not a line start for
//! either rule.
//!
//! Bytes beyond `max_message_size` are read and dropped, so the session finds the end and
//! answers 552 in sequence instead of losing its place in the stream. The same happens when
//! the server-wide [`crate::InflightBudget`] cannot cover the buffer's next growth (452).

use memchr::memchr2;

use crate::budget::Reservation;
use crate::limits::BareNewlines;

/// Where the decoder is in the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Just after a CRLF (or at the start of the content).
    LineStart,
    /// Inside a line.
    Text,
    /// After a CR that may start a CRLF.
    Cr,
    /// After a `.` at a line start.
    Dot,
    /// After `.` CR at a line start: one LF more ends the content.
    DotCr,
}

/// How the content ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The unstuffed message, within the limits.
    Message(Vec<u8>),
    /// More than `max_message_size` bytes.
    TooBig,
    /// A bare CR or LF under [`BareNewlines::Reject`].
    BareNewline,
    /// The in-flight budget had no room for the message; it was read and discarded.
    NoStorage,
}

/// Decodes the content of one DATA command.
#[derive(Debug)]
pub(crate) struct DataReader {
    at: At,
    data: Vec<u8>,
    size: usize,
    max_size: usize,
    policy: BareNewlines,
    bare_newline: bool,
    /// Budget held for `data`'s capacity.
    reservation: Reservation,
    /// The budget refused to cover the buffer: the rest is read and dropped.
    no_storage: bool,
}

impl DataReader {
    /// A reader for content of at most `max_size` bytes, its buffer paid from `reservation`.
    pub(crate) fn new(max_size: usize, policy: BareNewlines, reservation: Reservation) -> Self {
        Self {
            at: At::LineStart,
            data: Vec::new(),
            size: 0,
            max_size,
            policy,
            bare_newline: false,
            reservation,
            no_storage: false,
        }
    }

    /// The budget held for the message; keep it until the message is handled.
    pub(crate) fn into_reservation(self) -> Reservation {
        self.reservation
    }

    /// Bytes held for the message so far.
    pub(crate) fn buffered(&self) -> usize {
        self.data.capacity()
    }

    /// Reads from `input`; returns how many bytes were consumed and, once the end-of-data
    /// line has been read, the outcome. Bytes after the end are not consumed.
    pub(crate) fn feed(&mut self, input: &[u8]) -> (usize, Option<Outcome>) {
        let mut i = 0;
        while i < input.len() {
            if self.at == At::Text {
                // Fast path: copy everything up to the next CR or LF in one go.
                let rest = &input[i..];
                let Some(pos) = memchr2(b'\r', b'\n', rest) else {
                    self.emit(rest);
                    return (input.len(), None);
                };
                self.emit(&rest[..pos]);
                i += pos;
            }
            let byte = input[i];
            i += 1;
            if let Some(outcome) = self.step(byte) {
                return (i, Some(outcome));
            }
        }
        (i, None)
    }

    fn step(&mut self, byte: u8) -> Option<Outcome> {
        self.at = match self.at {
            At::LineStart if byte == b'.' => At::Dot,
            At::LineStart | At::Text => self.step_text(byte),
            At::Dot => match byte {
                b'\r' => At::DotCr,
                // "." alone on a line ended by a bare LF: not the end, keep the dot.
                b'\n' => {
                    self.emit(b".");
                    self.bare_newline();
                    At::Text
                }
                // Dot-unstuffing: the leading dot is dropped, the rest is text.
                _ => self.step_text(byte),
            },
            At::Cr => match byte {
                b'\n' => {
                    self.emit(b"\r\n");
                    At::LineStart
                }
                _ => {
                    self.bare_newline();
                    self.step_text(byte)
                }
            },
            At::DotCr => match byte {
                b'\n' => return Some(self.finish()),
                _ => {
                    self.emit(b".");
                    self.bare_newline();
                    self.step_text(byte)
                }
            },
        };
        None
    }

    /// A byte inside a line: a bare LF or ordinary content.
    fn step_text(&mut self, byte: u8) -> At {
        match byte {
            b'\n' => self.bare_newline(),
            b'\r' => return At::Cr,
            _ => self.emit(&[byte]),
        }
        At::Text
    }

    fn bare_newline(&mut self) {
        match self.policy {
            BareNewlines::Reject => {
                self.bare_newline = true;
                self.discard();
            }
            BareNewlines::Normalize => self.emit(b"\r\n"),
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len());
        if self.size > self.max_size {
            self.discard();
            return;
        }
        if self.bare_newline || self.no_storage {
            return;
        }
        // Grow by doubling, but never past the limit, so memory stays within it; the
        // budget pays first (all of the doubling, else just what is needed).
        let needed = self.data.len() + bytes.len();
        if needed > self.data.capacity() {
            let doubled = needed.max(self.data.capacity() * 2).min(self.max_size);
            let target = if self.reservation.resize(doubled) {
                doubled
            } else if self.reservation.resize(needed) {
                needed
            } else {
                self.no_storage = true;
                self.discard();
                return;
            };
            self.data.reserve_exact(target - self.data.len());
        }
        self.data.extend_from_slice(bytes);
    }

    /// Drops what was buffered and gives its budget back.
    fn discard(&mut self) {
        self.data = Vec::new();
        self.reservation.resize(0);
    }

    fn finish(&mut self) -> Outcome {
        if self.size > self.max_size {
            Outcome::TooBig
        } else if self.bare_newline {
            Outcome::BareNewline
        } else if self.no_storage {
            Outcome::NoStorage
        } else {
            Outcome::Message(std::mem::take(&mut self.data))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::InflightBudget;

    fn reader(max: usize, policy: BareNewlines) -> DataReader {
        DataReader::new(max, policy, InflightBudget::unlimited().reservation())
    }

    fn decode_with(input: &[u8], max: usize, policy: BareNewlines) -> (usize, Option<Outcome>) {
        reader(max, policy).feed(input)
    }

    fn decode(input: &[u8]) -> (usize, Option<Outcome>) {
        decode_with(input, 1000, BareNewlines::Reject)
    }

    fn message(input: &[u8]) -> Vec<u8> {
        match decode(input) {
            (_, Some(Outcome::Message(m))) => m,
            other => panic!("no message: {other:?}"),
        }
    }

    fn normalized(input: &[u8]) -> Vec<u8> {
        match decode_with(input, 1000, BareNewlines::Normalize) {
            (_, Some(Outcome::Message(m))) => m,
            other => panic!("no message: {other:?}"),
        }
    }

    #[test]
    fn crlf_dot_crlf_ends_the_message() {
        assert_eq!(decode(b"hi\r\n.\r\nQUIT\r\n").0, 7);
        assert_eq!(message(b"hi\r\n.\r\n"), b"hi\r\n");
    }

    #[test]
    fn dot_at_the_start_is_an_empty_message() {
        assert_eq!(message(b".\r\n"), b"");
    }

    #[test]
    fn leading_dot_is_removed() {
        assert_eq!(message(b"..hidden\r\n.x\r\n.\r\n"), b".hidden\r\nx\r\n");
    }

    #[test]
    fn dot_inside_a_line_is_kept() {
        assert_eq!(message(b"a.b\r\n a .\r\n.\r\n"), b"a.b\r\n a .\r\n");
    }

    #[test]
    fn lf_dot_lf_does_not_end_the_message() {
        assert_eq!(decode(b"a\n.\nMAIL FROM:<x@example.org>\n").1, None);
    }

    #[test]
    fn cr_dot_cr_does_not_end_the_message() {
        assert_eq!(decode(b"a\r.\rMAIL FROM:<x@example.org>\r").1, None);
    }

    #[test]
    fn crlf_dot_lf_does_not_end_the_message() {
        assert_eq!(decode(b"a\r\n.\nb\r\n").1, None);
    }

    #[test]
    fn crlf_dot_cr_cr_lf_does_not_end_the_message() {
        // smtp-proto's own DataReceiver ends here; ours does not.
        assert_eq!(decode(b"a\r\n.\r\r\nb\r\n").1, None);
    }

    #[test]
    fn bare_lf_is_rejected_by_default() {
        assert_eq!(decode(b"a\nb\r\n.\r\n").1, Some(Outcome::BareNewline));
    }

    #[test]
    fn bare_cr_is_rejected_by_default() {
        assert_eq!(decode(b"a\rb\r\n.\r\n").1, Some(Outcome::BareNewline));
    }

    #[test]
    fn bare_lf_is_stored_as_crlf_when_normalizing() {
        assert_eq!(normalized(b"a\nb\r\n.\r\n"), b"a\r\nb\r\n");
    }

    #[test]
    fn smuggled_end_is_content_when_normalizing() {
        assert_eq!(
            normalized(b"a\n.\nMAIL FROM:<x@example.org>\r\n.\r\n"),
            b"a\r\n.\r\nMAIL FROM:<x@example.org>\r\n"
        );
    }

    #[test]
    fn bare_cr_dot_cr_is_stored_as_lines_when_normalizing() {
        assert_eq!(normalized(b"a\r.\rb\r\n.\r\n"), b"a\r\n.\r\nb\r\n");
    }

    #[test]
    fn dot_cr_cr_lf_keeps_the_dot_when_normalizing() {
        assert_eq!(normalized(b"x\r\n.\r\r\n.\r\n"), b"x\r\n.\r\n\r\n");
    }

    #[test]
    fn message_at_the_limit_is_accepted() {
        let (_, outcome) = decode_with(b"12345678\r\n.\r\n", 10, BareNewlines::Reject);
        assert_eq!(outcome, Some(Outcome::Message(b"12345678\r\n".to_vec())));
    }

    #[test]
    fn message_over_the_limit_is_too_big_and_read_to_the_end() {
        let input = b"123456789\r\n.\r\nQUIT\r\n";
        let (used, outcome) = decode_with(input, 10, BareNewlines::Reject);
        assert_eq!(outcome, Some(Outcome::TooBig));
        assert_eq!(used, 14);
    }

    #[test]
    fn memory_never_exceeds_the_limit() {
        let mut reader = reader(1000, BareNewlines::Reject);
        for _ in 0..100 {
            assert_eq!(reader.feed(&[b'x'; 97]).1, None);
            assert!(reader.buffered() <= 1000, "{}", reader.buffered());
        }
        assert_eq!(reader.feed(b"\r\n.\r\n").1, Some(Outcome::TooBig));
    }

    #[test]
    fn long_lines_are_accepted() {
        let mut input = vec![b'x'; 5000];
        input.extend_from_slice(b"\r\n.\r\n");
        let (_, outcome) = decode_with(&input, 10_000, BareNewlines::Reject);
        assert!(matches!(outcome, Some(Outcome::Message(m)) if m.len() == 5002));
    }

    #[test]
    fn split_anywhere_gives_the_same_message() {
        let input: &[u8] = b"Subject: x\r\n\r\n..a\r\nb.\r\n.\r\n";
        let whole = message(input);
        for cut in 0..input.len() {
            let mut reader = reader(1000, BareNewlines::Reject);
            let (used, first) = reader.feed(&input[..cut]);
            assert_eq!((used, &first), (cut, &None), "cut {cut}");
            let (_, second) = reader.feed(&input[cut..]);
            assert_eq!(second, Some(Outcome::Message(whole.clone())), "cut {cut}");
        }
    }

    #[test]
    fn buffer_growth_is_paid_from_the_budget() {
        let budget = InflightBudget::new(10_000);
        let mut reader = DataReader::new(5000, BareNewlines::Reject, budget.reservation());
        assert_eq!(reader.feed(&[b'x'; 3000]).1, None);
        assert_eq!(budget.in_use(), reader.buffered());
        let (_, outcome) = reader.feed(b"\r\n.\r\n");
        assert!(matches!(outcome, Some(Outcome::Message(m)) if m.len() == 3002));
        assert!(budget.in_use() >= 3002, "kept until the message is handled");
        drop(reader.into_reservation());
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn message_over_the_budget_is_read_to_the_end_and_dropped() {
        let budget = InflightBudget::new(1000);
        let mut reader = DataReader::new(100_000, BareNewlines::Reject, budget.reservation());
        let input = [&[b'x'; 5000][..], b"\r\n.\r\nQUIT\r\n"].concat();
        let (used, outcome) = reader.feed(&input);
        assert_eq!(outcome, Some(Outcome::NoStorage));
        assert_eq!(used, 5005, "stops right after the end of data");
        assert_eq!(reader.buffered(), 0);
        assert_eq!(budget.in_use(), 0);
    }
}
