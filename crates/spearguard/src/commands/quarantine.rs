//! `spearguard quarantine list|show|release|delete`: review what the gateway held back.
//! Works on the spool in the data folder while `serve` is stopped (it holds the lock); the
//! HTTP API (`/api/v1/quarantine`, same code in `sg_web::quarantine`) offers it while it runs.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use sg_spool::{QueueId, Spool};
use sg_web::quarantine;

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
            for e in quarantine::list(&spool).context("listing the quarantine")? {
                if json {
                    println!("{}", serde_json::to_string(&e)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        e.id,
                        e.received_at,
                        e.mail_from.as_deref().unwrap_or("-"),
                        e.rcpt_to.join(","),
                        e.verdict.as_deref().unwrap_or("?"),
                        e.score.map_or("?".to_string(), |s| s.to_string())
                    );
                }
            }
        }
        QuarantineAction::Show { id } => {
            let (detail, body) =
                quarantine::show(&spool, parse(&id)?).context("reading the message")?;
            println!("{}", serde_json::to_string(&detail.summary)?);
            println!();
            print!("{}", String::from_utf8_lossy(&body));
        }
        QuarantineAction::Release { id } => {
            let id = parse(&id)?;
            quarantine::release(&spool, id, |_| {}).context("releasing the message")?;
            deliver_released(&cfg, spool, &data)?;
            println!("released {id}");
        }
        QuarantineAction::Delete { id } => {
            let id = parse(&id)?;
            quarantine::delete(&spool, id).context("deleting the message")?;
            println!("deleted {id}");
        }
    }
    Ok(EXIT_OK)
}

/// Delivers what is due now (the released message among it) to the configured target: the
/// next hop (`[gateway] relay`) or the local Maildirs.
fn deliver_released(cfg: &Config, spool: Spool, data: &Path) -> anyhow::Result<()> {
    let (queued, _unused) = tokio::sync::mpsc::unbounded_channel();
    let store = sg_store::open(&cfg.store.url, data).context("opening the store")?;
    let deliverer = Deliverer::from_config(cfg, Arc::new(spool), data, queued, store)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(worker::deliver_due_once(&deliverer));
    Ok(())
}
