//! A scripted SMTP server for the client tests that sg-smtp's server cannot play: replies
//! chosen per command line (a 5xx to one RCPT, a server without EHLO, odd multi-line
//! replies). It records every line it reads.

#![allow(clippy::unwrap_used)] // test support: a failure here should fail the test loudly

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Decides the reply (whole, CRLF included) to a command line without its CRLF, or to
/// `<END-OF-DATA>` after the final dot.
pub(crate) type Responder = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// A running scripted server (one connection at a time, for the life of the test).
pub(crate) struct Scripted {
    pub(crate) addr: SocketAddr,
    /// Every command line read, without CRLF.
    pub(crate) lines: Arc<Mutex<Vec<String>>>,
    /// Every message content read (still dot-stuffed, final dot excluded).
    pub(crate) contents: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Scripted {
    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub(crate) fn commands(&self) -> Vec<String> {
        self.lines()
            .iter()
            .map(|l| l.split([' ', ':']).next().unwrap_or("").to_uppercase())
            .collect()
    }
}

/// The usual replies: a 220 greeting, EHLO with `ehlo_extensions`, 250 to everything
/// else, 354 to DATA; `overrides` may answer any line first.
pub(crate) fn usual(
    ehlo_extensions: &'static [&'static str],
    overrides: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
) -> Responder {
    Arc::new(move |line: &str| {
        if let Some(reply) = overrides(line) {
            return reply;
        }
        let upper = line.to_uppercase();
        if upper.starts_with("EHLO") {
            let mut reply = String::from("250-scripted.example\r\n");
            for (i, ext) in ehlo_extensions.iter().enumerate() {
                let sep = if i + 1 == ehlo_extensions.len() {
                    ' '
                } else {
                    '-'
                };
                reply.push_str(&format!("250{sep}{ext}\r\n"));
            }
            if ehlo_extensions.is_empty() {
                reply = "250 scripted.example\r\n".to_string();
            }
            reply
        } else if upper == "DATA" {
            "354 go ahead\r\n".to_string()
        } else if upper == "QUIT" {
            "221 2.0.0 bye\r\n".to_string()
        } else {
            "250 2.0.0 ok\r\n".to_string()
        }
    })
}

pub(crate) async fn start(respond: Responder) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let contents = Arc::new(Mutex::new(Vec::new()));
    let (l, c) = (lines.clone(), contents.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (read, mut write) = tcp.into_split();
            let mut read = BufReader::new(read);
            if write
                .write_all(b"220 scripted.example ESMTP\r\n")
                .await
                .is_err()
            {
                continue;
            }
            let mut line = Vec::new();
            loop {
                line.clear();
                if read.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                l.lock().unwrap().push(text.clone());
                let mut reply = respond(&text);
                if reply.starts_with("354") {
                    write.write_all(reply.as_bytes()).await.unwrap();
                    let mut content = Vec::new();
                    loop {
                        line.clear();
                        if read.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == b".\r\n" {
                            break;
                        }
                        content.extend_from_slice(&line);
                    }
                    c.lock().unwrap().push(content);
                    reply = respond("<END-OF-DATA>");
                }
                write.write_all(reply.as_bytes()).await.unwrap();
                if text.eq_ignore_ascii_case("QUIT") {
                    break;
                }
            }
        }
    });
    Scripted {
        addr,
        lines,
        contents,
    }
}
