//! Any bytes through the parser and every analyser: must return, never panic.
//! Run: `cargo +nightly fuzz run parse_analyse` from this folder.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sg_detect::analysers::{self, AnalysersConfig, BuildOptions};
use sg_detect::{Context, DetectConfig, Engine, Organisation, OrganisationConfig};
use sg_message::{Direction, Envelope, Limits, Message};

fn engine() -> &'static (Engine, Organisation) {
    static E: OnceLock<(Engine, Organisation)> = OnceLock::new();
    E.get_or_init(|| {
        let a = analysers::build(&AnalysersConfig::default(), &BuildOptions::default())
            .expect("default analysers");
        let engine = Engine::new(a, &DetectConfig::default()).expect("default engine");
        let org = Organisation::from_config(&OrganisationConfig {
            domains: vec!["example.org".into()],
            protected_names: vec!["example bank".into()],
            ..OrganisationConfig::default()
        });
        (engine, org)
    })
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(msg) = Message::parse(data, &limits) {
        let (engine, org) = engine();
        let envelope = Envelope::default();
        let cx = Context {
            envelope: &envelope,
            direction: Direction::Inbound,
            received_at: msg.date.unwrap_or(0),
            org,
        };
        let report = engine.scan(&msg, &cx);
        // The engine's own failure signal means an analyser panicked or erred: a bug.
        assert!(!report.has("ANALYSER_FAILED"), "{:?}", report.signals);
    }
});
