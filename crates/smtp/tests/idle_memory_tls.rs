//! Memory bound with TLS: 1,000 idle sessions that have run STARTTLS (and greeted again
//! over TLS) keep the whole process, server and rustls clients together, under 150 MB of
//! resident memory. Its own test binary, as `idle_memory.rs`; Linux only, skips otherwise
//! or when the open-file limit cannot hold 2,000 sockets.

mod support;

use rustls::pki_types::ServerName;
use sg_smtp::ServerConfig;
use support::{TestServer, open_file_limit, status_bytes};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const SESSIONS: usize = 1000;
const MAX_PROCESS_RSS: u64 = 150 * 1024 * 1024;

/// Sends a line and reads the whole reply; returns its last line.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, line: &[u8]) -> String {
    if !line.is_empty() {
        io.get_mut().write_all(line).await.expect("write");
        io.get_mut().flush().await.expect("flush");
    }
    let mut text = String::new();
    loop {
        text.clear();
        assert!(
            io.read_line(&mut text).await.expect("read") > 0,
            "server closed"
        );
        if text.as_bytes().get(3) != Some(&b'-') {
            return text;
        }
    }
}

/// Greets, runs STARTTLS, greets again over TLS, and keeps the connection.
async fn idle_tls_client(addr: std::net::SocketAddr, tls: &TlsConnector) -> TlsStream<TcpStream> {
    let mut io = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
    assert!(command(&mut io, b"").await.starts_with("220 "));
    command(&mut io, b"EHLO idle.example.org\r\n").await;
    assert!(command(&mut io, b"STARTTLS\r\n").await.starts_with("220 "));
    let name = ServerName::try_from("localhost").expect("server name");
    let stream = tls.connect(name, io.into_inner()).await.expect("handshake");
    let mut io = BufReader::new(stream);
    assert!(
        command(&mut io, b"EHLO idle.example.org\r\n")
            .await
            .starts_with("250 ")
    );
    io.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_idle_tls_sessions_stay_under_150_mb() {
    let (Some(_), Some(limit)) = (status_bytes("VmRSS:"), open_file_limit()) else {
        eprintln!("skipped: /proc/self not readable, cannot measure memory");
        return;
    };
    if limit < 2 * SESSIONS as u64 + 100 {
        eprintln!("skipped: open-file limit {limit} cannot hold {SESSIONS} sessions and clients");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = ServerConfig::default()
        .validate()
        .expect("valid")
        .load_tls(dir.path(), "localhost")
        .expect("self-signed certificate");
    let server = TestServer::start_validated(cfg, Default::default()).await;
    let tls = support::tls_connector(dir.path());
    drop(idle_tls_client(server.addr, &tls).await);
    let before = status_bytes("VmRSS:").expect("VmRSS readable");

    let mut clients = Vec::with_capacity(SESSIONS);
    for _ in 0..SESSIONS {
        clients.push(idle_tls_client(server.addr, &tls).await);
    }
    let after = status_bytes("VmRSS:").expect("VmRSS readable");
    eprintln!(
        "{SESSIONS} idle TLS sessions: process RSS {:.1} MB (was {:.1} MB before them), \
         {:.1} KiB per session including its rustls client",
        after as f64 / 1048576.0,
        before as f64 / 1048576.0,
        after.saturating_sub(before) as f64 / SESSIONS as f64 / 1024.0
    );
    assert!(after < MAX_PROCESS_RSS, "process RSS {after} bytes");
    drop(clients);
    server.stop().await;
}
