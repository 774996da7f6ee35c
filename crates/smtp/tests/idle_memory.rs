//! Memory bound: 1,000 idle sessions (greeted, after EHLO) keep the whole process, server
//! and clients together, under 150 MB of resident memory, and cost well under 64 KiB each.
//! Its own test binary, so no other test's allocations show up in the process's RSS.
//! Linux only (reads `/proc/self`); skips with a message elsewhere or when the open-file
//! limit cannot hold 2,000 sockets.

mod support;

use sg_smtp::ServerConfig;
use support::{TestServer, open_file_limit, status_bytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SESSIONS: usize = 1000;
const MAX_PROCESS_RSS: u64 = 150 * 1024 * 1024;
const MAX_PER_SESSION: u64 = 64 * 1024;

/// Connects, reads the greeting, sends EHLO and reads its whole reply.
async fn idle_client(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect to server");
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    let mut sent_ehlo = false;
    loop {
        let n = stream.read(&mut buf).await.expect("read from server");
        assert!(n > 0, "server closed: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if !sent_ehlo && text.contains("220 ") && text.ends_with("\r\n") {
            stream
                .write_all(b"EHLO idle.example.org\r\n")
                .await
                .expect("write to server");
            sent_ehlo = true;
            seen.clear();
        } else if sent_ehlo && text.contains("250 ") && text.ends_with("\r\n") {
            return stream;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_idle_sessions_stay_under_150_mb() {
    let (Some(_), Some(limit)) = (status_bytes("VmRSS:"), open_file_limit()) else {
        eprintln!("skipped: /proc/self not readable, cannot measure memory");
        return;
    };
    if limit < 2 * SESSIONS as u64 + 100 {
        eprintln!("skipped: open-file limit {limit} cannot hold {SESSIONS} sessions and clients");
        return;
    }
    let server = TestServer::start(ServerConfig::default()).await;
    // Warm up the runtime and the allocator with one full session first.
    drop(idle_client(server.addr).await);
    let before = status_bytes("VmRSS:").expect("VmRSS readable");

    let mut clients = Vec::with_capacity(SESSIONS);
    for _ in 0..SESSIONS {
        clients.push(idle_client(server.addr).await);
    }
    let after = status_bytes("VmRSS:").expect("VmRSS readable");
    let per_session = after.saturating_sub(before) / SESSIONS as u64;
    eprintln!(
        "{SESSIONS} idle sessions: process RSS {:.1} MB (was {:.1} MB before them), \
         {:.1} KiB per session including its client socket",
        after as f64 / 1048576.0,
        before as f64 / 1048576.0,
        per_session as f64 / 1024.0
    );
    assert!(after < MAX_PROCESS_RSS, "process RSS {after} bytes");
    assert!(
        per_session < MAX_PER_SESSION,
        "{per_session} bytes per session"
    );
    drop(clients);
    server.stop().await;
}
