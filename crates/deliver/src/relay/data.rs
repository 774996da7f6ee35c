//! Message content on the wire (RFC 5321 §4.5.2, §2.3.8): every line ends in CRLF (a bare
//! CR or LF becomes one), a line that starts with a dot gets a second one, and the content
//! ends with `CRLF.CRLF`.

/// The DATA content for `message`, ready to send: CRLF lines, dot-stuffed, terminated.
pub(crate) fn encode(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut line_start = true;
    let mut i = 0;
    while let Some(&b) = message.get(i) {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        match b {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if message.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                line_start = true;
            }
            b'\n' => {
                out.extend_from_slice(b"\r\n");
                line_start = true;
            }
            _ => {
                out.push(b);
                line_start = false;
            }
        }
        i += 1;
    }
    if !line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Whether the message has bytes above 127 (then it is 8BITMIME content, RFC 6152).
pub(crate) fn has_8bit(message: &[u8]) -> bool {
    !message.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_at_line_start_are_doubled() {
        assert_eq!(
            encode(b".a\r\n..b\r\n.\r\nc.d\r\n"),
            b"..a\r\n...b\r\n..\r\nc.d\r\n.\r\n"
        );
    }

    #[test]
    fn bare_newlines_become_crlf() {
        assert_eq!(encode(b"a\nb\rc\r\n"), b"a\r\nb\r\nc\r\n.\r\n");
    }

    #[test]
    fn a_missing_final_crlf_is_added() {
        assert_eq!(encode(b"a"), b"a\r\n.\r\n");
        assert_eq!(encode(b""), b".\r\n");
        assert_eq!(encode(b".\n."), b"..\r\n..\r\n.\r\n");
    }

    #[test]
    fn eight_bit_is_detected() {
        assert!(has_8bit("caf\u{e9}".as_bytes()));
        assert!(!has_8bit(b"plain"));
    }
}
