//! A server on 127.0.0.1:0 with a recording handler, and a line-oriented raw client.

#![allow(dead_code, unreachable_pub)]

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sg_smtp::{Config, Decision, Envelope, MessageHandler, ServerConfig, ValidServerConfig, serve};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a test waits for any one reply before failing instead of hanging.
pub const REPLY_WAIT: Duration = Duration::from_secs(20);

/// Records every message and decides from its `Subject:` line:
/// `reject`, `tempfail`, `notstored`, `slow` (200 ms, then stored), `hang` (never decides);
/// anything else is stored as `Q<n>`.
#[derive(Default)]
pub struct Recorder {
    pub messages: Mutex<Vec<(Envelope, Vec<u8>)>>,
    stored: AtomicUsize,
}

impl Recorder {
    pub fn count(&self) -> usize {
        self.messages.lock().expect("recorder lock").len()
    }

    pub fn message(&self, index: usize) -> (Envelope, Vec<u8>) {
        self.messages.lock().expect("recorder lock")[index].clone()
    }
}

fn subject(data: &[u8]) -> &str {
    let text = std::str::from_utf8(data).unwrap_or("");
    text.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or("")
        .trim()
}

impl MessageHandler for Recorder {
    async fn on_message(&self, envelope: Envelope, data: Vec<u8>) -> Decision {
        let subject = subject(&data).to_string();
        self.messages
            .lock()
            .expect("recorder lock")
            .push((envelope, data));
        match subject.as_str() {
            "reject" => Decision::Rejected {
                reason: "phishing link".into(),
            },
            "tempfail" => Decision::Tempfailed {
                reason: "greylisted".into(),
            },
            "notstored" => Decision::NotStored,
            "hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Decision::NotStored
            }
            other => {
                if other == "slow" {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                let n = self.stored.fetch_add(1, Ordering::SeqCst) + 1;
                Decision::Stored {
                    queue_id: format!("Q{n}"),
                }
            }
        }
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub handler: Arc<Recorder>,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<io::Result<()>>,
}

impl TestServer {
    pub async fn start(cfg: ServerConfig) -> TestServer {
        Self::start_with(cfg, Config::default()).await
    }

    pub async fn start_with(cfg: ServerConfig, session_cfg: Config) -> TestServer {
        Self::start_validated(
            cfg.validate().expect("test server config is valid"),
            session_cfg,
        )
        .await
    }

    /// With a config already validated (and a certificate attached, for STARTTLS).
    pub async fn start_validated(cfg: ValidServerConfig, session_cfg: Config) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("listener address");
        let handler = Arc::new(Recorder::default());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(
            listener,
            cfg,
            session_cfg
                .validate()
                .expect("test session config is valid"),
            Arc::clone(&handler),
            shutdown.clone(),
        ));
        TestServer {
            addr,
            handler,
            shutdown,
            task,
        }
    }

    /// Cancels and waits for `serve` to return.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(REPLY_WAIT, self.task)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task did not panic")
            .expect("serve returns Ok");
    }
}

pub struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Client {
    /// Connects without reading anything.
    pub async fn connect_raw(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect to server");
        let (read, writer) = stream.into_split();
        Client {
            reader: BufReader::new(read),
            writer,
        }
    }

    /// Connects and checks the 220 greeting.
    pub async fn connect(addr: SocketAddr) -> Client {
        let mut client = Self::connect_raw(addr).await;
        let greeting = client.line().await;
        assert!(greeting.starts_with("220 "), "greeting: {greeting:?}");
        client
    }

    pub async fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("write to server");
    }

    /// Tries to write; false when the server has closed the connection.
    pub async fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.writer.write_all(bytes).await.is_ok()
    }

    /// One reply line without its CRLF; `""` at end of stream.
    pub async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(REPLY_WAIT, self.reader.read_line(&mut line))
            .await
            .expect("server replied in time")
            .expect("read from server");
        line.trim_end_matches("\r\n").to_string()
    }

    /// A whole (possibly multi-line) reply; returns its last line.
    pub async fn reply(&mut self) -> String {
        loop {
            let line = self.line().await;
            if line.as_bytes().get(3) != Some(&b'-') {
                return line;
            }
        }
    }

    /// Sends one command line (CRLF added) and returns the last line of its reply.
    pub async fn command(&mut self, line: &str) -> String {
        self.send(&format!("{line}\r\n")).await;
        self.reply().await
    }

    /// Sends one whole transaction, one command at a time, and returns the final reply.
    pub async fn deliver(&mut self, from: &str, to: &str, body: &str) -> String {
        assert!(
            self.command(&format!("MAIL FROM:<{from}>"))
                .await
                .starts_with("250 ")
        );
        assert!(
            self.command(&format!("RCPT TO:<{to}>"))
                .await
                .starts_with("250 ")
        );
        assert!(self.command("DATA").await.starts_with("354 "));
        self.send(body).await;
        self.command(".").await
    }

    /// True when the server has closed the connection (nothing more to read).
    pub async fn closed(&mut self) -> bool {
        self.line().await.is_empty()
    }
}

/// A small message with the given subject, CRLF line endings, ready for DATA.
pub fn message(subject: &str) -> String {
    format!("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: {subject}\r\n\r\nhello\r\n")
}

/// A `kB` line of `/proc/self/status` (e.g. `VmRSS:`), in bytes; `None` off Linux.
pub fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The soft limit on open files; `None` off Linux.
pub fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// A TLS client that trusts only the certificate in `DATA/tls/cert.pem` under `dir`.
pub fn tls_connector(dir: &std::path::Path) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    sg_smtp::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.join("tls/cert.pem")).expect("cert.pem") {
        roots
            .add(cert.expect("PEM certificate"))
            .expect("trust anchor");
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}
