//! `spearguard eval`: how well the current config separates labelled mail — the share of
//! each class blocked (quarantined or rejected) and tagged, and how often each signal fires
//! per class. With `--folds K` the classifier is cross-validated: each fold is scanned by a
//! model trained on the other folds only, so the figures are honest about unseen mail.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rayon::prelude::*;
use serde::Serialize;
use sg_detect::{BuildOptions, Report, Verdict};

use crate::cli::EvalArgs;
use crate::config::{Config, Runtime};
use crate::labelled::{self, Class, Sample};
use crate::{EXIT_OK, offline};

/// Verdict counts for one class.
#[derive(Debug, Default, Serialize)]
struct ClassStats {
    messages: usize,
    errors: usize,
    deliver: usize,
    tag: usize,
    quarantine: usize,
    reject: usize,
    /// Share quarantined or rejected.
    blocked_share: f64,
    /// Share tagged.
    tagged_share: f64,
}

/// The whole evaluation, as printed with `--json`.
#[derive(Debug, Serialize)]
struct Evaluation {
    folds: Option<usize>,
    classes: BTreeMap<&'static str, ClassStats>,
    /// Signal → class → share of that class's messages it fired on.
    signals: BTreeMap<String, BTreeMap<&'static str, f64>>,
}

/// Runs the evaluation.
pub(crate) fn run(args: EvalArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let cfg = Config::load(config)?;
    let samples = labelled::load(
        &[
            (&args.labelled.malicious, Class::Malicious),
            (&args.labelled.benign, Class::Benign),
            (&args.spam, Class::Spam),
        ],
        &cfg.limits,
    );
    let reports: Vec<Option<Report>> = match args.folds {
        Some(k) if k >= 2 => cross_validate(&cfg, &samples, k, &args)?,
        Some(_) => anyhow::bail!("--folds needs at least 2"),
        None => {
            let rt = super::runtime(config, &args.engine)?;
            scan_all(&rt, &samples, |_| true)
        }
    };
    if let Some(path) = &args.results {
        write_results(path, &samples, &reports)?;
    }
    let eval = summarise(&samples, &reports, args.folds);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&eval)?);
    } else {
        print_tables(&eval);
    }
    Ok(EXIT_OK)
}

/// Writes one JSON line per message: the scan result plus its class.
fn write_results(
    path: &Path,
    samples: &[Sample],
    reports: &[Option<Report>],
) -> anyhow::Result<()> {
    use std::io::Write;
    let file = std::fs::File::create(path)
        .with_context(|| format!("creating results file {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    for (s, r) in samples.iter().zip(reports) {
        let line =
            match (r, &s.message) {
                (Some(r), Ok(msg)) => {
                    let mut v: serde_json::Value = serde_json::from_str(
                        &crate::output::json_line(&s.source, msg.message_id.as_deref(), r),
                    )?;
                    v["class"] = s.class.name().into();
                    v.to_string()
                }
                (_, Err(e)) => {
                    serde_json::json!({"source": s.source, "class": s.class.name(), "error": e})
                        .to_string()
                }
                (None, Ok(_)) => continue,
            };
        writeln!(w, "{line}").with_context(|| format!("writing {}", path.display()))?;
    }
    w.flush()
        .with_context(|| format!("writing {}", path.display()))
}

/// Which fold a message belongs to: a stable hash of its source.
fn fold_of(source: &str, k: usize) -> usize {
    (xxhash_rust::xxh3::xxh3_64(source.as_bytes()) % k as u64) as usize
}

fn cross_validate(
    cfg: &Config,
    samples: &[Sample],
    k: usize,
    args: &EvalArgs,
) -> anyhow::Result<Vec<Option<Report>>> {
    let mut reports: Vec<Option<Report>> = (0..samples.len()).map(|_| None).collect();
    for fold in 0..k {
        let model = super::train::train(samples, 3, |s| fold_of(&s.source, k) != fold);
        let opts = BuildOptions {
            model: None,
            model_data: Some(Arc::new(model)),
        };
        let rt = super::runtime_with(cfg, &opts, &args.engine.only)?;
        let fold_reports = scan_all(&rt, samples, |s| fold_of(&s.source, k) == fold);
        for (slot, r) in reports.iter_mut().zip(fold_reports) {
            if r.is_some() {
                *slot = r;
            }
        }
        eprintln!("fold {}/{k} done", fold + 1);
    }
    Ok(reports)
}

/// Scans the samples `keep` accepts; the others get `None`.
fn scan_all(
    rt: &Runtime,
    samples: &[Sample],
    keep: impl Fn(&Sample) -> bool + Sync,
) -> Vec<Option<Report>> {
    samples
        .par_iter()
        .map(|s| match &s.message {
            Ok(msg) if keep(s) => Some(offline::analyse_parsed(rt, msg)),
            _ => None,
        })
        .collect()
}

fn summarise(samples: &[Sample], reports: &[Option<Report>], folds: Option<usize>) -> Evaluation {
    let mut classes: BTreeMap<&'static str, ClassStats> = BTreeMap::new();
    let mut fired: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    for (s, r) in samples.iter().zip(reports) {
        let stats = classes.entry(s.class.name()).or_default();
        stats.messages += 1;
        let Some(r) = r else {
            stats.errors += 1;
            continue;
        };
        match r.verdict {
            Verdict::Deliver => stats.deliver += 1,
            Verdict::Tag => stats.tag += 1,
            Verdict::Quarantine => stats.quarantine += 1,
            Verdict::Reject => stats.reject += 1,
        }
        let mut names: Vec<&str> = r.signals.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            *fired
                .entry(n.to_string())
                .or_default()
                .entry(s.class.name())
                .or_default() += 1;
        }
    }
    for stats in classes.values_mut() {
        let n = stats.messages.max(1) as f64;
        stats.blocked_share = (stats.quarantine + stats.reject) as f64 / n;
        stats.tagged_share = stats.tag as f64 / n;
    }
    let signals = fired
        .into_iter()
        .map(|(name, per)| {
            let shares = classes
                .iter()
                .map(|(c, st)| {
                    (
                        *c,
                        per.get(c).copied().unwrap_or(0) as f64 / st.messages.max(1) as f64,
                    )
                })
                .collect();
            (name, shares)
        })
        .collect();
    Evaluation {
        folds,
        classes,
        signals,
    }
}

fn print_tables(eval: &Evaluation) {
    match eval.folds {
        Some(k) => println!(
            "classifier: {k}-fold cross-validated (each message scored by a model that never saw it)"
        ),
        None => println!(
            "classifier: as configured (--model / [analysers.classifier] model; none = rules only)"
        ),
    }
    println!();
    println!(
        "{:<10} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "CLASS", "MESSAGES", "BLOCKED", "TAGGED", "deliver", "tag", "quar.", "reject", "errors"
    );
    for (name, s) in &eval.classes {
        println!(
            "{:<10} {:>8} {:>8.2}% {:>7.2}% {:>8} {:>8} {:>8} {:>8} {:>7}",
            name,
            s.messages,
            s.blocked_share * 100.0,
            s.tagged_share * 100.0,
            s.deliver,
            s.tag,
            s.quarantine,
            s.reject,
            s.errors
        );
    }
    println!();
    let classes: Vec<&str> = eval.classes.keys().copied().collect();
    print!("{:<34}", "SIGNAL (share of class it fired on)");
    for c in &classes {
        print!(" {c:>10}");
    }
    println!();
    for (name, per) in &eval.signals {
        print!("{name:<34}");
        for c in &classes {
            print!(" {:>9.2}%", per.get(c).copied().unwrap_or(0.0) * 100.0);
        }
        println!();
    }
}
