//! `spearguard messages`: what the gateway decided, newest first, from the store. The
//! database can be read while `serve` runs (SQLite in WAL mode).

use std::path::Path;

use std::io::Write as _;

use anyhow::Context as _;
use sg_store::MessageQuery;

use crate::EXIT_OK;
use crate::cli::MessagesArgs;
use crate::config::Config;

/// Prints the message log.
pub(crate) fn run(args: MessagesArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let cfg = Config::load(config)?;
    let data = args.data_dir.unwrap_or(cfg.gateway.data_dir);
    let store = sg_store::open(&cfg.store.url, &data)?;
    let query = MessageQuery {
        verdict: args.verdict,
        since: args.since,
        queue_id: None,
        limit: args.limit,
    };
    let rows = store.messages(&query).context("reading the message log")?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = rows.iter().try_for_each(|m| {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(m).unwrap_or_default())
        } else {
            writeln!(
                out,
                "{}\t{}\t{}\t{:.1}\t{}\t{}\t{}",
                m.received_at,
                m.queue_id.as_deref().unwrap_or("-"),
                m.verdict,
                m.score,
                m.action,
                m.mail_from.as_deref().unwrap_or("<>"),
                m.subject.as_deref().unwrap_or(""),
            )
        }
    });
    match written.and_then(|()| out.flush()) {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the message log")
        }
        _ => Ok(EXIT_OK),
    }
}
