//! `spearguard bench`: throughput of the hot path on one thread, measured in one run against
//! its own baselines (these machines are shared and noisy, so ratios are what to compare):
//! mail-parser alone, `Message::parse` (parse-only: MIME, charsets, HTML text, links), and
//! the full analysis (parse + every analyser + scoring), and the stateful analysis (the same
//! with the correlator: fingerprint, history, campaigns, alarm; fresh state each round, as a
//! replay would start). CPU time is the thread's own.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use sg_message::Message;

use sg_correlate::CorrelateConfig;
use sg_detect::lists::DomainList;

use crate::cli::BenchArgs;
use crate::correlation::Correlation;
use crate::inputs::{self, Input};
use crate::{EXIT_OK, offline};

/// One measured stage.
#[derive(Debug, Serialize)]
struct Stage {
    name: &'static str,
    messages: usize,
    wall_s: f64,
    cpu_s: f64,
    messages_per_s: f64,
    cpu_us_per_message: f64,
}

/// Runs the benchmark.
pub(crate) fn run(args: BenchArgs, config: Option<&Path>) -> anyhow::Result<u8> {
    let rt = super::runtime(config, &args.engine)?;
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let (sources, errors) = inputs::discover(&args.paths);
    if !errors.is_empty() {
        anyhow::bail!("cannot read {}: {}", errors[0].source, errors[0].kind);
    }
    for s in &sources {
        for input in inputs::read(s, rt.limits.max_message_size) {
            if let Input::Message(m) = input {
                messages.push(m.bytes);
            }
        }
    }
    anyhow::ensure!(!messages.is_empty(), "no messages to measure");
    let bytes: usize = messages.iter().map(Vec::len).sum();
    let rounds = args.rounds.max(1);
    let parser = mail_parser::MessageParser::default();

    // Warm up caches and lazy statics once.
    for m in messages.iter().take(50) {
        let _ = offline::analyse(&rt, m);
    }
    // Stages alternate within each round, so a change in the machine's load during the run
    // hits every stage alike and the ratios stay meaningful.
    let mut stages = [
        Stage::new("mail-parser only"),
        Stage::new("parse-only (Message::parse)"),
        Stage::new("full analysis"),
        Stage::new("stateful (with correlator)"),
    ];
    for _ in 0..rounds {
        stages[0].add(measure(&messages, |m| {
            std::hint::black_box(parser.parse(m.as_slice()).map(|p| p.parts.len()));
        }));
        stages[1].add(measure(&messages, |m| {
            std::hint::black_box(Message::parse(m, &rt.limits).map(|p| p.links.len()).ok());
        }));
        stages[2].add(measure(&messages, |m| {
            std::hint::black_box(offline::analyse(&rt, m).map(|(_, r)| r.score).ok());
        }));
        let correlation = Correlation::new(
            CorrelateConfig::default(),
            None,
            DomainList::parse(sg_detect::analysers::sender::FREEMAIL_BUILTIN),
        )?;
        let mut n = 0usize;
        stages[3].add(measure(&messages, |m| {
            n += 1;
            let msg = Message::parse(m, &rt.limits).ok();
            std::hint::black_box(msg.map(|msg| correlation.scan(&rt, n.to_string(), &msg).1.score));
        }));
    }
    let parse = &stages[1];
    let full = &stages[2];
    let ratio = full.messages_per_s / parse.messages_per_s;
    let stateful_ratio = stages[3].messages_per_s / full.messages_per_s;
    if args.json {
        let out = serde_json::json!({
            "messages": messages.len(),
            "bytes": bytes,
            "rounds": rounds,
            "analysers": rt.engine.analyser_ids(),
            "stages": stages,
            "full_vs_parse_throughput": ratio,
            "stateful_vs_full_throughput": stateful_ratio,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} messages, {:.1} MB, {rounds} rounds, one thread; analysers: {}",
            messages.len(),
            bytes as f64 / 1e6,
            rt.engine.analyser_ids().join(", ")
        );
        for s in &stages {
            println!(
                "{:<30} {:>9.0} msg/s   {:>8.1} µs CPU/msg",
                s.name, s.messages_per_s, s.cpu_us_per_message
            );
        }
        println!("full analysis / parse-only throughput: {ratio:.2}");
        println!("stateful / full analysis throughput: {stateful_ratio:.2}");
    }
    Ok(EXIT_OK)
}

impl Stage {
    fn new(name: &'static str) -> Stage {
        Stage {
            name,
            messages: 0,
            wall_s: 0.0,
            cpu_s: 0.0,
            messages_per_s: 0.0,
            cpu_us_per_message: 0.0,
        }
    }

    /// Adds one pass (messages, wall time, CPU time) and updates the rates.
    fn add(&mut self, (n, wall, cpu): (usize, Duration, Duration)) {
        self.messages += n;
        self.wall_s += wall.as_secs_f64();
        self.cpu_s += cpu.as_secs_f64();
        self.messages_per_s = self.messages as f64 / self.cpu_s.max(1e-9);
        self.cpu_us_per_message = self.cpu_s * 1e6 / self.messages.max(1) as f64;
    }
}

/// One pass over the messages: (count, wall time, thread CPU time).
fn measure(messages: &[Vec<u8>], mut f: impl FnMut(&Vec<u8>)) -> (usize, Duration, Duration) {
    let cpu0 = thread_cpu_time();
    let t0 = Instant::now();
    for m in messages {
        f(m);
    }
    let wall = t0.elapsed();
    let cpu = thread_cpu_time()
        .zip(cpu0)
        .map(|(a, b)| a.saturating_sub(b))
        .unwrap_or(wall);
    (messages.len(), wall, cpu)
}

/// CPU time this thread has used (Linux `/proc/thread-self/schedstat`), if available.
fn thread_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
