//! Milter framing: a 4-byte big-endian length, then a command byte, then data.
//!
//! The length counts the command byte and the data, so it is at least 1. Postfix sends
//! body content in chunks of at most 65,535 bytes (`MILTER_CHUNK_SIZE` in `milter8.c`) and
//! headers up to `header_size_limit` (100 KiB by default), so a frame larger than
//! [`DEFAULT_MAX_FRAME_LEN`] is garbage or an attack and ends the connection with a
//! [`CodecError`] rather than an allocation. A partial frame simply waits for more bytes.

/// Largest frame accepted by default (length field value, command byte included): 1 MiB.
pub const DEFAULT_MAX_FRAME_LEN: u32 = 1 << 20;

/// Bytes in the length prefix.
pub const LEN_BYTES: usize = 4;

/// Why bytes could not be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The length field was 0, so there is not even a command byte.
    #[error("frame length 0 leaves no room for a command byte")]
    EmptyFrame,
    /// The length field announces more than the configured maximum.
    #[error("frame length {len} exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// Length announced by the peer.
        len: u32,
        /// Configured maximum.
        max: u32,
    },
    /// A frame to send does not fit the 32-bit length field.
    #[error("frame of {len} bytes does not fit a 32-bit length")]
    EncodeTooLarge {
        /// Command byte plus data, in bytes.
        len: usize,
    },
}

/// One decoded frame, borrowing its data from the decoder's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The command or response byte (`'O'`, `'C'`, `'c'` …).
    pub code: u8,
    /// Everything after the command byte.
    pub data: &'a [u8],
}

/// Accumulates bytes and cuts them into frames.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Start of the first byte not yet returned as part of a frame.
    start: usize,
    max_len: u32,
}

impl FrameDecoder {
    /// A decoder refusing frames whose length field exceeds `max_len`.
    pub fn new(max_len: u32) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_len,
        }
    }

    /// Appends received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        // Drop the frames already handed out; only a partial frame is moved.
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned in a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    ///
    /// The length field is checked as soon as its 4 bytes are in, before the frame body
    /// arrives, so an absurd length fails at once instead of waiting for gigabytes.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CodecError> {
        let pending = &self.buf[self.start..];
        let Some(len_bytes) = pending.first_chunk::<LEN_BYTES>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*len_bytes);
        if len == 0 {
            return Err(CodecError::EmptyFrame);
        }
        if len > self.max_len {
            return Err(CodecError::FrameTooLarge {
                len,
                max: self.max_len,
            });
        }
        // len <= max_len <= u32::MAX, which fits usize on every platform Postfix runs on.
        let total = LEN_BYTES + len as usize;
        if pending.len() < total {
            return Ok(None);
        }
        let begin = self.start + LEN_BYTES;
        self.start += total;
        let frame = &self.buf[begin..begin + len as usize];
        Ok(Some(Frame {
            code: frame[0],
            data: &frame[1..],
        }))
    }
}

/// Starts a frame in `out`: a placeholder length and the command byte. Returns where it starts.
pub(crate) fn begin_frame(out: &mut Vec<u8>, code: u8) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; LEN_BYTES]);
    out.push(code);
    start
}

/// Writes the length of the frame begun at `start`, now that its data is in `out`.
pub(crate) fn finish_frame(out: &mut [u8], start: usize) -> Result<(), CodecError> {
    let len = out.len() - start - LEN_BYTES;
    let len32 = u32::try_from(len).map_err(|_| CodecError::EncodeTooLarge { len })?;
    out[start..start + LEN_BYTES].copy_from_slice(&len32.to_be_bytes());
    Ok(())
}

/// Appends one whole frame with raw `data` to `out`.
pub fn encode_frame(code: u8, data: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
    let start = begin_frame(out, code);
    out.extend_from_slice(data);
    finish_frame(out, start).inspect_err(|_| out.truncate(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(code: u8, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(code, data, &mut out).expect("small frames always encode");
        out
    }

    #[test]
    fn encode_writes_length_including_command_byte() {
        assert_eq!(frame(b'c', b""), [0, 0, 0, 1, b'c']);
        assert_eq!(frame(b'H', b"x\0"), [0, 0, 0, 3, b'H', b'x', 0]);
    }

    #[test]
    fn decoder_returns_frames_in_order() {
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_LEN);
        let mut bytes = frame(b'A', b"");
        bytes.extend(frame(b'B', b"chunk"));
        d.extend(&bytes);
        assert_eq!(
            d.next_frame().unwrap(),
            Some(Frame {
                code: b'A',
                data: b""
            })
        );
        assert_eq!(
            d.next_frame().unwrap(),
            Some(Frame {
                code: b'B',
                data: b"chunk"
            })
        );
        assert_eq!(d.next_frame().unwrap(), None);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn partial_frame_waits_for_more_bytes() {
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_LEN);
        let bytes = frame(b'B', b"hello");
        d.extend(&bytes[..2]);
        assert_eq!(d.next_frame().unwrap(), None);
        d.extend(&bytes[2..7]);
        assert_eq!(d.next_frame().unwrap(), None);
        d.extend(&bytes[7..]);
        assert_eq!(
            d.next_frame().unwrap(),
            Some(Frame {
                code: b'B',
                data: b"hello"
            })
        );
    }

    #[test]
    fn zero_length_is_an_error() {
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_LEN);
        d.extend(&[0, 0, 0, 0]);
        assert_eq!(d.next_frame(), Err(CodecError::EmptyFrame));
    }

    #[test]
    fn oversized_length_fails_before_the_data_arrives() {
        let mut d = FrameDecoder::new(16);
        d.extend(&[0, 0, 0, 17]);
        assert_eq!(
            d.next_frame(),
            Err(CodecError::FrameTooLarge { len: 17, max: 16 })
        );
    }

    #[test]
    fn frame_at_the_limit_is_accepted() {
        let mut d = FrameDecoder::new(4);
        d.extend(&frame(b'B', b"abc"));
        assert_eq!(
            d.next_frame().unwrap(),
            Some(Frame {
                code: b'B',
                data: b"abc"
            })
        );
    }

    #[test]
    fn http_request_is_rejected_as_oversized() {
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_LEN);
        d.extend(b"GET / HTTP/1.1\r\n");
        assert!(matches!(
            d.next_frame(),
            Err(CodecError::FrameTooLarge { .. })
        ));
    }
}
