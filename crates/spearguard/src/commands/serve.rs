//! `spearguard serve`: the gateway. SMTP relay on embedded defaults (127.0.0.1:2525, data
//! under `./data`), every accepted message spooled and fsync'd before the 250, delivered by
//! a worker to `DATA/mailboxes/<recipient>/` (Maildir). SIGTERM or Ctrl-C shut it down
//! gracefully: transactions in flight finish, idle sessions get 421, nothing acknowledged
//! is lost because the spool has it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use sg_deliver::Maildirs;
use sg_spool::Spool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::EXIT_OK;
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::gateway::{pipeline::Pipeline, worker};

/// Runs the gateway until a shutdown signal.
pub(crate) fn run(args: ServeArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let mut cfg = Config::load(config)?;
    if let Some(dir) = &args.data_dir {
        cfg.gateway.data_dir = dir.clone();
    }
    if let Some(addr) = args.smtp_listen {
        cfg.smtp_server.listen = addr;
    }
    let rt = super::runtime_from(&cfg, &args.engine)?;
    let session_cfg = cfg
        .smtp
        .clone()
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid [smtp] config: {e:?}"))?;
    let server_cfg = cfg
        .smtp_server
        .clone()
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid [smtp_server] config: {e:?}"))?;
    let data = cfg.gateway.data_dir.clone();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("creating data dir {}", data.display()))?;
    let spool = Arc::new(
        Spool::open(data.join("spool"))
            .with_context(|| format!("opening spool in {}", data.display()))?,
    );
    let maildirs = Arc::new(Maildirs::open(data.join("mailboxes")).context("opening mailboxes")?);
    // STARTTLS: the configured certificate, or a self-signed one kept in DATA/tls/.
    let server_cfg = server_cfg
        .load_tls(&data, &cfg.smtp.hostname)
        .context("loading the SMTP TLS certificate")?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.smtp_server.listen)
            .await
            .with_context(|| format!("binding SMTP listener {}", cfg.smtp_server.listen))?;
        let addr = listener
            .local_addr()
            .context("reading the SMTP listener address")?;
        eprintln!(
            "spearguard: SMTP listening on {addr}, data in {}",
            data.display()
        );
        let shutdown = CancellationToken::new();
        let (queued, to_deliver) = mpsc::unbounded_channel();
        let pipeline = Arc::new(Pipeline {
            rt: Arc::new(rt),
            spool: spool.clone(),
            tag_prefix: cfg.gateway.tag_subject_prefix.clone(),
            hostname: cfg.smtp.hostname.clone(),
            queued,
        });
        let delivery = tokio::spawn(worker::run(
            spool,
            maildirs,
            to_deliver,
            shutdown.child_token(),
        ));
        let signals = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                eprintln!("spearguard: shutting down");
                shutdown.cancel();
            })
        };
        sg_smtp::serve(
            listener,
            server_cfg,
            session_cfg,
            pipeline,
            shutdown.clone(),
        )
        .await
        .context("SMTP server")?;
        shutdown.cancel();
        let _ = delivery.await;
        signals.abort();
        anyhow::Ok(())
    })?;
    Ok(EXIT_OK)
}

/// SIGTERM or SIGINT.
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
