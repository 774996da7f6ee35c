//! A small SMTP client over `std::net::TcpStream` for the end-to-end tests that need to
//! misbehave (garbage, bare LF, trickling bytes) or to count every reply (the crash test).
//! Reading stops at the last line of a reply (`NNN `), so pipelined replies stay queued.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One SMTP reply: its code and its lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// Every line of the reply, without CRLF.
    pub text: String,
}

/// A connection to an SMTP server.
pub struct Client {
    /// The write side.
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    /// Connects to `addr` (reads nothing yet); reads give up after `timeout`.
    pub fn connect(addr: &str, timeout: Duration) -> io::Result<Client> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Client { stream, reader })
    }

    /// Connects and reads the greeting, which must be a 220.
    pub fn greeted(addr: &str) -> io::Result<Client> {
        let mut c = Client::connect(addr, Duration::from_secs(20))?;
        let greeting = c.reply()?;
        if greeting.code != 220 {
            return Err(io::Error::other(format!("greeting {greeting:?}")));
        }
        Ok(c)
    }

    /// Reads one whole reply. End of stream before it is `UnexpectedEof`.
    pub fn reply(&mut self) -> io::Result<Reply> {
        let mut text = String::new();
        loop {
            let mut line = Vec::new();
            self.reader.read_until(b'\n', &mut line)?;
            if line.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
            let Some(code) = code else {
                return Err(io::Error::other(format!("not a reply line: {line:?}")));
            };
            let last = line.as_bytes().get(3) != Some(&b'-');
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&line);
            if last {
                return Ok(Reply { code, text });
            }
        }
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends `line` plus CRLF and reads the reply.
    pub fn cmd(&mut self, line: &str) -> io::Result<Reply> {
        self.send_raw(format!("{line}\r\n").as_bytes())?;
        self.reply()
    }

    /// Whether the server closed the connection (EOF or reset) within the read timeout,
    /// after any bytes still queued.
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(e) => e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::TimedOut,
        }
    }

    /// MAIL, RCPT for each recipient, DATA and the dot-stuffed `message`: the final reply,
    /// or the first refusal before it. A transport error is returned as `Err`.
    pub fn send_mail(&mut self, from: &str, to: &[&str], message: &[u8]) -> io::Result<Reply> {
        let r = self.cmd(&format!("MAIL FROM:<{from}>"))?;
        if r.code != 250 {
            return Ok(r);
        }
        for rcpt in to {
            let r = self.cmd(&format!("RCPT TO:<{rcpt}>"))?;
            if r.code != 250 {
                self.cmd("RSET")?;
                return Ok(r);
            }
        }
        let r = self.cmd("DATA")?;
        if r.code != 354 {
            return Ok(r);
        }
        self.send_raw(&data_block(message))?;
        self.reply()
    }
}

/// `message` with CRLF line endings, dot-stuffed, followed by `.` CRLF.
pub fn data_block(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    // A message ending in "\n" split into a last empty line: drop the extra CRLF.
    if message.ends_with(b"\n") {
        out.truncate(out.len() - 2);
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A small clean message carrying `token` in its Message-ID and body.
pub fn clean_message(token: &str) -> Vec<u8> {
    format!(
        "From: Hanako Sato <hanako.sato@example.org>\r\n\
         To: Taro Yamada <taro.yamada@example.org>\r\n\
         Subject: Minutes of Tuesday's meeting\r\n\
         Date: Wed, 11 Mar 2026 10:15:00 +0900\r\n\
         Message-ID: <{token}@example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Taro,\r\n\
         \r\n\
         My notes from Tuesday, reference {token}. We agreed to move the review\r\n\
         to the 24th and to keep the draft in the usual team folder.\r\n\
         \r\n\
         Hanako\r\n"
    )
    .into_bytes()
}

/// Sends one clean message carrying `token` to `rcpt` on a new connection; the final reply.
pub fn send_clean(addr: &str, rcpt: &str, token: &str) -> io::Result<Reply> {
    let mut c = Client::greeted(addr)?;
    c.cmd("EHLO client.example.org")?;
    let reply = c.send_mail("hanako.sato@example.org", &[rcpt], &clean_message(token))?;
    let _ = c.cmd("QUIT");
    Ok(reply)
}
