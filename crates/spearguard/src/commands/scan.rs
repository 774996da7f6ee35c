//! `spearguard scan`: analyse stored messages and print one line (or JSON object) each.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use rayon::prelude::*;

use crate::cli::ScanArgs;
use crate::config::{Config, Runtime};
use crate::inputs::{self, Input};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK, offline, output, progress};

const BATCH: usize = 256;

/// Totals over a scan, for the exit status.
#[derive(Default)]
struct Outcome {
    errors: usize,
    blocked: usize,
}

/// Runs the scan.
pub(crate) fn run(args: ScanArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let mut cfg = Config::load(config)?;
    if let Some(file) = &args.directory {
        cfg.organisation.directory = file.clone();
    }
    let rt = super::runtime_from(&cfg, &args.engine)?;
    if let Some(state) = &args.state {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let (errors, blocked) =
            super::scan_state::run(&cfg, &rt, &args.paths, state, args.json, &mut out)?;
        out.flush().context("writing results")?;
        return Ok(exit_status(errors, blocked));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut outcome = Outcome::default();

    let mut batch: Vec<Input> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<Input>, out: &mut dyn Write, outcome: &mut Outcome| {
        let lines: Vec<(String, bool, bool)> = pool.install(|| {
            batch
                .par_iter()
                .map(|i| scan_one(&rt, i, args.json))
                .collect()
        });
        for (line, error, blocked) in lines {
            let _ = writeln!(out, "{line}");
            outcome.errors += usize::from(error);
            outcome.blocked += usize::from(blocked);
        }
        batch.clear();
    };

    if args.paths.len() == 1 && args.paths[0] == Path::new("-") {
        let stdin = std::io::stdin().lock();
        batch.extend(inputs::read_from(
            "-".to_string(),
            stdin,
            rt.limits.max_message_size,
        ));
        flush(&mut batch, &mut out, &mut outcome);
    } else {
        let (sources, errors) = inputs::discover(&args.paths);
        for e in errors {
            outcome.errors += 1;
            report_error(&mut out, args.json, &e.source, &e.kind.to_string());
        }
        let total: u64 = sources.iter().map(|s| s.size()).sum();
        let pb = progress::bar(total, "scanning");
        for source in &sources {
            for input in inputs::read(source, rt.limits.max_message_size) {
                batch.push(input);
                if batch.len() >= BATCH {
                    flush(&mut batch, &mut out, &mut outcome);
                }
            }
            pb.inc(source.size());
        }
        flush(&mut batch, &mut out, &mut outcome);
        pb.finish_and_clear();
    }
    out.flush().context("writing results")?;
    Ok(exit_status(outcome.errors, outcome.blocked))
}

/// 2 on any error, else 1 when anything was blocked, else 0.
fn exit_status(errors: usize, blocked: usize) -> u8 {
    if errors > 0 {
        EXIT_ERROR
    } else if blocked > 0 {
        EXIT_BLOCKED
    } else {
        EXIT_OK
    }
}

/// Scans one input; returns the line to print, whether it was an error, whether it was blocked.
fn scan_one(rt: &Runtime, input: &Input, json: bool) -> (String, bool, bool) {
    match input {
        Input::Error(e) => {
            let msg = e.kind.to_string();
            eprintln!("spearguard: {}: {msg}", e.source);
            (line_for_error(json, &e.source, &msg), true, false)
        }
        Input::Message(m) => match offline::analyse(rt, &m.bytes) {
            Ok((msg, report)) => {
                let line = if json {
                    output::json_line(&m.source, msg.message_id.as_deref(), &report)
                } else {
                    output::text_line(&m.source, &report)
                };
                (line, false, report.verdict.is_blocked())
            }
            Err(e) => {
                let msg = e.to_string();
                eprintln!("spearguard: {}: {msg}", m.source);
                (line_for_error(json, &m.source, &msg), true, false)
            }
        },
    }
}

fn line_for_error(json: bool, source: &str, msg: &str) -> String {
    if json {
        output::json_error(source, msg)
    } else {
        format!("{source}\terror\t-\t{msg}")
    }
}

fn report_error(out: &mut dyn Write, json: bool, source: &str, msg: &str) {
    eprintln!("spearguard: {source}: {msg}");
    let _ = writeln!(out, "{}", line_for_error(json, source, msg));
}
