//! Field-level wire format shared by commands and responses.
//!
//! Inside a frame, milter data is a sequence of big-endian `u32`/`u16` numbers, single
//! bytes, NUL-terminated strings and, last, raw bytes up to the end of the frame. The
//! [`Reader`] takes them off a frame's data and fails with a [`DecodeError`] naming the
//! field, never reading past the end; writers refuse strings with an embedded NUL, which
//! would shift every later field and desynchronise the MTA.

use crate::codec::CodecError;
use crate::reply::ReplyError;

/// Why a frame's data is not a valid command or response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The command byte is not one the MTA sends.
    #[error("unknown command code {0:#04x}")]
    UnknownCommand(u8),
    /// The response byte is not one a filter sends.
    #[error("unknown response code {0:#04x}")]
    UnknownResponse(u8),
    /// The frame ended inside a fixed-size field.
    #[error("{field} is truncated")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A string field has no NUL before the end of the frame.
    #[error("{field} has no NUL terminator")]
    Unterminated {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes remain after the last field of a fixed-form frame.
    #[error("{count} unexpected bytes after the last field of {what}")]
    TrailingData {
        /// The command or response.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// A required string list (MAIL or RCPT arguments) is empty.
    #[error("{what} has no arguments")]
    MissingArgument {
        /// The command.
        what: &'static str,
    },
    /// A macro list ends with a name that has no value.
    #[error("macro {name:?} has no value")]
    MacroWithoutValue {
        /// The dangling name.
        name: String,
    },
    /// The connect family byte is not `4`, `6`, `L` or `U`.
    #[error("unknown address family {0:#04x} in connect")]
    UnknownFamily(u8),
    /// An option-negotiation response names a macro stage beyond `SMFIM_EOH`.
    #[error("unknown macro stage {0} in option negotiation")]
    UnknownMacroStage(u32),
    /// A reply-code response does not hold a valid SMTP reply.
    #[error("invalid reply in reply-code response")]
    Reply(#[from] ReplyError),
}

/// Why a command or response could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A string field contains a NUL byte, which the wire format cannot carry.
    #[error("{field} contains a NUL byte at offset {offset}")]
    NulInString {
        /// The field being written.
        field: &'static str,
        /// Offset of the first NUL.
        offset: usize,
    },
    /// The frame is too large for its length field.
    #[error(transparent)]
    Frame(#[from] CodecError),
}

/// Reads fields off a frame's data, front to back.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let (&first, rest) = self
            .data
            .split_first()
            .ok_or(DecodeError::Truncated { field })?;
        self.data = rest;
        Ok(first)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let (head, rest) = self
            .data
            .split_first_chunk::<2>()
            .ok_or(DecodeError::Truncated { field })?;
        self.data = rest;
        Ok(u16::from_be_bytes(*head))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let (head, rest) = self
            .data
            .split_first_chunk::<4>()
            .ok_or(DecodeError::Truncated { field })?;
        self.data = rest;
        Ok(u32::from_be_bytes(*head))
    }

    /// A NUL-terminated string, without its NUL.
    pub(crate) fn bytes_z(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let nul = self
            .data
            .iter()
            .position(|&b| b == 0)
            .ok_or(DecodeError::Unterminated { field })?;
        let value = &self.data[..nul];
        self.data = &self.data[nul + 1..];
        Ok(value)
    }

    /// A NUL-terminated string as text; invalid UTF-8 becomes U+FFFD rather than an error,
    /// because a bad byte in an envelope field must not cost the whole connection.
    pub(crate) fn string_z(&mut self, field: &'static str) -> Result<String, DecodeError> {
        self.bytes_z(field)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Every remaining NUL-terminated string (MAIL and RCPT arguments, macro pairs).
    pub(crate) fn strings_z(&mut self, field: &'static str) -> Result<Vec<String>, DecodeError> {
        let mut out = Vec::new();
        while !self.is_empty() {
            out.push(self.string_z(field)?);
        }
        Ok(out)
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    /// Fails if any byte is left after the last field.
    pub(crate) fn finish(self, what: &'static str) -> Result<(), DecodeError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingData {
                what,
                count: self.data.len(),
            })
        }
    }
}

/// Appends `value` and its NUL terminator, refusing an embedded NUL.
pub(crate) fn put_z(
    out: &mut Vec<u8>,
    field: &'static str,
    value: &[u8],
) -> Result<(), EncodeError> {
    if let Some(offset) = value.iter().position(|&b| b == 0) {
        return Err(EncodeError::NulInString { field, offset });
    }
    out.extend_from_slice(value);
    out.push(0);
    Ok(())
}

/// Appends one frame with command byte `code` whose data `write_data` writes; on error `out`
/// is left exactly as it was (shared by [`crate::Command`] and [`crate::Response`]).
pub(crate) fn encode_frame_with(
    out: &mut Vec<u8>,
    code: u8,
    write_data: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = crate::codec::begin_frame(out, code);
    write_data(out)
        .and_then(|()| Ok(crate::codec::finish_frame(out, start)?))
        .inspect_err(|_| out.truncate(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_takes_fields_in_order() {
        let mut r = Reader::new(b"\0\0\0\x06\x1f\x90ab\0c\0rest");
        assert_eq!(r.u32("version").unwrap(), 6);
        assert_eq!(r.u16("port").unwrap(), 8080);
        assert_eq!(r.string_z("a").unwrap(), "ab");
        assert_eq!(r.bytes_z("c").unwrap(), b"c");
        assert_eq!(r.rest(), b"rest");
        r.finish("test").unwrap();
    }

    #[test]
    fn short_number_is_truncated_not_a_panic() {
        assert_eq!(
            Reader::new(b"\0\0\0").u32("version"),
            Err(DecodeError::Truncated { field: "version" })
        );
        assert_eq!(
            Reader::new(b"").u8("family"),
            Err(DecodeError::Truncated { field: "family" })
        );
    }

    #[test]
    fn string_without_nul_is_unterminated() {
        assert_eq!(
            Reader::new(b"abc").string_z("helo"),
            Err(DecodeError::Unterminated { field: "helo" })
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_rejected() {
        assert_eq!(
            Reader::new(b"a\xffb\0").string_z("helo").unwrap(),
            "a\u{fffd}b"
        );
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let mut r = Reader::new(b"x\0y");
        r.string_z("helo").unwrap();
        assert_eq!(
            r.finish("HELO"),
            Err(DecodeError::TrailingData {
                what: "HELO",
                count: 1
            })
        );
    }

    #[test]
    fn put_z_refuses_embedded_nul() {
        let mut out = Vec::new();
        assert_eq!(
            put_z(&mut out, "name", b"a\0b"),
            Err(EncodeError::NulInString {
                field: "name",
                offset: 1
            })
        );
        put_z(&mut out, "name", b"ab").unwrap();
        assert_eq!(out, b"ab\0");
    }
}
