//! The byte stream under one session, as an enum so STARTTLS can swap it in place.
//!
//! A connection starts as `Plain` TCP. After STARTTLS the driver takes the TCP stream out
//! (leaving `Upgrading` for the length of the handshake), hands it to rustls, and puts the
//! `Tls` stream back; the connection driver reads and writes through this type only.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// One client connection's transport.
#[derive(Debug)]
pub(crate) enum ClientStream {
    /// Unencrypted TCP.
    Plain(TcpStream),
    /// TCP after a STARTTLS handshake.
    Tls(Box<TlsStream<TcpStream>>),
    /// The TCP stream is inside the TLS handshake (or was lost in a failed one).
    Upgrading,
}

impl ClientStream {
    /// Whether the channel is encrypted (for the session's [`crate::Connection`]).
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, ClientStream::Tls(_))
    }

    /// The plain TCP stream, for the handshake; `None` if the stream is not plain.
    pub(crate) fn take_plain(&mut self) -> Option<TcpStream> {
        match std::mem::replace(self, ClientStream::Upgrading) {
            ClientStream::Plain(tcp) => Some(tcp),
            other => {
                *self = other;
                None
            }
        }
    }

    /// The protocol version and cipher suite, for the log.
    pub(crate) fn tls_parameters(&self) -> Option<(String, String)> {
        let ClientStream::Tls(tls) = self else {
            return None;
        };
        let (_, connection) = tls.get_ref();
        let version = connection.protocol_version()?;
        let suite = connection.negotiated_cipher_suite()?;
        Some((format!("{version:?}"), format!("{:?}", suite.suite())))
    }
}

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "connection lost in the TLS handshake",
    )
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            ClientStream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            ClientStream::Upgrading => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            ClientStream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
            ClientStream::Upgrading => Poll::Ready(Err(gone())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            ClientStream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
            ClientStream::Upgrading => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            ClientStream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
            ClientStream::Upgrading => Poll::Ready(Ok(())),
        }
    }
}
