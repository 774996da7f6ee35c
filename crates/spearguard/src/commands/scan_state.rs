//! `spearguard scan --state DB`: messages in the given order, one at a time, with the
//! correlator (campaigns, first contact, the undisclosed-address alarm) kept in DB between
//! messages and runs. Each message's time is its topmost `Received` date (else `Date`), so a
//! replay of past traffic behaves as it did live. JSON output gains `campaign` and `alerts`.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use sg_correlate::CorrelateConfig;
use sg_detect::lists::DomainList;
use sg_store::{SqliteStore, Store};

use crate::config::{Config, Runtime};
use crate::correlation::Correlation;
use crate::inputs::{self, Input};
use crate::{output, progress};

/// The key of the correlator's snapshot in the state store.
const STATE_KEY: &str = "correlator";

/// Totals for the exit status: (errors, blocked).
pub(crate) fn run(
    cfg: &Config,
    rt: &Runtime,
    paths: &[std::path::PathBuf],
    state: &Path,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<(usize, usize)> {
    let store = SqliteStore::open(state)
        .with_context(|| format!("opening the state database {}", state.display()))?;
    let snapshot = store.state(STATE_KEY).context("reading the saved state")?;
    let freemail = DomainList::load(
        &cfg.analysers.sender.freemail,
        sg_detect::analysers::sender::FREEMAIL_BUILTIN,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let correlation = Correlation::new(CorrelateConfig::default(), snapshot.as_deref(), freemail)?;
    let (sources, errors) = inputs::discover(paths);
    let (mut n_errors, mut blocked) = (errors.len(), 0);
    for e in errors {
        eprintln!("spearguard: {}: {}", e.source, e.kind);
    }
    let total: u64 = sources.iter().map(|s| s.size()).sum();
    let pb = progress::bar(total, "scanning with state");
    for source in &sources {
        for input in inputs::read(source, rt.limits.max_message_size) {
            let Input::Message(m) = input else {
                if let Input::Error(e) = input {
                    eprintln!("spearguard: {}: {}", e.source, e.kind);
                    n_errors += 1;
                }
                continue;
            };
            let msg = match sg_message::Message::parse(&m.bytes, &rt.limits) {
                Ok(msg) => msg,
                Err(e) => {
                    eprintln!("spearguard: {}: {e}", m.source);
                    n_errors += 1;
                    continue;
                }
            };
            let (seen, report) = correlation.scan(rt, m.source.clone(), &msg);
            blocked += usize::from(report.verdict.is_blocked());
            let line = if json {
                let mut v = output::json_value(&m.source, msg.message_id.as_deref(), &report);
                let campaign = seen.assessment.campaign.as_ref();
                v["campaign"] = campaign.map_or(serde_json::Value::Null, |c| c.id.into());
                v["clawback"] =
                    campaign.map_or(serde_json::json!([]), |c| c.clawback.clone().into());
                v["alerts"] = seen.alerts_json();
                v.to_string()
            } else {
                output::text_line(&m.source, &report)
            };
            writeln!(out, "{line}").context("writing results")?;
        }
        pb.inc(source.size());
    }
    pb.finish_and_clear();
    store
        .put_state(STATE_KEY, &correlation.snapshot())
        .context("saving the state")?;
    Ok((n_errors, blocked))
}
