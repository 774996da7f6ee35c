//! The tokio driver around [`crate::Session`]: accept MTA connections, run one task per
//! connection, hand each finished message to a [`MilterHandler`], shut down cleanly.
//!
//! Thin on purpose, like sg-smtp's driver: the protocol lives in the session, this module
//! only adds what needs a socket or a clock. `connection.rs` drives one connection,
//! `handler.rs` is the contract with the gateway, `config.rs` holds the settings.
//!
//! Shutdown: when the token given to [`serve`] is cancelled, the listener closes and every
//! connection between messages closes at once (the MTA applies its `milter_default_action`
//! to what follows, as when the filter is down). A connection with a message in flight
//! finishes it: its decision is sent, then it closes. [`serve`] waits up to
//! `shutdown_timeout` for them, then closes the rest.

mod config;
mod connection;
mod handler;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info, info_span, warn};

pub use config::{ConfigError, ServerConfig, ValidServerConfig};
pub use handler::MilterHandler;

use connection::Stop;

/// After the hard stop, how long connections get to close.
const HARD_STOP_GRACE: Duration = Duration::from_secs(5);

/// Longest pause after failing accepts (out of file descriptors, say) before trying again.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves the milter protocol on `listener` until `shutdown` is cancelled, then drains.
///
/// Each connection runs on its own task with a session built from `cfg`; at most
/// `cfg.max_connections` run at once, and one more is closed at once. Returns once every
/// connection has ended, or `shutdown_timeout` plus a few seconds after the cancellation
/// at most. Failing accepts are logged and retried, so the only error is the listener's
/// address being unreadable at start.
pub async fn serve<H: MilterHandler>(
    listener: TcpListener,
    cfg: ValidServerConfig,
    handler: Arc<H>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    let tracker = TaskTracker::new();
    let stop = Stop {
        graceful: shutdown.clone(),
        hard: CancellationToken::new(),
    };
    let slots = Arc::new(Semaphore::new(cfg.max_connections));
    let mut next_connection: u64 = 0;
    let mut backoff = Duration::ZERO;
    info!(listen = %local, max_connections = cfg.max_connections, "milter listening");
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
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                warn!(error = %e, retry_in_ms = backoff.as_millis(), "milter accept failed");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = sleep(backoff) => continue,
                }
            }
        };
        next_connection += 1;
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // Milter has no "busy" reply: closing makes the MTA apply its default action.
            warn!(%peer, max_connections = cfg.max_connections, "too many milter connections, connection closed");
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (cfg, handler, stop) = (cfg.clone(), Arc::clone(&handler), stop.clone());
        let span = info_span!("milter_connection", connection = next_connection, %peer);
        tracker.spawn(
            async move {
                connection::run(tcp, cfg, &*handler, stop).await;
                drop(slot);
            }
            .instrument(span),
        );
    }
    drop(listener);
    tracker.close();
    info!(
        connections = tracker.len(),
        "milter shutting down, finishing messages in flight"
    );
    if timeout(cfg.shutdown_timeout, tracker.wait()).await.is_err() {
        warn!(
            connections = tracker.len(),
            "shutdown timeout reached, closing the milter connections still open"
        );
        stop.hard.cancel();
        let _ = timeout(HARD_STOP_GRACE, tracker.wait()).await;
    }
    info!("milter stopped");
    Ok(())
}
