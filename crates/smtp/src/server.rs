//! The tokio driver around [`crate::Session`]: accept connections, run one task per client,
//! hand messages to a [`MessageHandler`], and shut down without losing a transaction.
//!
//! The driver is thin on purpose (convention 5): SMTP lives in the session, and this
//! module only adds what needs a socket or a clock. `connection.rs` drives one client,
//! `stream.rs` is the transport (plain TCP, TLS after STARTTLS), `tls.rs` the certificate,
//! `handler.rs` is the contract with the gateway's pipeline, and `config.rs` holds the
//! listener's settings. Every session takes message memory from one [`crate::InflightBudget`]
//! of `max_inflight_bytes`.
//!
//! Shutdown (convention 9): when the token given to [`serve`] is cancelled, the listener
//! closes; an idle session, or one between commands, answers `421 4.3.2` at once; a session
//! in DATA or waiting for its decision finishes that message, gets its final reply, then
//! `421 4.3.2`. [`serve`] waits up to `shutdown_timeout` for all of them, then sends the
//! rest `421 4.3.2` and closes them. Nothing acknowledged is lost: a message is only
//! acknowledged once the handler has it on disk.

mod config;
mod connection;
mod handler;
mod stream;
mod tls;

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info, info_span, warn};

pub use config::{ServerConfig, ValidServerConfig};
pub use handler::{Decision, MessageHandler};
pub use tls::{TlsAcceptor, TlsError, install_crypto_provider};

use crate::budget::InflightBudget;
use crate::limits::ValidConfig;
use crate::reply;
use connection::Stop;
use stream::ClientStream;

/// After the hard stop, how long sessions get to say 421 and close.
const HARD_STOP_GRACE: Duration = Duration::from_secs(5);

/// Longest pause after failing accepts (out of file descriptors, say) before trying again.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves SMTP on `listener` until `shutdown` is cancelled, then drains the sessions.
///
/// Each connection runs on its own task with a [`crate::Session`] built from
/// `session_cfg`; at most `cfg.max_sessions` run at once, and one more is answered
/// `421 4.7.0` and closed. Every finished message goes to `handler` (read its durability
/// contract). Returns once every session has ended, or `shutdown_timeout` plus a few
/// seconds after the cancellation at most (unless a handler blocks its thread instead of
/// awaiting). Failing accepts are logged and retried, so the only errors come at start: the
/// listener's address unreadable, or `require_tls` without a certificate
/// ([`ValidServerConfig::load_tls`]). STARTTLS is offered when `cfg` has a certificate.
pub async fn serve<H: MessageHandler>(
    listener: TcpListener,
    cfg: ValidServerConfig,
    session_cfg: ValidConfig,
    handler: Arc<H>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    if cfg.require_tls && cfg.tls_acceptor().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "require_tls is set but no TLS certificate is loaded",
        ));
    }
    let budget = InflightBudget::new(cfg.max_inflight_bytes);
    let tracker = TaskTracker::new();
    let stop = Stop {
        graceful: shutdown.clone(),
        hard: CancellationToken::new(),
    };
    let slots = Arc::new(Semaphore::new(cfg.max_sessions));
    let mut next_session: u64 = 0;
    let mut backoff = Duration::ZERO;
    info!(
        listen = %local,
        max_sessions = cfg.max_sessions,
        tls = cfg.tls_acceptor().is_some(),
        max_inflight_bytes = cfg.max_inflight_bytes,
        "smtp listening"
    );
    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => {
                backoff = Duration::ZERO;
                accepted
            }
            Err(e) => {
                // EMFILE and friends: the next accept fails the same way until a session
                // ends, so pause instead of spinning.
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                warn!(error = %e, retry_in_ms = backoff.as_millis(), "accept failed");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = sleep(backoff) => continue,
                }
            }
        };
        next_session += 1;
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            refuse_busy(tcp, &session_cfg);
            warn!(%peer, max_sessions = cfg.max_sessions, "too many sessions, connection refused");
            continue;
        };
        // Replies are written whole, one write per batch; do not hold the last one back.
        if let Err(e) = tcp.set_nodelay(true) {
            debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        let session = connection::run(
            ClientStream::Plain(tcp),
            peer,
            cfg.clone(),
            session_cfg.clone(),
            budget.clone(),
            Arc::clone(&handler),
            stop.clone(),
        );
        let span = info_span!("smtp_session", session = next_session, %peer);
        let gauge = SessionGauge::open(Arc::clone(&handler));
        tracker.spawn(
            async move {
                session.await;
                drop((slot, gauge));
            }
            .instrument(span),
        );
    }
    drop(listener);
    drain(&tracker, &cfg, &stop).await;
    Ok(())
}

/// Tells the handler a session opened, and (on drop, even if the task is cut) that it ended.
struct SessionGauge<H: MessageHandler>(Arc<H>);

impl<H: MessageHandler> SessionGauge<H> {
    fn open(handler: Arc<H>) -> Self {
        handler.on_session(true);
        SessionGauge(handler)
    }
}

impl<H: MessageHandler> Drop for SessionGauge<H> {
    fn drop(&mut self) {
        self.0.on_session(false);
    }
}

/// Waits for the sessions after a shutdown began: gracefully, then cut at the deadline.
async fn drain(tracker: &TaskTracker, cfg: &ServerConfig, stop: &Stop) {
    tracker.close();
    info!(
        sessions = tracker.len(),
        "smtp shutting down, finishing transactions in flight"
    );
    if timeout(cfg.shutdown_timeout, tracker.wait()).await.is_err() {
        warn!(
            sessions = tracker.len(),
            timeout_secs = cfg.shutdown_timeout.as_secs_f64(),
            "shutdown timeout reached, closing the sessions still open"
        );
        stop.hard.cancel();
        if timeout(HARD_STOP_GRACE, tracker.wait()).await.is_err() {
            warn!(
                sessions = tracker.len(),
                "sessions still running after the hard stop"
            );
        }
    }
    info!("smtp stopped");
}

/// Answers `421 4.7.0` on a connection over `max_sessions`, without a task or a wait.
fn refuse_busy(tcp: TcpStream, session_cfg: &ValidConfig) {
    let mut out = Vec::new();
    reply::TOO_MANY_CONNECTIONS
        .fill(&session_cfg.hostname)
        .write_to(&mut out);
    // tokio's `try_write` would not even try before the reactor has seen the new socket
    // become writable, so write through the std socket (still non-blocking) instead: a
    // fresh socket's send buffer is empty, and a short write succeeds at once. If it fails
    // anyway, the client sees the close and retries later all the same.
    if let Ok(mut std) = tcp.into_std() {
        let _ = std.write(&out);
    }
}
