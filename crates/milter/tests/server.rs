//! The tokio driver on real sockets (127.0.0.1:0) with a scripted MTA: decisions, connection
//! reuse, limits, timeouts and graceful shutdown. Timeouts are configured short (hundreds of
//! milliseconds) because the clock also governs real socket I/O.

mod support;

use std::time::Duration;

use sg_milter::server::ServerConfig;
use sg_milter::{Command, ConnectInfo, Response};
use support::{Mta, Server, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

fn added(value: &str) -> Response {
    Response::AddHeader {
        name: "X-Test".into(),
        value: format!(" {value}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_reaches_the_handler_and_its_decision_the_mta() {
    let server = Server::start(ServerConfig::default()).await;
    let mut mta = Mta::connect(server.addr).await;
    assert_eq!(
        mta.message("clean").await,
        [added("clean"), Response::Accept]
    );
    assert_eq!(
        mta.message("quarantine").await,
        [
            added("quarantine"),
            Response::Quarantine("phishing".into()),
            Response::Continue
        ]
    );
    mta.send(&[Command::Quit]).await;
    assert!(mta.closed().await);
    let messages = server.handler.messages.lock().expect("lock").clone();
    assert_eq!(messages.len(), 2);
    let m = &messages[0];
    assert_eq!(m.envelope.mail_from.as_deref(), Some("<a@example.net>"));
    assert_eq!(m.envelope.recipients[0].address, "<b@example.org>");
    assert_eq!(m.helo.as_deref(), Some("client.example.net"));
    let peer = m.connection.as_ref().and_then(ConnectInfo::ip);
    assert_eq!(peer, Some("192.0.2.7".parse().expect("ip")));
    assert_eq!(m.macros.get("j"), Some("mx.example.org"));
    assert_eq!(m.to_rfc5322(), b"Subject: hello\r\n\r\nclean\r\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_is_reused_after_quit_nc_and_abort() {
    let server = Server::start(ServerConfig::default()).await;
    let mut mta = Mta::connect(server.addr).await;
    mta.send(&[
        Command::Mail(vec!["<x@example.net>".into()]),
        Command::Abort,
    ])
    .await;
    assert_eq!(
        mta.message("first").await,
        [added("first"), Response::Accept]
    );
    mta.send(&[Command::QuitNewConnection]).await;
    assert_eq!(
        mta.message("second").await,
        [added("second"), Response::Accept]
    );
    assert_eq!(server.handler.messages.lock().expect("lock").len(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_handler_becomes_a_tempfail_and_the_connection_goes_on() {
    let server = Server::start(ServerConfig {
        decision_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    })
    .await;
    let mut mta = Mta::connect(server.addr).await;
    let responses = mta.message("hang").await;
    let [Response::ReplyCode(reply)] = responses.as_slice() else {
        panic!("expected one reply code, got {responses:?}");
    };
    assert_eq!((reply.code(), reply.status()), (451, "4.3.0"));
    assert_eq!(mta.message("next").await, [added("next"), Response::Accept]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_decision_becomes_a_tempfail_without_injection() {
    let server = Server::start(ServerConfig::default()).await;
    let mut mta = Mta::connect(server.addr).await;
    let responses = mta.message("bad").await;
    assert!(
        matches!(responses.as_slice(), [Response::ReplyCode(r)] if r.code() == 451),
        "{responses:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_over_the_limit_is_closed_and_others_go_on() {
    let server = Server::start(ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    })
    .await;
    let mut first = Mta::connect(server.addr).await;
    let mut second = TcpStream::connect(server.addr).await.expect("connect");
    let mut buf = [0u8; 16];
    let n = timeout(WAIT, second.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    assert_eq!(first.message("ok").await, [added("ok"), Response::Accept]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_mta_is_cut_after_the_read_timeout() {
    let server = Server::start(ServerConfig {
        read_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    })
    .await;
    let mut mta = Mta::connect(server.addr).await;
    assert!(mta.closed().await);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_closes_the_connection() {
    let server = Server::start(ServerConfig::default()).await;
    let mut mta = Mta::connect(server.addr).await;
    // A frame longer than the maximum.
    mta.tcp
        .write_all(b"\xff\xff\xff\xffB")
        .await
        .expect("write");
    assert!(mta.closed().await);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_message_in_flight_and_closes_idle_connections() {
    let server = Server::start(ServerConfig::default()).await;
    let mut idle = Mta::connect(server.addr).await;
    let mut busy = Mta::connect(server.addr).await;
    let handler = server.handler.clone();
    let in_flight = tokio::spawn(async move {
        let responses = busy.message("slow").await;
        (responses, busy.closed().await)
    });
    // Cancel once the slow message is with the handler.
    timeout(WAIT, async {
        while handler.messages.lock().expect("lock").is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("message reaches the handler");
    let addr = server.addr;
    server.stop().await;
    assert!(idle.closed().await, "idle connection closed at shutdown");
    let (responses, closed) = in_flight.await.expect("task");
    assert_eq!(responses, [added("slow"), Response::Accept]);
    assert!(closed, "closed after its decision");
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}
