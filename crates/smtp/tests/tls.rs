//! STARTTLS against the real driver: a rustls client on 127.0.0.1 trusting the generated
//! self-signed certificate. The upgrade, the reset after it, plaintext injection behind
//! STARTTLS, a garbage handshake, `require_tls`, and the in-flight budget over the network.

mod support;

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use sg_smtp::{ServerConfig, ValidServerConfig};
use support::{Client, REPLY_WAIT, TestServer, message};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A line-oriented client over any stream, so it can move from TCP to TLS.
struct Line<S> {
    io: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Line<S> {
    async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.expect("write");
        self.io.get_mut().flush().await.expect("flush");
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(REPLY_WAIT, self.io.read_line(&mut line))
            .await
            .expect("server replied in time")
            .expect("read from server");
        line.trim_end_matches("\r\n").to_string()
    }

    /// Every line of one reply.
    async fn reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines;
            }
        }
    }

    async fn command(&mut self, line: &str) -> Vec<String> {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }
}

fn server_config(dir: &Path, cfg: ServerConfig) -> ValidServerConfig {
    cfg.validate()
        .expect("valid config")
        .load_tls(dir, "localhost")
        .expect("self-signed certificate")
}

/// Connects, greets with EHLO, and returns the client and the EHLO reply.
async fn greeted(addr: std::net::SocketAddr) -> (Line<TcpStream>, Vec<String>) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut client = Line {
        io: BufReader::new(tcp),
    };
    assert!(client.line().await.starts_with("220 "));
    let ehlo = client.command("EHLO client.example.org").await;
    (client, ehlo)
}

/// Runs the handshake on a client that has just read the 220 for STARTTLS.
async fn upgrade(
    client: Line<TcpStream>,
    dir: &Path,
) -> Line<tokio_rustls::client::TlsStream<TcpStream>> {
    assert!(
        client.io.buffer().is_empty(),
        "the server sent something after its 220 in plaintext: {:?}",
        String::from_utf8_lossy(client.io.buffer())
    );
    let name = ServerName::try_from("localhost").expect("server name");
    let tls = support::tls_connector(dir)
        .connect(name, client.io.into_inner())
        .await
        .expect("TLS handshake");
    Line {
        io: BufReader::new(tls),
    }
}

#[tokio::test]
async fn starttls_upgrades_resets_the_session_and_marks_the_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start_validated(
        server_config(dir.path(), ServerConfig::default()),
        Default::default(),
    )
    .await;
    let (mut client, ehlo) = greeted(server.addr).await;
    assert!(ehlo.contains(&"250-STARTTLS".to_string()), "{ehlo:?}");
    assert_eq!(
        client.command("STARTTLS").await,
        ["220 2.0.0 ready to start TLS"]
    );
    let mut tls = upgrade(client, dir.path()).await;

    assert_eq!(
        tls.command("MAIL FROM:<alice@example.org>").await,
        ["503 5.5.1 send HELO or EHLO first"],
        "the EHLO from before the handshake is forgotten"
    );
    let ehlo = tls.command("EHLO client.example.org").await;
    assert!(!ehlo.iter().any(|l| l.contains("STARTTLS")), "{ehlo:?}");
    assert_eq!(
        tls.command("STARTTLS").await,
        ["503 5.5.1 TLS already active"]
    );
    assert_eq!(
        tls.command("MAIL FROM:<alice@example.org>").await,
        ["250 2.1.0 sender ok"]
    );
    assert_eq!(
        tls.command("RCPT TO:<bob@example.net>").await,
        ["250 2.1.5 recipient ok"]
    );
    assert!(tls.command("DATA").await[0].starts_with("354 "));
    tls.send(message("over tls").as_bytes()).await;
    assert_eq!(tls.command(".").await, ["250 2.0.0 message queued as Q1"]);
    assert_eq!(tls.command("QUIT").await, ["221 2.0.0 bye"]);

    let (envelope, _) = server.handler.message(0);
    assert!(envelope.tls);
    assert_eq!(envelope.protocol(), "ESMTPS");
    server.stop().await;
}

#[tokio::test]
async fn commands_pipelined_behind_starttls_are_never_answered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start_validated(
        server_config(dir.path(), ServerConfig::default()),
        Default::default(),
    )
    .await;
    let (mut client, _) = greeted(server.addr).await;
    // CVE-2011-0411: one write carrying STARTTLS and a plaintext command behind it.
    client.send(b"STARTTLS\r\nRSET\r\n").await;
    assert_eq!(client.reply().await, ["220 2.0.0 ready to start TLS"]);
    // `upgrade` checks no plaintext followed the 220; a plaintext 250 would also break
    // the handshake.
    let mut tls = upgrade(client, dir.path()).await;
    // Over TLS, the first reply is to our EHLO: the RSET was not kept for later either.
    let ehlo = tls.command("EHLO client.example.org").await;
    assert_eq!(ehlo[0], "250-localhost", "{ehlo:?}");
    server.stop().await;
}

#[tokio::test]
async fn garbage_handshake_closes_that_connection_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start_validated(
        server_config(dir.path(), ServerConfig::default()),
        Default::default(),
    )
    .await;
    let mut bystander = Client::connect(server.addr).await;
    assert!(
        bystander
            .command("EHLO b.example.org")
            .await
            .starts_with("250 ")
    );

    let (mut client, _) = greeted(server.addr).await;
    assert_eq!(
        client.command("STARTTLS").await,
        ["220 2.0.0 ready to start TLS"]
    );
    client.send(b"this is not a TLS ClientHello\r\n").await;
    let mut rest = String::new();
    let n = tokio::time::timeout(REPLY_WAIT, client.io.read_line(&mut rest))
        .await
        .expect("server closed in time")
        .unwrap_or(0);
    assert!(
        n == 0 || !rest.starts_with('2'),
        "connection closed, got {rest:?}"
    );

    // The other session and new ones carry on.
    assert_eq!(bystander.command("NOOP").await, "250 2.0.0 ok");
    let mut fresh = Client::connect(server.addr).await;
    assert!(
        fresh
            .command("EHLO c.example.org")
            .await
            .starts_with("250 ")
    );
    let reply = fresh
        .deliver(
            "alice@example.org",
            "bob@example.net",
            &message("after garbage"),
        )
        .await;
    assert!(reply.starts_with("250 "), "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn require_tls_refuses_mail_in_plaintext() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = ServerConfig {
        require_tls: true,
        ..ServerConfig::default()
    };
    let server =
        TestServer::start_validated(server_config(dir.path(), cfg), Default::default()).await;
    let (mut client, _) = greeted(server.addr).await;
    assert_eq!(
        client.command("MAIL FROM:<alice@example.org>").await,
        ["530 5.7.0 must issue a STARTTLS command first"]
    );
    assert_eq!(
        client.command("STARTTLS").await,
        ["220 2.0.0 ready to start TLS"]
    );
    let mut tls = upgrade(client, dir.path()).await;
    tls.command("EHLO client.example.org").await;
    assert_eq!(
        tls.command("MAIL FROM:<alice@example.org>").await,
        ["250 2.1.0 sender ok"]
    );
    server.stop().await;
}

#[tokio::test]
async fn require_tls_without_a_certificate_does_not_start() {
    let cfg = ServerConfig {
        require_tls: true,
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let err = sg_smtp::serve(
        listener,
        cfg.validate().expect("valid"),
        sg_smtp::Config::default().validate().expect("valid"),
        Arc::new(support::Recorder::default()),
        tokio_util::sync::CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("require_tls"), "{err}");
}

#[tokio::test]
async fn small_inflight_budget_answers_452_and_recovers() {
    let cfg = ServerConfig {
        max_inflight_bytes: 8 * 1024,
        ..ServerConfig::default()
    };
    let server = TestServer::start(cfg).await;
    let mut client = Client::connect(server.addr).await;
    client.command("EHLO c.example.org").await;
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(20_000));
    let reply = client
        .deliver("alice@example.org", "bob@example.net", &big)
        .await;
    assert_eq!(reply, "452 4.3.1 insufficient system storage");
    assert_eq!(
        server.handler.count(),
        0,
        "the big message never reached the handler"
    );
    let reply = client
        .deliver("alice@example.org", "bob@example.net", &message("small"))
        .await;
    assert!(reply.starts_with("250 "), "{reply}");
    server.stop().await;
}
