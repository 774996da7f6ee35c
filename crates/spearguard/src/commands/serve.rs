//! `spearguard serve`: the gateway. SMTP relay on embedded defaults (127.0.0.1:2525, data
//! under `./data`) and a milter for Postfix (127.0.0.1:11339, nothing spooled: Postfix
//! holds or delivers); every accepted message spooled and fsync'd before the 250, delivered by
//! a worker to `DATA/mailboxes/<recipient>/` (Maildir), or to the next hop given by
//! `[gateway] relay` / `--relay`. SIGTERM or Ctrl-C shut it down
//! gracefully: transactions in flight finish, idle sessions get 421, nothing acknowledged
//! is lost because the spool has it. The HTTP API (health, metrics, quarantine review)
//! listens on 127.0.0.1:8025 by default.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use sg_spool::Spool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::EXIT_OK;
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::gateway::{
    METRICS, delivery::Deliverer, milter::MilterGate, pipeline::Pipeline, worker,
};

/// Runs the gateway until a shutdown signal.
pub(crate) fn run(args: ServeArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let mut cfg = Config::load(config)?;
    if let Some(dir) = &args.data_dir {
        cfg.gateway.data_dir = dir.clone();
    }
    if let Some(addr) = args.smtp_listen {
        cfg.smtp_server.listen = addr;
    }
    if let Some(addr) = args.milter_listen {
        cfg.milter_server.listen = addr;
    }
    if let Some(addr) = args.http_listen {
        cfg.http.listen = addr;
    }
    if let Some(relay) = args.relay {
        cfg.gateway.relay = relay;
    }
    if let Some(addr) = args.resolver {
        cfg.auth.resolver = addr.to_string();
    }
    let auth_cfg = cfg.gateway_auth();
    let mut rt = super::runtime_from(&cfg, &args.engine)?;
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
    let milter_cfg = cfg.milter_server.clone().validate().map_err(|e| {
        let e: Vec<String> = e.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid [milter_server] config: {}", e.join("; "))
    })?;
    let data = cfg.gateway.data_dir.clone();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("creating data dir {}", data.display()))?;
    let spool = Arc::new(
        Spool::open(data.join("spool"))
            .with_context(|| format!("opening spool in {}", data.display()))?,
    );
    let store = sg_store::open(&cfg.store.url, &data).context("opening the store")?;
    if cfg.organisation.directory.as_os_str().is_empty() {
        // No file in config: the copy saved by `spearguard directory import`, if any.
        let rows = store
            .directory()
            .context("reading the staff directory from the store")?;
        rt.set_directory(
            &cfg.organisation,
            sg_directory::Directory::from_store(&rows),
        );
    }
    tracing::info!(
        entries = rt.directory.len(),
        undisclosed = rt.directory.undisclosed_count(),
        "staff directory"
    );
    // STARTTLS: the configured certificate, or a self-signed one kept in DATA/tls/.
    let server_cfg = server_cfg
        .load_tls(&data, &cfg.smtp.hostname)
        .context("loading the SMTP TLS certificate")?;
    let api_token = api_token(&cfg.http.token, &data)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let milter_listener = tokio::net::TcpListener::bind(milter_cfg.listen)
            .await
            .with_context(|| format!("binding milter listener {}", milter_cfg.listen))?;
        let milter_addr = milter_listener
            .local_addr()
            .context("reading the milter listener address")?;
        eprintln!("spearguard: milter listening on {milter_addr}");
        let http_listener = tokio::net::TcpListener::bind(cfg.http.listen)
            .await
            .with_context(|| format!("binding HTTP listener {}", cfg.http.listen))?;
        let http_addr = http_listener
            .local_addr()
            .context("reading the HTTP listener address")?;
        eprintln!("spearguard: HTTP listening on {http_addr}");
        let auth = auth_cfg
            .map(|c| sg_auth::Verifier::new(&c))
            .transpose()
            .context("setting up sender authentication ([auth])")?;
        let listener = tokio::net::TcpListener::bind(cfg.smtp_server.listen)
            .await
            .with_context(|| format!("binding SMTP listener {}", cfg.smtp_server.listen))?;
        let addr = listener
            .local_addr()
            .context("reading the SMTP listener address")?;
        let shutdown = CancellationToken::new();
        let (queued, to_deliver) = mpsc::unbounded_channel();
        let rt = Arc::new(rt);
        let milter = tokio::spawn(sg_milter::server::serve(
            milter_listener,
            milter_cfg,
            Arc::new(MilterGate {
                rt: rt.clone(),
                tag_prefix: cfg.gateway.tag_subject_prefix.clone(),
                store: store.clone(),
                auth: auth.clone(),
            }),
            shutdown.clone(),
        ));
        let ready = Arc::new(AtomicBool::new(false));
        let http = {
            let queued = queued.clone();
            let state = sg_web::AppState {
                spool: spool.clone(),
                store: store.clone(),
                metrics: METRICS.clone(),
                token: api_token,
                ready: ready.clone(),
                wake: Arc::new(move |id| {
                    let _ = queued.send(id);
                }),
            };
            tokio::spawn(sg_web::serve(
                http_listener,
                state,
                shutdown.clone().cancelled_owned(),
            ))
        };
        let deliverer =
            Deliverer::from_config(&cfg, spool.clone(), &data, queued.clone(), store.clone())?;
        let pipeline = Arc::new(Pipeline {
            rt,
            spool: spool.clone(),
            tag_prefix: cfg.gateway.tag_subject_prefix.clone(),
            hostname: cfg.smtp.hostname.clone(),
            store,
            auth,
            queued,
        });
        let delivery = tokio::spawn(worker::run(
            Arc::new(deliverer),
            to_deliver,
            shutdown.child_token(),
        ));
        let signals = {
            let (shutdown, ready) = (shutdown.clone(), ready.clone());
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("shutting down");
                ready.store(false, Ordering::Release);
                shutdown.cancel();
            })
        };
        ready.store(true, Ordering::Release);
        eprintln!(
            "spearguard: SMTP listening on {addr}, data in {}",
            data.display()
        );
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
        let _ = milter.await;
        match tokio::time::timeout(std::time::Duration::from_secs(5), http).await {
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "HTTP server failed"),
            Err(_) => tracing::warn!("HTTP requests still open after 5 s; exiting anyway"),
            _ => {}
        }
        let _ = delivery.await;
        signals.abort();
        anyhow::Ok(())
    })?;
    Ok(EXIT_OK)
}

/// The API token: from the config, else `DATA/api-token` (generated at first start).
fn api_token(configured: &str, data: &Path) -> anyhow::Result<Arc<str>> {
    if !configured.is_empty() {
        return Ok(configured.into());
    }
    let path = data.join("api-token");
    let (token, created) = sg_web::token::load_or_create(&path)
        .with_context(|| format!("reading or creating the API token {}", path.display()))?;
    match created {
        true => tracing::info!(path = %path.display(), "generated the HTTP API token"),
        false => tracing::info!(path = %path.display(), "HTTP API token read"),
    }
    Ok(token.into())
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
