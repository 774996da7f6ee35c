//! One client connection: the loop that moves bytes between the socket and a [`Session`],
//! runs the timers the session cannot, and hands finished messages to the handler.
//!
//! The loop is: write what the session has to say; act on its next event (a message:
//! ask the handler, pass on the decision; close: stop); otherwise read once, under the
//! deadline of the session's phase, and feed the bytes in. Reading happens only while the
//! session wants input, so a client pipelining behind DATA waits in its own socket buffer
//! while its message is judged, not in ours.
//!
//! Memory: an idle session holds no read buffer. Bytes are read into a buffer on the
//! worker's stack during the poll that finds them and handed to the session at once, so
//! a thousand idle clients cost a thousand small [`Session`]s and tasks, not a thousand
//! read buffers.
//!
//! STARTTLS: the session queues its 220 and stops reading, having already thrown away
//! anything pipelined behind the command. The loop writes the 220, takes the TCP stream
//! out of [`ClientStream`], runs the handshake under the command timeout, and puts the TLS
//! stream back; a failed handshake ends this connection only.

use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::config::ValidServerConfig;
use super::handler::{Decision, MessageHandler};
use super::stream::ClientStream;
use crate::budget::InflightBudget;
use crate::envelope::{Connection, Envelope};
use crate::event::{Event, Phase};
use crate::limits::ValidConfig;
use crate::reply;
use crate::session::Session;

/// Largest single read; lives on the stack only while a read is being polled.
const READ_SIZE: usize = 16 * 1024;

/// How long the last words (a 421, the TCP shutdown) may take once we are leaving anyway.
const FAREWELL_TIMEOUT: Duration = Duration::from_secs(1);

/// The two stages of shutdown, as every session sees them.
#[derive(Debug, Clone)]
pub(crate) struct Stop {
    /// Stop taking new transactions: 421 at the next command, after the one in flight.
    pub(crate) graceful: CancellationToken,
    /// `shutdown_timeout` passed: say 421 and close now, whatever the session is doing.
    pub(crate) hard: CancellationToken,
}

/// Why a session ended (for the debug log).
#[derive(Debug)]
enum End {
    /// The session closed after 221 or 421.
    Closed,
    /// The client closed its side.
    PeerClosed,
    /// The phase's deadline passed while writing to a client that does not read.
    WriteTimedOut,
    /// The hard stop of a shutdown.
    Stopped,
    /// The hard stop of a shutdown, in the middle of writing a reply (no 421 after half a line).
    StoppedWriting,
    /// Reading or writing failed.
    Io(io::Error),
    /// The TLS handshake after STARTTLS failed.
    Handshake(io::Error),
    /// The TLS handshake after STARTTLS did not finish in time.
    HandshakeTimedOut,
}

/// What woke the read wait.
enum Woke {
    Stop,
    Shutdown,
    Read(io::Result<usize>),
    TimedOut,
}

/// Runs one connection to its end; never fails, logs why it ended.
pub(crate) async fn run<H: MessageHandler>(
    stream: ClientStream,
    peer: SocketAddr,
    cfg: ValidServerConfig,
    session_cfg: ValidConfig,
    budget: InflightBudget,
    handler: Arc<H>,
    stop: Stop,
) {
    let tls_available = cfg.tls_acceptor().is_some();
    let connection = Connection {
        peer,
        tls_available,
        tls_active: stream.is_tls(),
        tls_required: cfg.require_tls && tls_available,
    };
    let mut driver = Driver {
        session: Session::new(session_cfg.clone(), connection).with_budget(budget),
        stream,
        deadline: Instant::now(),
        cfg,
        stop,
        shutdown_seen: false,
        data_window: None,
    };
    debug!("session opened");
    let end = driver.drive(&*handler).await;
    if matches!(end, End::Stopped) && !driver.session.is_closed() {
        let mut out = driver.session.take_output();
        reply::SHUTTING_DOWN
            .fill(&session_cfg.hostname)
            .write_to(&mut out);
        let _ = timeout(FAREWELL_TIMEOUT, async {
            driver.stream.write_all(&out).await?;
            driver.stream.flush().await
        })
        .await;
    }
    let _ = timeout(FAREWELL_TIMEOUT, driver.stream.shutdown()).await;
    match end {
        End::Closed => debug!("session closed"),
        End::PeerClosed => debug!(phase = %driver.session.phase(), "client disconnected"),
        End::WriteTimedOut => debug!("client stopped reading, connection dropped"),
        End::Stopped | End::StoppedWriting => {
            debug!(phase = %driver.session.phase(), "session cut by shutdown");
        }
        End::Io(e) => debug!(error = %e, "connection failed"),
        End::Handshake(e) => info!(error = %e, "tls handshake failed, connection closed"),
        End::HandshakeTimedOut => info!("tls handshake timed out, connection closed"),
    }
}

struct Driver {
    session: Session,
    stream: ClientStream,
    /// When the current wait ends: a whole command line, or the next read in DATA.
    deadline: Instant,
    cfg: ValidServerConfig,
    stop: Stop,
    shutdown_seen: bool,
    /// The current DATA phase: when it began and the bytes read since (minimum data rate).
    data_window: Option<(Instant, u64)>,
}

impl Driver {
    async fn drive<H: MessageHandler>(&mut self, handler: &H) -> End {
        self.arm();
        loop {
            self.notice_shutdown();
            if let Err(end) = self.flush().await {
                return end;
            }
            match self.session.poll_event() {
                Some(Event::MessageReady { envelope, data }) => {
                    if let Err(end) = self.decide(handler, envelope, data).await {
                        return end;
                    }
                    continue;
                }
                Some(Event::StartTls { discarded }) => {
                    if discarded > 0 {
                        // CVE-2011-0411 class: plaintext commands pipelined behind STARTTLS.
                        warn!(discarded, "bytes sent after STARTTLS were discarded");
                    }
                    if let Err(end) = self.start_tls().await {
                        return end;
                    }
                    continue;
                }
                Some(Event::Close) => return self.flush().await.err().unwrap_or(End::Closed),
                None => {}
            }
            if !self.session.wants_input() {
                error!(phase = %self.session.phase(), "session waits for nothing the driver does");
                return End::Closed;
            }
            if let Err(end) = self.read().await {
                return end;
            }
        }
    }

    /// Starts the wait the session's phase calls for.
    fn arm(&mut self) {
        let wait = match self.session.phase() {
            Phase::Data => self.cfg.data_timeout,
            _ => self.cfg.command_timeout,
        };
        self.deadline = Instant::now() + wait;
    }

    /// Tells the session about a graceful shutdown, once.
    fn notice_shutdown(&mut self) {
        if !self.shutdown_seen && self.stop.graceful.is_cancelled() {
            self.shutdown_seen = true;
            self.session.shutting_down();
        }
    }

    /// Writes the session's pending replies; a reply restarts the clock for the next command.
    async fn flush(&mut self) -> Result<(), End> {
        let out = self.session.take_output();
        if out.is_empty() {
            return Ok(());
        }
        self.arm();
        tokio::select! {
            biased;
            () = self.stop.hard.cancelled() => Err(End::StoppedWriting),
            written = timeout_at(self.deadline, write_flushed(&mut self.stream, &out)) => match written {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(End::Io(e)),
                Err(_) => Err(End::WriteTimedOut),
            },
        }
    }

    /// Runs the TLS handshake after the 220 went out, under the command timeout.
    async fn start_tls(&mut self) -> Result<(), End> {
        let Some(acceptor) = self.cfg.tls_acceptor().cloned() else {
            error!("STARTTLS accepted without a certificate");
            return Err(End::Closed);
        };
        let Some(tcp) = self.stream.take_plain() else {
            error!("STARTTLS accepted on a stream that is not plain TCP");
            return Err(End::Closed);
        };
        self.arm();
        let handshake = tokio::select! {
            biased;
            // Mid-handshake there is no channel to say 421 on.
            () = self.stop.hard.cancelled() => return Err(End::StoppedWriting),
            handshake = timeout_at(self.deadline, acceptor.accept(tcp)) => handshake,
        };
        match handshake {
            Ok(Ok(tls)) => self.stream = ClientStream::Tls(Box::new(tls)),
            Ok(Err(e)) => return Err(End::Handshake(e)),
            Err(_) => return Err(End::HandshakeTimedOut),
        }
        if let Some((version, suite)) = self.stream.tls_parameters() {
            debug!(%version, %suite, "tls established");
        }
        if let Err(e) = self.session.tls_started() {
            error!(error = %e, "session refused the end of the handshake");
            return Err(End::Closed);
        }
        self.arm();
        Ok(())
    }

    /// The wait for the next read of message content: `data_timeout` from now, but never
    /// past the start of DATA + `data_timeout` + the time the bytes so far earned at
    /// `min_data_rate`, so content trickled slowly enough is cut however often it comes.
    fn arm_data(&mut self) {
        let now = Instant::now();
        let (started, bytes) = *self.data_window.get_or_insert((now, 0));
        let mut deadline = now + self.cfg.data_timeout;
        if self.cfg.min_data_rate > 0 {
            let earned = Duration::from_secs_f64(bytes as f64 / self.cfg.min_data_rate as f64);
            deadline = deadline.min(started + self.cfg.data_timeout + earned);
        }
        self.deadline = deadline;
    }

    /// Waits for one read (or a timeout, or shutdown) and feeds what came to the session.
    async fn read(&mut self) -> Result<(), End> {
        let in_data = self.session.phase() == Phase::Data;
        if in_data {
            // The data timeout runs between reads, bounded by the minimum data rate.
            self.arm_data();
        } else {
            self.data_window = None;
        }
        let (deadline, shutdown_seen) = (self.deadline, self.shutdown_seen);
        let woke = {
            let Driver {
                session,
                stream,
                stop,
                ..
            } = self;
            let read = poll_fn(|cx| poll_receive(stream, session, cx));
            tokio::select! {
                biased;
                () = stop.hard.cancelled() => Woke::Stop,
                () = stop.graceful.cancelled(), if !shutdown_seen => Woke::Shutdown,
                read = timeout_at(deadline, read) => read.map_or(Woke::TimedOut, Woke::Read),
            }
        };
        match woke {
            Woke::Stop => Err(End::Stopped),
            Woke::Shutdown => {
                self.notice_shutdown();
                Ok(())
            }
            Woke::Read(Ok(0)) => Err(End::PeerClosed),
            Woke::Read(Ok(n)) => {
                if let Some((_, bytes)) = self.data_window.as_mut().filter(|_| in_data) {
                    *bytes = bytes.saturating_add(n as u64);
                }
                Ok(())
            }
            Woke::Read(Err(e)) => Err(End::Io(e)),
            Woke::TimedOut => {
                debug!(phase = %self.session.phase(), "client timed out");
                self.session.timed_out();
                Ok(())
            }
        }
    }

    /// Hands a finished message to the handler and its decision to the session.
    async fn decide<H: MessageHandler>(
        &mut self,
        handler: &H,
        envelope: Envelope,
        data: Vec<u8>,
    ) -> Result<(), End> {
        // The next message's DATA gets a window of its own.
        self.data_window = None;
        let size = data.len();
        let recipients = envelope.rcpt_to.len();
        let decision = tokio::select! {
            biased;
            () = self.stop.hard.cancelled() => return Err(End::Stopped),
            decision = timeout(self.cfg.decision_timeout, handler.on_message(envelope, data)) => decision,
        };
        // A shutdown that began while the handler ran: 421 right after this reply, and
        // nothing pipelined behind the message is answered.
        self.notice_shutdown();
        let applied = match decision {
            Ok(Decision::Stored { queue_id }) => {
                debug!(queue_id = %queue_id, size, recipients, "message stored");
                self.session.message_stored(&queue_id)
            }
            Ok(Decision::Rejected { reason }) => {
                debug!(size, recipients, reason = %reason, "message rejected");
                self.session.message_rejected(&reason)
            }
            Ok(Decision::Tempfailed { reason }) => {
                debug!(size, recipients, reason = %reason, "message tempfailed");
                self.session.message_tempfailed(&reason)
            }
            Ok(Decision::NotStored) => {
                debug!(size, recipients, "message not stored");
                self.session.message_not_stored()
            }
            Err(_) => {
                warn!(
                    size,
                    timeout_secs = self.cfg.decision_timeout.as_secs_f64(),
                    "handler gave no decision in time, answering 451"
                );
                self.session.message_not_stored()
            }
        };
        if let Err(e) = applied {
            // The session asked for this decision; refusing it is a bug in this file.
            error!(error = %e, "session refused the decision");
            return Err(End::Closed);
        }
        Ok(())
    }
}

/// Writes all of `out` and flushes it (TLS buffers records until flushed).
async fn write_flushed(stream: &mut ClientStream, out: &[u8]) -> io::Result<()> {
    stream.write_all(out).await?;
    stream.flush().await
}

/// Polls one read into a stack buffer and feeds the bytes to the session straight away.
fn poll_receive(
    stream: &mut ClientStream,
    session: &mut Session,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    // Uninitialised, so an idle wake-up costs no 16 KiB memset.
    let mut buf = [MaybeUninit::<u8>::uninit(); READ_SIZE];
    let mut read = ReadBuf::uninit(&mut buf);
    match std::pin::Pin::new(stream).poll_read(cx, &mut read) {
        Poll::Ready(Ok(())) => {
            let bytes = read.filled();
            session.receive(bytes);
            Poll::Ready(Ok(bytes.len()))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}
