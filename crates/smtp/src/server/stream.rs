//! The byte stream under one session, as an enum so STARTTLS can swap it in place.
//!
//! Today there is only plain TCP, and the session never advertises STARTTLS
//! (`tls_available: false`). This is the seam for TLS: add a
//! `Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>)` variant, a `start_tls(self,
//! &TlsAcceptor)` that turns `Plain` into `Tls` after the handshake (under its own
//! timeout), and the two `match`es below; the connection driver already reads and writes
//! through this type only, and already stops at `Event::StartTls`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// One client connection's transport.
#[derive(Debug)]
pub(crate) enum ClientStream {
    /// Unencrypted TCP.
    Plain(TcpStream),
}

impl ClientStream {
    /// Whether the channel is encrypted (for the session's [`crate::Connection`]).
    pub(crate) fn is_tls(&self) -> bool {
        match self {
            ClientStream::Plain(_) => false,
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
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
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
        }
    }
}
