//! The tokio driver on real sockets (127.0.0.1:0) with a scripted MTA: decisions, connection
//! reuse, limits, timeouts and graceful shutdown. Timeouts are configured short (hundreds of
//! milliseconds) because the clock also governs real socket I/O.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sg_milter::codec::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
use sg_milter::server::{MilterHandler, ServerConfig, serve};
use sg_milter::{
    Command, CompletedMessage, ConnectInfo, Decision, Family, Modification, Response, Verdict,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

/// How long a test waits for any one response before failing instead of hanging.
const WAIT: Duration = Duration::from_secs(20);

/// Postfix 3.x's OPTNEG: version 6, every action, every protocol flag.
const POSTFIX_OPTNEG: [u8; 17] = [
    0, 0, 0, 13, b'O', 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff,
];

/// Records messages and decides from the body: `hang`, `bad` (an invalid header), `slow`
/// (300 ms), `quarantine`; anything else is accepted with one added header.
#[derive(Default)]
struct Recorder {
    messages: Mutex<Vec<CompletedMessage>>,
}

impl MilterHandler for Recorder {
    async fn on_message(&self, message: CompletedMessage) -> Decision {
        let body = String::from_utf8_lossy(&message.body).trim().to_owned();
        self.messages.lock().expect("lock").push(message);
        let header = Modification::AddHeader {
            name: "X-Test".into(),
            value: body.clone(),
        };
        match body.as_str() {
            "hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Decision::new(Verdict::Accept)
            }
            "bad" => Decision::new(Verdict::Accept).with(Modification::AddHeader {
                name: "X-Test".into(),
                value: "a\r\nBcc: x@example.org".into(),
            }),
            "quarantine" => Decision::new(Verdict::Quarantine {
                reason: "phishing".into(),
            })
            .with(header),
            other => {
                if other == "slow" {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Decision::new(Verdict::Accept).with(header)
            }
        }
    }
}

struct Server {
    addr: SocketAddr,
    handler: Arc<Recorder>,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(cfg: ServerConfig) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handler = Arc::new(Recorder::default());
        let shutdown = CancellationToken::new();
        let cfg = cfg.validate().expect("valid config");
        let task = tokio::spawn(serve(listener, cfg, handler.clone(), shutdown.clone()));
        Server {
            addr,
            handler,
            shutdown,
            task,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        timeout(WAIT, self.task)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task")
            .expect("serve ok");
    }
}

/// A scripted MTA.
struct Mta {
    tcp: TcpStream,
    decoder: FrameDecoder,
}

impl Mta {
    /// Connects and negotiates like Postfix.
    async fn connect(addr: SocketAddr) -> Mta {
        let mut mta = Mta {
            tcp: TcpStream::connect(addr).await.expect("connect"),
            decoder: FrameDecoder::new(DEFAULT_MAX_FRAME_LEN),
        };
        mta.tcp.write_all(&POSTFIX_OPTNEG).await.expect("optneg");
        assert!(matches!(
            mta.response().await,
            Response::OptionNegotiation { .. }
        ));
        mta
    }

    async fn send(&mut self, commands: &[Command]) {
        let mut out = Vec::new();
        for c in commands {
            c.encode(&mut out).expect("test command encodes");
        }
        self.tcp.write_all(&out).await.expect("write");
    }

    /// Sends a whole message (no replies expected before the body chunk) and returns the
    /// responses to end of message, the final one last.
    async fn message(&mut self, body: &str) -> Vec<Response> {
        self.send(&[
            Command::Macro {
                stage: b'C',
                macros: vec![("j".into(), "mx.example.org".into())],
            },
            Command::Connect(ConnectInfo {
                hostname: "client.example.net".into(),
                family: Family::Inet,
                port: 40000,
                address: "192.0.2.7".into(),
            }),
            Command::Helo("client.example.net".into()),
            Command::Mail(vec!["<a@example.net>".into()]),
            Command::Rcpt(vec!["<b@example.org>".into()]),
            Command::Header {
                name: "Subject".into(),
                value: b" hello".to_vec(),
            },
            Command::EndOfHeaders,
            Command::Body(format!("{body}\r\n").into_bytes()),
        ])
        .await;
        assert_eq!(self.response().await, Response::Continue);
        self.send(&[Command::EndOfBody(Vec::new())]).await;
        let mut out = Vec::new();
        loop {
            let r = self.response().await;
            let last = matches!(
                r,
                Response::Accept
                    | Response::Continue
                    | Response::Reject
                    | Response::Tempfail
                    | Response::Discard
                    | Response::ReplyCode(_)
            );
            out.push(r);
            if last {
                return out;
            }
        }
    }

    async fn response(&mut self) -> Response {
        loop {
            if let Some(frame) = self.decoder.next_frame().expect("well framed") {
                return Response::decode(frame).expect("response decodes");
            }
            let mut buf = [0u8; 4096];
            let n = timeout(WAIT, self.tcp.read(&mut buf))
                .await
                .expect("response in time")
                .expect("read");
            assert!(n > 0, "filter closed the connection");
            self.decoder.extend(&buf[..n]);
        }
    }

    /// Whether the filter closes the connection (within the wait).
    async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 64];
        matches!(
            timeout(WAIT, self.tcp.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

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
