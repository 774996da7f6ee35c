//! `spearguard quarantine list|show|release|delete`: review what the gateway held back.
//! Works on the spool in the data folder while `serve` is stopped (it holds the lock); the
//! HTTP API will offer the same while it runs.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use sg_spool::{QueueId, Spool};

use crate::EXIT_OK;
use crate::cli::{QuarantineAction, QuarantineArgs};
use crate::config::Config;
use crate::gateway::{delivery::Deliverer, worker};

/// Runs a quarantine subcommand.
pub(crate) fn run(args: QuarantineArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let cfg = Config::load(config)?;
    let data = args
        .data_dir
        .clone()
        .unwrap_or(cfg.gateway.data_dir.clone());
    let spool = Spool::open(data.join("spool")).with_context(|| {
        format!(
            "opening the spool in {} (is `spearguard serve` running? it holds the lock)",
            data.display()
        )
    })?;
    let parse = |id: &str| QueueId::parse(id).with_context(|| format!("{id:?} is not a queue id"));
    match args.action {
        QuarantineAction::List { json } => {
            let listing = spool.quarantined().context("listing the quarantine")?;
            for e in listing.entries {
                let verdict: serde_json::Value = e
                    .meta
                    .verdict
                    .as_deref()
                    .and_then(|v| serde_json::from_str(v).ok())
                    .unwrap_or_default();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "id": e.id.to_string(), "received_at": e.meta.received_at,
                            "mail_from": e.meta.mail_from, "rcpt_to": e.meta.rcpt_to,
                            "size": e.body_len, "verdict": verdict,
                        })
                    );
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        e.id,
                        e.meta.received_at,
                        e.meta.mail_from.as_deref().unwrap_or("-"),
                        e.meta.rcpt_to.join(","),
                        verdict["verdict"].as_str().unwrap_or("?"),
                        verdict["score"]
                    );
                }
            }
        }
        QuarantineAction::Show { id } => {
            let m = spool
                .read_quarantined(parse(&id)?)
                .context("reading the message")?;
            println!("{}", m.entry.meta.verdict.as_deref().unwrap_or("{}"));
            println!();
            print!("{}", String::from_utf8_lossy(&m.body));
        }
        QuarantineAction::Release { id } => {
            let id = parse(&id)?;
            spool.release(id).context("releasing the message")?;
            deliver_released(&cfg, spool, &data)?;
            println!("released {id}");
        }
        QuarantineAction::Delete { id } => {
            let id = parse(&id)?;
            spool.delete(id).context("deleting the message")?;
            println!("deleted {id}");
        }
    }
    Ok(EXIT_OK)
}

/// Delivers what is due now (the released message among it) to the configured target: the
/// next hop (`[gateway] relay`) or the local Maildirs.
fn deliver_released(cfg: &Config, spool: Spool, data: &Path) -> anyhow::Result<()> {
    let (queued, _unused) = tokio::sync::mpsc::unbounded_channel();
    let deliverer = Deliverer::from_config(cfg, Arc::new(spool), data, queued)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(worker::deliver_due_once(&deliverer));
    Ok(())
}
