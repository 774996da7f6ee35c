//! One connection to the next hop: connect, write with a deadline, and read whole replies
//! (multi-line included) with smtp-proto's incremental [`ResponseReceiver`].

use std::fmt;
use std::io;
use std::time::Duration;

use smtp_proto::response::parser::ResponseReceiver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use crate::Failure;

/// A reply longer than this (all lines) ends the session: no server needs it.
const MAX_REPLY: usize = 64 * 1024;
/// Content is written in blocks of this size, each under the data-block deadline.
const BLOCK: usize = 64 * 1024;

/// One reply of the next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The three-digit code (200-599).
    pub(crate) code: u16,
    /// The RFC 3463 enhanced code, when the reply has one.
    pub(crate) enhanced: Option<[u8; 3]>,
    /// The text, lines joined with `\n`.
    pub(crate) text: String,
    /// The reply as received, for the EHLO capability parser.
    pub(crate) raw: Vec<u8>,
}

impl Reply {
    /// 2xx.
    pub(crate) fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The failure this reply means for the recipients it concerns.
    pub(crate) fn failure(&self) -> Failure {
        Failure::from_reply(self.code, self.enhanced, &self.text)
    }
}

/// Why the conversation could not go on; always a temporary failure.
#[derive(Debug)]
pub(crate) enum ConnError {
    /// Connecting, reading or writing failed.
    Io(&'static str, io::Error),
    /// A deadline passed.
    Timeout(&'static str),
    /// The server sent something that is not an SMTP reply.
    Protocol(String),
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Io(step, e) => write!(f, "{step}: {e}"),
            ConnError::Timeout(step) => write!(f, "{step}: timed out"),
            ConnError::Protocol(what) => write!(f, "protocol error: {what}"),
        }
    }
}

impl ConnError {
    /// The temporary failure for every recipient still open (RFC 3463 4.4.1 when the host
    /// never answered, 4.4.2 when the connection broke later).
    pub(crate) fn failure(&self, target: &str) -> Failure {
        let status = match self {
            ConnError::Io("connect", _) | ConnError::Timeout("connect") => "4.4.1",
            ConnError::Protocol(_) => "4.5.0",
            _ => "4.4.2",
        };
        Failure::local(false, status, format!("next hop {target}: {self}"))
    }
}

/// A connection and the bytes read but not yet parsed.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `target` (`host:port`) within `limit`.
    pub(crate) async fn connect(target: &str, limit: Duration) -> Result<Conn, ConnError> {
        let stream = match timeout(limit, TcpStream::connect(target)).await {
            Err(_) => return Err(ConnError::Timeout("connect")),
            Ok(Err(e)) => return Err(ConnError::Io("connect", e)),
            Ok(Ok(s)) => s,
        };
        // Commands are written whole; do not hold the last one back.
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(1024),
        })
    }

    /// Writes `bytes` whole within `limit`.
    pub(crate) async fn write(
        &mut self,
        bytes: &[u8],
        limit: Duration,
        step: &'static str,
    ) -> Result<(), ConnError> {
        match timeout(limit, self.stream.write_all(bytes)).await {
            Err(_) => Err(ConnError::Timeout(step)),
            Ok(Err(e)) => Err(ConnError::Io(step, e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Writes message content in blocks, each within `per_block`.
    pub(crate) async fn write_blocks(
        &mut self,
        bytes: &[u8],
        per_block: Duration,
    ) -> Result<(), ConnError> {
        for block in bytes.chunks(BLOCK) {
            self.write(block, per_block, "sending the message").await?;
        }
        Ok(())
    }

    /// Sends a command line (CRLF added) and reads its reply.
    pub(crate) async fn command(
        &mut self,
        line: &str,
        limit: Duration,
        step: &'static str,
    ) -> Result<Reply, ConnError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write(&bytes, limit, step).await?;
        self.read_reply(limit, step).await
    }

    /// Reads one whole reply within `limit`.
    pub(crate) async fn read_reply(
        &mut self,
        limit: Duration,
        step: &'static str,
    ) -> Result<Reply, ConnError> {
        let deadline = Instant::now() + limit;
        let mut receiver = ResponseReceiver::default();
        let mut fed = 0;
        loop {
            if fed < self.buf.len() {
                let (parsed, left) = {
                    let mut rest = self.buf[fed..].iter();
                    let parsed = receiver.parse(&mut rest);
                    (parsed, rest.len())
                };
                match parsed {
                    Ok(response) => {
                        let raw: Vec<u8> = self.buf.drain(..self.buf.len() - left).collect();
                        return reply(response, raw);
                    }
                    Err(smtp_proto::Error::NeedsMoreData { .. }) => fed = self.buf.len(),
                    Err(e) => return Err(ConnError::Protocol(format!("{step}: {e:?}"))),
                }
            }
            if self.buf.len() > MAX_REPLY {
                return Err(ConnError::Protocol(format!(
                    "{step}: reply longer than {MAX_REPLY} bytes"
                )));
            }
            self.buf.reserve(4096);
            match timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Err(ConnError::Timeout(step)),
                Ok(Err(e)) => return Err(ConnError::Io(step, e)),
                Ok(Ok(0)) => {
                    return Err(ConnError::Io(
                        step,
                        io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"),
                    ));
                }
                Ok(Ok(_)) => {}
            }
        }
    }
}

/// Checks the code and turns smtp-proto's response into a [`Reply`].
fn reply(response: smtp_proto::Response<String>, raw: Vec<u8>) -> Result<Reply, ConnError> {
    if !(200..=599).contains(&response.code) {
        return Err(ConnError::Protocol(format!(
            "reply code {} is not 2xx-5xx",
            response.code
        )));
    }
    let enhanced = (response.esc != [0, 0, 0]).then_some(response.esc);
    Ok(Reply {
        code: response.code,
        enhanced,
        text: response.message.trim_end().to_string(),
        raw,
    })
}
