//! `spearguard bench`: throughput of the hot path on one thread, measured in one run against
//! its own baselines (these machines are shared and noisy, so ratios are what to compare):
//! mail-parser alone, `Message::parse` (parse-only: MIME, charsets, HTML text, links), and
//! the full analysis (parse + every analyser + scoring). CPU time is the thread's own.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use sg_message::Message;

use crate::cli::BenchArgs;
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
    let stages = vec![
        measure("mail-parser only", &messages, rounds, |m| {
            std::hint::black_box(parser.parse(m.as_slice()).map(|p| p.parts.len()));
        }),
        measure("parse-only (Message::parse)", &messages, rounds, |m| {
            std::hint::black_box(Message::parse(m, &rt.limits).map(|p| p.links.len()).ok());
        }),
        measure("full analysis", &messages, rounds, |m| {
            std::hint::black_box(offline::analyse(&rt, m).map(|(_, r)| r.score).ok());
        }),
    ];
    let parse = &stages[1];
    let full = &stages[2];
    let ratio = full.messages_per_s / parse.messages_per_s;
    if args.json {
        let out = serde_json::json!({
            "messages": messages.len(),
            "bytes": bytes,
            "rounds": rounds,
            "analysers": rt.engine.analyser_ids(),
            "stages": stages,
            "full_vs_parse_throughput": ratio,
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
    }
    Ok(EXIT_OK)
}

fn measure(
    name: &'static str,
    messages: &[Vec<u8>],
    rounds: usize,
    mut f: impl FnMut(&Vec<u8>),
) -> Stage {
    let cpu0 = thread_cpu_time();
    let t0 = Instant::now();
    for _ in 0..rounds {
        for m in messages {
            f(m);
        }
    }
    let wall = t0.elapsed();
    let cpu = thread_cpu_time()
        .zip(cpu0)
        .map(|(a, b)| a.saturating_sub(b))
        .unwrap_or(wall);
    let n = messages.len() * rounds;
    Stage {
        name,
        messages: n,
        wall_s: wall.as_secs_f64(),
        cpu_s: cpu.as_secs_f64(),
        messages_per_s: n as f64 / cpu.as_secs_f64().max(1e-9),
        cpu_us_per_message: cpu.as_secs_f64() * 1e6 / n as f64,
    }
}

/// CPU time this thread has used (Linux `/proc/thread-self/schedstat`), if available.
fn thread_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
