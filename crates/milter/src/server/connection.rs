//! One MTA connection: read commands, let the session answer them, ask the handler at end
//! of message, write the replies; with the read, write and decision timeouts the sans-IO
//! session cannot run itself.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::config::ValidServerConfig;
use super::handler::MilterHandler;
use crate::decision::{Decision, Verdict};
use crate::envelope::CompletedMessage;
use crate::event::Event;
use crate::reply::Reply;
use crate::session::{Session, SessionError};

/// Bytes asked of the socket per read (a body chunk is at most 64 KiB; the session buffers).
const READ_SIZE: usize = 16 * 1024;

/// How long the TCP shutdown may take once we are leaving anyway.
const FAREWELL_TIMEOUT: Duration = Duration::from_secs(1);

/// The two stages of shutdown, as every connection sees them.
#[derive(Debug, Clone)]
pub(crate) struct Stop {
    /// Stop taking messages: close as soon as no message is in flight.
    pub(crate) graceful: CancellationToken,
    /// `shutdown_timeout` passed: close now, whatever the connection is doing.
    pub(crate) hard: CancellationToken,
}

/// Why a connection ended (for the log).
#[derive(Debug)]
enum End {
    /// The MTA said QUIT.
    Quit,
    /// The MTA closed the socket.
    PeerClosed,
    /// No command within `read_timeout`.
    ReadTimedOut,
    /// The MTA did not read our replies within `write_timeout`.
    WriteTimedOut,
    /// Graceful shutdown, between messages.
    Shutdown,
    /// The hard stop of a shutdown.
    Stopped,
    /// The MTA broke the protocol.
    Protocol(SessionError),
    /// Reading or writing failed.
    Io(io::Error),
}

/// Runs one connection to its end; never fails, logs why it ended.
pub(crate) async fn run<H: MilterHandler>(
    tcp: TcpStream,
    cfg: ValidServerConfig,
    handler: &H,
    stop: Stop,
) {
    let mut conn = Connection {
        session: Session::new(cfg.session_config()),
        tcp,
        cfg,
        stop,
        buf: vec![0; READ_SIZE],
    };
    debug!("milter connection opened");
    let end = conn.drive(handler).await;
    let _ = timeout(FAREWELL_TIMEOUT, conn.tcp.shutdown()).await;
    match end {
        End::Protocol(e) => {
            warn!(error = %error_chain(&e), "milter protocol error, connection closed")
        }
        End::Io(e) => debug!(error = %e, "milter connection failed"),
        other => debug!(end = ?other, "milter connection closed"),
    }
}

struct Connection {
    session: Session,
    tcp: TcpStream,
    cfg: ValidServerConfig,
    stop: Stop,
    buf: Vec<u8>,
}

impl Connection {
    async fn drive<H: MilterHandler>(&mut self, handler: &H) -> End {
        loop {
            loop {
                let event = match self.session.poll_event() {
                    Ok(Some(event)) => event,
                    Ok(None) => break,
                    Err(e) => return End::Protocol(e),
                };
                match event {
                    Event::Negotiated(n) => {
                        debug!(version = n.version, actions = ?n.actions, protocol = ?n.protocol, "negotiated");
                        if !n.missing_actions.is_empty() {
                            warn!(missing = ?n.missing_actions, "the mta does not grant every action spearguard uses");
                        }
                    }
                    Event::MessageComplete(message) => {
                        if let Err(end) = self.decide(handler, *message).await {
                            return end;
                        }
                    }
                    Event::Aborted => debug!("message aborted by the mta"),
                    Event::LimitExceeded(limit) => info!(?limit, "message over a limit, refused"),
                    Event::ConnectionReset => debug!("smtp session ended, connection reused"),
                    Event::Closed => return self.flush().await.err().unwrap_or(End::Quit),
                }
            }
            if let Err(end) = self.flush().await {
                return end;
            }
            if let Err(end) = self.read().await {
                return end;
            }
        }
    }

    /// Asks the handler (within `decision_timeout`) and hands its decision to the session.
    async fn decide<H: MilterHandler>(
        &mut self,
        handler: &H,
        message: CompletedMessage,
    ) -> Result<(), End> {
        // Whatever the session answered before end of message goes out first.
        self.flush().await?;
        let queue_id = message.queue_id().unwrap_or("").to_owned();
        let decision = tokio::select! {
            biased;
            () = self.stop.hard.cancelled() => return Err(End::Stopped),
            d = timeout(self.cfg.decision_timeout, handler.on_message(message)) => d,
        };
        let decision = decision.unwrap_or_else(|_| {
            warn!(
                queue_id,
                "handler gave no decision in time, telling the mta to tempfail"
            );
            tempfail("content inspection timed out")
        });
        let outcome = match self.session.decide(decision) {
            Ok(outcome) => outcome,
            Err(SessionError::Decision(e)) => {
                warn!(queue_id, error = %error_chain(&e), "handler decision invalid, telling the mta to tempfail");
                self.session
                    .decide(tempfail("content inspection failed"))
                    .map_err(End::Protocol)?
            }
            Err(e) => return Err(End::Protocol(e)),
        };
        if !outcome.dropped.is_empty() {
            warn!(
                queue_id,
                dropped = outcome.dropped.len(),
                "modifications left out: the mta did not grant their action"
            );
        }
        if outcome.quarantine_fallback {
            warn!(
                queue_id,
                "quarantine not granted by the mta, fallback verdict sent"
            );
        }
        Ok(())
    }

    /// Writes the session's pending replies within `write_timeout`.
    async fn flush(&mut self) -> Result<(), End> {
        let out = self.session.take_output();
        if out.is_empty() {
            return Ok(());
        }
        tokio::select! {
            biased;
            () = self.stop.hard.cancelled() => Err(End::Stopped),
            written = timeout(self.cfg.write_timeout, self.tcp.write_all(&out)) => match written {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(End::Io(e)),
                Err(_) => Err(End::WriteTimedOut),
            },
        }
    }

    /// Waits for one read (or a timeout, or shutdown) and feeds what came to the session.
    async fn read(&mut self) -> Result<(), End> {
        // Between messages a graceful shutdown closes at once: the MTA applies its default
        // action to the rest of that SMTP session, as when it cannot reach the filter.
        let idle = !self.session.in_message();
        let read = tokio::select! {
            biased;
            () = self.stop.hard.cancelled() => return Err(End::Stopped),
            () = self.stop.graceful.cancelled(), if idle => return Err(End::Shutdown),
            read = timeout(self.cfg.read_timeout, self.tcp.read(&mut self.buf)) => read,
        };
        match read {
            Err(_) => Err(End::ReadTimedOut),
            Ok(Err(e)) => Err(End::Io(e)),
            Ok(Ok(0)) => Err(End::PeerClosed),
            Ok(Ok(n)) => self
                .session
                .feed(self.buf.get(..n).unwrap_or_default())
                .map_err(End::Protocol),
        }
    }
}

/// A tempfail decision with our own reply text (`451 4.3.0 …`).
fn tempfail(text: &str) -> Decision {
    Decision::new(Verdict::Tempfail(Reply::new(451, "4.3.0", text).ok()))
}

/// An error and its sources, `: `-joined, for one log field.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
