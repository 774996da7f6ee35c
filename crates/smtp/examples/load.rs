//! A quick local load: N concurrent clients each send M messages of S bytes to a server on
//! 127.0.0.1 whose handler stores nothing and answers `Stored` at once, so the figure is
//! the driver's and the session's cost (plus loopback TCP), not a spool's. It runs twice in
//! the same process, in plaintext and then with STARTTLS (self-signed certificate, one
//! handshake per client), and prints both.
//!
//! ```sh
//! cargo run --release -p sg-smtp --example load -- [clients=50] [messages=200] [size=10240] [ADDR]
//! ```
//!
//! With ADDR (e.g. `127.0.0.1:2525`) it loads that server instead, in plaintext only —
//! `spearguard serve`, to measure the whole gateway (analysis and fsync'd spool). Both
//! report the time from the end of DATA to the reply (p50/p99).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use sg_smtp::{Config, Decision, Envelope, MessageHandler, ServerConfig, serve};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

/// Answers `Stored` without storing; counts what it saw.
#[derive(Default)]
struct Discard {
    messages: AtomicU64,
    bytes: AtomicU64,
}

impl MessageHandler for Discard {
    async fn on_message(&self, _envelope: Envelope, data: Vec<u8>) -> Decision {
        let n = self.messages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        Decision::Stored {
            queue_id: format!("L{n}"),
        }
    }
}

/// Sends one line and returns the last line of the reply.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, bytes: &[u8]) -> String {
    io.get_mut()
        .write_all(bytes)
        .await
        .expect("write to server");
    io.get_mut().flush().await.expect("flush to server");
    let mut line = String::new();
    loop {
        line.clear();
        let n = io.read_line(&mut line).await.expect("read from server");
        assert!(n > 0, "server closed the connection");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

/// Sends `messages` messages on a greeted connection; returns each one's time from the end
/// of DATA to the reply.
async fn transactions<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    id: usize,
    messages: usize,
    body: &[u8],
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(messages);
    command(io, b"EHLO load.example.org\r\n").await;
    let mail = format!("MAIL FROM:<load{id}@example.org>\r\n");
    for _ in 0..messages {
        command(io, mail.as_bytes()).await;
        command(io, b"RCPT TO:<rcpt@example.net>\r\n").await;
        command(io, b"DATA\r\n").await;
        let t0 = Instant::now();
        let reply = command(io, body).await;
        latencies.push(t0.elapsed());
        assert!(reply.starts_with("250 "), "{reply}");
    }
    command(io, b"QUIT\r\n").await;
    latencies
}

/// One client: greeting, then (with `tls`) STARTTLS and the handshake, then the messages.
async fn client(
    addr: SocketAddr,
    id: usize,
    messages: usize,
    body: Arc<Vec<u8>>,
    tls: Option<TlsConnector>,
) -> Vec<Duration> {
    let stream = TcpStream::connect(addr).await.expect("connect to server");
    stream.set_nodelay(true).expect("set TCP_NODELAY");
    let mut io = BufReader::new(stream);
    let mut greeting = String::new();
    io.read_line(&mut greeting).await.expect("read greeting");
    let Some(connector) = tls else {
        return transactions(&mut io, id, messages, &body).await;
    };
    command(&mut io, b"EHLO load.example.org\r\n").await;
    let ready = command(&mut io, b"STARTTLS\r\n").await;
    assert!(ready.starts_with("220 "), "{ready}");
    let name = ServerName::try_from("localhost").expect("server name");
    let tls = connector
        .connect(name, io.into_inner())
        .await
        .expect("TLS handshake");
    transactions(&mut BufReader::new(tls), id, messages, &body).await
}

/// Runs `clients` clients to the end and prints latency and throughput under `label`.
async fn run(
    label: &str,
    addr: SocketAddr,
    (clients, messages, size): (usize, usize, usize),
    body: &Arc<Vec<u8>>,
    tls: Option<TlsConnector>,
) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|id| {
            let (body, tls) = (Arc::clone(body), tls.clone());
            tokio::spawn(client(addr, id, messages, body, tls))
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client finished"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = latencies.len() as u64;
    let bytes = total * body.len() as u64;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    println!(
        "{label}: {clients} clients x {messages} messages of {size} bytes: {total} messages in \
         {elapsed:.2} s = {:.0} messages/s, {:.1} MB/s of message data; end of DATA to reply \
         p50 {:.1} ms, p99 {:.1} ms",
        total as f64 / elapsed,
        bytes as f64 / elapsed / 1e6,
        pct(0.5),
        pct(0.99)
    );
}

/// A client TLS config trusting only the certificate in `dir/tls/cert.pem`.
fn connector(dir: &Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.join("tls/cert.pem")).expect("cert.pem") {
        roots
            .add(cert.expect("PEM certificate"))
            .expect("trust anchor");
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// The resident set size of this process, in MB (Linux).
fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let target: Option<std::net::SocketAddr> = raw
        .get(3)
        .map(|a| a.parse().expect("4th argument is ADDR:PORT"));
    let args: Vec<usize> = raw
        .iter()
        .take(3)
        .map(|a| a.parse().expect("arguments are numbers"))
        .collect();
    let clients = args.first().copied().unwrap_or(50);
    let messages = args.get(1).copied().unwrap_or(200);
    let size = args.get(2).copied().unwrap_or(10 * 1024);

    let mut body = b"Subject: load\r\n\r\n".to_vec();
    while body.len() < size {
        body.extend_from_slice(
            b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxy\r\n",
        );
    }
    body.extend_from_slice(b".\r\n");
    let body = Arc::new(body);

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let local = listener.local_addr().expect("local address");
    let shape = (clients, messages, size);
    if let Some(addr) = target {
        run("external server, plaintext", addr, shape, &body, None).await;
        return;
    }
    sg_smtp::install_crypto_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let handler = Arc::new(Discard::default());
    let shutdown = CancellationToken::new();
    let server_cfg = ServerConfig::default()
        .validate()
        .expect("defaults are valid")
        .load_tls(dir.path(), "localhost")
        .expect("self-signed certificate");
    let server = tokio::spawn(serve(
        listener,
        server_cfg,
        Config::default().validate().expect("defaults are valid"),
        Arc::clone(&handler),
        shutdown.clone(),
    ));
    run("plaintext", local, shape, &body, None).await;
    run(
        "STARTTLS ",
        local,
        shape,
        &body,
        Some(connector(dir.path())),
    )
    .await;
    if let Some(rss) = rss_mb() {
        println!("process RSS after both runs (server and clients): {rss:.1} MB");
    }
    shutdown.cancel();
    server
        .await
        .expect("server task finished")
        .expect("serve returned Ok");
}
