//! A milter server on 127.0.0.1:0 with a recording handler, and a scripted MTA that speaks
//! to it like Postfix.

#![allow(dead_code, unreachable_pub)]

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
pub const WAIT: Duration = Duration::from_secs(20);

/// Postfix 3.x's OPTNEG: version 6, every action, every protocol flag.
const POSTFIX_OPTNEG: [u8; 17] = [
    0, 0, 0, 13, b'O', 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff,
];

/// Records messages and decides from the body: `hang`, `bad` (an invalid header), `slow`
/// (300 ms), `quarantine`; anything else is accepted with one added header.
#[derive(Default)]
pub struct Recorder {
    pub messages: Mutex<Vec<CompletedMessage>>,
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

pub struct Server {
    pub addr: SocketAddr,
    pub handler: Arc<Recorder>,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub async fn start(cfg: ServerConfig) -> Server {
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

    pub async fn stop(self) {
        self.shutdown.cancel();
        timeout(WAIT, self.task)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task")
            .expect("serve ok");
    }
}

/// A scripted MTA.
pub struct Mta {
    pub tcp: TcpStream,
    decoder: FrameDecoder,
}

impl Mta {
    /// Connects and negotiates like Postfix.
    pub async fn connect(addr: SocketAddr) -> Mta {
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

    pub async fn send(&mut self, commands: &[Command]) {
        let mut out = Vec::new();
        for c in commands {
            c.encode(&mut out).expect("test command encodes");
        }
        self.tcp.write_all(&out).await.expect("write");
    }

    /// Sends a whole message (no replies expected before the body chunk) and returns the
    /// responses to end of message, the final one last.
    pub async fn message(&mut self, body: &str) -> Vec<Response> {
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

    pub async fn response(&mut self) -> Response {
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
    pub async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 64];
        matches!(
            timeout(WAIT, self.tcp.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}
