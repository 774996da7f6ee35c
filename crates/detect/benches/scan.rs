//! Hot path benchmark: parse-only versus full analysis over the same messages, in one run, so
//! the ratio is meaningful on a noisy shared machine. Uses up to 500 messages of
//! `../shared/corpus` when present, else the repository's fixtures.
//!
//! `cargo bench -p sg-detect --bench scan`

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sg_detect::analysers::{self, AnalysersConfig, BuildOptions};
use sg_detect::{Context, DetectConfig, Engine, Organisation};
use sg_message::{Direction, Envelope, Limits, Message};

fn main() {
    divan::main();
}

fn messages() -> &'static Vec<Vec<u8>> {
    static M: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    M.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let corpus = root.join("../../../shared/corpus");
        let mut files: Vec<PathBuf> = Vec::new();
        if let Ok(labels) = std::fs::read_to_string(corpus.join("labels.csv")) {
            files = labels
                .lines()
                .skip(1)
                .filter_map(|l| l.split(',').next())
                .step_by(13)
                .take(500)
                .map(|f| corpus.join(f))
                .collect();
        }
        if files.is_empty() {
            eprintln!("../shared/corpus not present: benchmarking the fixtures");
            let dir = root.join("../../fixtures/messages");
            files = std::fs::read_dir(dir)
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            files.retain(|p| p.extension().is_some_and(|x| x == "eml"));
        }
        files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    })
}

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let a = analysers::build(&AnalysersConfig::default(), &BuildOptions::default())
            .expect("default analysers build");
        Engine::new(a, &DetectConfig::default()).expect("default engine")
    })
}

/// Baseline: parse every message into facts.
#[divan::bench]
fn parse_only(b: divan::Bencher) {
    let msgs = messages();
    let limits = Limits::default();
    b.counter(divan::counter::ItemsCount::new(msgs.len()))
        .bench(|| {
            for m in msgs {
                divan::black_box(Message::parse(m, &limits).ok());
            }
        });
}

/// Parse plus every analyser, scoring and verdict.
#[divan::bench]
fn full_analysis(b: divan::Bencher) {
    let msgs = messages();
    let limits = Limits::default();
    let engine = engine();
    let org = Organisation::default();
    let envelope = Envelope::default();
    b.counter(divan::counter::ItemsCount::new(msgs.len()))
        .bench(|| {
            for m in msgs {
                if let Ok(msg) = Message::parse(m, &limits) {
                    let cx = Context {
                        envelope: &envelope,
                        direction: Direction::Inbound,
                        received_at: msg.date.unwrap_or(0),
                        org: &org,
                        cross: None,
                    };
                    divan::black_box(engine.scan(&msg, &cx));
                }
            }
        });
}
