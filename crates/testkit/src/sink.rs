//! A programmable SMTP sink for tests: sg-smtp's real server on `127.0.0.1:0`, with a
//! handler that records every message it accepts and can refuse on purpose.
//!
//! sg-smtp's handler decides once per message, at the end of DATA, so refusals come there:
//! the first [`SinkOptions::tempfail_first`] messages get `451 4.7.1`, and a message for any
//! of [`SinkOptions::reject_recipients`] gets `550 5.7.1` (for all its recipients). Use
//! [`Sink`] from async tests and [`BlockingSink`] (its own runtime) from blocking ones.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sg_smtp::{Decision, Envelope, MessageHandler};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How the sink answers.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// This many messages (counted from the start) get `451 4.7.1` at the end of DATA.
    pub tempfail_first: usize,
    /// A message with one of these recipients (compared without case) gets `550 5.7.1`.
    pub reject_recipients: Vec<String>,
}

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope (MAIL FROM, RCPT TO, parameters) as sg-smtp parsed it.
    pub envelope: Envelope,
    /// The content, dot-unstuffed, CRLF line endings.
    pub data: Vec<u8>,
}

impl Received {
    /// The content as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

#[derive(Debug)]
struct Recorder {
    options: SinkOptions,
    attempts: AtomicUsize,
    messages: Mutex<Vec<Received>>,
}

impl MessageHandler for Recorder {
    async fn on_message(&self, envelope: Envelope, data: Vec<u8>) -> Decision {
        let n = self.attempts.fetch_add(1, Ordering::SeqCst);
        if n < self.options.tempfail_first {
            return Decision::Tempfailed {
                reason: "sink tempfails on purpose".to_string(),
            };
        }
        let rejected = envelope.rcpt_to.iter().any(|r| {
            self.options
                .reject_recipients
                .iter()
                .any(|x| x.eq_ignore_ascii_case(r))
        });
        if rejected {
            return Decision::Rejected {
                reason: "no such user here".to_string(),
            };
        }
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Received { envelope, data });
        Decision::Stored {
            queue_id: format!("sink{n}"),
        }
    }
}

/// A running sink; stops when dropped.
#[derive(Debug)]
pub struct Sink {
    addr: SocketAddr,
    recorder: Arc<Recorder>,
    shutdown: CancellationToken,
}

impl Sink {
    /// Starts a sink on a free loopback port (inside a tokio runtime).
    pub async fn start(options: SinkOptions) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the sink on loopback");
        let addr = listener.local_addr().expect("sink address");
        let server = sg_smtp::ServerConfig {
            listen: addr,
            shutdown_timeout: Duration::from_secs(1),
            ..sg_smtp::ServerConfig::default()
        }
        .validate()
        .expect("valid sink server config");
        let session = sg_smtp::Config {
            hostname: "sink.example".to_string(),
            ..sg_smtp::Config::default()
        }
        .validate()
        .expect("valid sink session config");
        let recorder = Arc::new(Recorder {
            options,
            attempts: AtomicUsize::new(0),
            messages: Mutex::new(Vec::new()),
        });
        let shutdown = CancellationToken::new();
        tokio::spawn(sg_smtp::serve(
            listener,
            server,
            session,
            Arc::clone(&recorder),
            shutdown.clone(),
        ));
        Sink {
            addr,
            recorder,
            shutdown,
        }
    }

    /// Where the sink listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        self.recorder
            .messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Messages offered so far (those refused included).
    pub fn attempts(&self) -> usize {
        self.recorder.attempts.load(Ordering::SeqCst)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A [`Sink`] on its own runtime thread, for tests that block (the end-to-end tests).
#[derive(Debug)]
pub struct BlockingSink {
    sink: Option<Sink>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BlockingSink {
    /// Starts a sink on a free loopback port.
    pub fn start(options: SinkOptions) -> BlockingSink {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("sink runtime");
        let sink = runtime.block_on(Sink::start(options));
        BlockingSink {
            sink: Some(sink),
            runtime: Some(runtime),
        }
    }

    fn sink(&self) -> &Sink {
        self.sink.as_ref().expect("the sink runs until dropped")
    }

    /// Where the sink listens.
    pub fn addr(&self) -> SocketAddr {
        self.sink().addr()
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        self.sink().messages()
    }

    /// Messages offered so far (those refused included).
    pub fn attempts(&self) -> usize {
        self.sink().attempts()
    }

    /// Polls until `done(messages)` holds; panics after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&[Received]) -> bool) {
        let start = Instant::now();
        while !done(&self.messages()) {
            assert!(start.elapsed() < limit, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for BlockingSink {
    fn drop(&mut self) {
        drop(self.sink.take());
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}
