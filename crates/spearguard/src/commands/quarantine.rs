//! `spearguard quarantine list|show|release|delete`: review what the gateway held back.
//! Works on the spool in the data folder while `serve` is stopped (it holds the lock); the
//! HTTP API (`/api/v1/quarantine`, same code in `sg_web::quarantine`) offers it while it runs.

use std::path::Path;

use anyhow::Context as _;
use sg_deliver::Maildirs;
use sg_spool::{QueueId, Spool};
use sg_web::quarantine;

use crate::EXIT_OK;
use crate::cli::{QuarantineAction, QuarantineArgs};
use crate::config::Config;
use crate::gateway::worker;

/// Runs a quarantine subcommand.
pub(crate) fn run(args: QuarantineArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let cfg = Config::load(config)?;
    let data = args.data_dir.unwrap_or(cfg.gateway.data_dir);
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
            let maildirs = Maildirs::open(data.join("mailboxes")).context("opening mailboxes")?;
            quarantine::release(&spool, id, |_| worker::deliver_due(&spool, &maildirs))
                .context("releasing the message")?;
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
