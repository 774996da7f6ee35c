//! A quick local load: N concurrent clients each send M messages of S bytes to a server on
//! 127.0.0.1 whose handler stores nothing and answers `Stored` at once, so the figure is
//! the driver's and the session's cost (plus loopback TCP), not a spool's.
//!
//! ```sh
//! cargo run --release -p sg-smtp --example load -- [clients=50] [messages=200] [size=10240] [ADDR]
//! ```
//!
//! With ADDR (e.g. `127.0.0.1:2525`) it loads that server instead — `spearguard serve`, to
//! measure the whole gateway (analysis and fsync'd spool) — and reports the time from the
//! end of DATA to the reply (p50/p99).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sg_smtp::{Config, Decision, Envelope, MessageHandler, ServerConfig, serve};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
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
async fn command(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    bytes: &[u8],
) -> String {
    writer.write_all(bytes).await.expect("write to server");
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).await.expect("read from server");
        assert!(n > 0, "server closed the connection");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

/// Sends `messages` messages; returns each one's time from end of DATA to the reply.
async fn client(
    addr: std::net::SocketAddr,
    id: usize,
    messages: usize,
    body: Arc<Vec<u8>>,
) -> Vec<std::time::Duration> {
    let mut latencies = Vec::with_capacity(messages);
    let stream = TcpStream::connect(addr).await.expect("connect to server");
    stream.set_nodelay(true).expect("set TCP_NODELAY");
    let (read, mut writer) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut greeting = String::new();
    reader
        .read_line(&mut greeting)
        .await
        .expect("read greeting");
    command(&mut reader, &mut writer, b"EHLO load.example.org\r\n").await;
    let mail = format!("MAIL FROM:<load{id}@example.org>\r\n");
    for _ in 0..messages {
        command(&mut reader, &mut writer, mail.as_bytes()).await;
        command(&mut reader, &mut writer, b"RCPT TO:<rcpt@example.net>\r\n").await;
        command(&mut reader, &mut writer, b"DATA\r\n").await;
        let t0 = Instant::now();
        let reply = command(&mut reader, &mut writer, &body).await;
        latencies.push(t0.elapsed());
        assert!(reply.starts_with("250 "), "{reply}");
    }
    command(&mut reader, &mut writer, b"QUIT\r\n").await;
    latencies
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
    let addr = target.unwrap_or_else(|| listener.local_addr().expect("local address"));
    let handler = Arc::new(Discard::default());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(
        listener,
        ServerConfig::default()
            .validate()
            .expect("defaults are valid"),
        Config::default().validate().expect("defaults are valid"),
        Arc::clone(&handler),
        shutdown.clone(),
    ));

    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|id| tokio::spawn(client(addr, id, messages, Arc::clone(&body))))
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
        "end of DATA to reply: p50 {:.1} ms, p99 {:.1} ms",
        pct(0.5),
        pct(0.99)
    );
    println!(
        "{clients} clients x {messages} messages of {size} bytes: {total} messages in {elapsed:.2} s \
         = {:.0} messages/s, {:.1} MB/s of message data",
        total as f64 / elapsed,
        bytes as f64 / elapsed / 1e6
    );
    shutdown.cancel();
    server
        .await
        .expect("server task finished")
        .expect("serve returned Ok");
}
