//! Detection: analysers read a parsed message and emit declared, explainable signals; the
//! engine scores them (with group caps and composites) into a verdict.
//!
//! This crate depends on no network, database or async runtime, so `cargo test -p sg-detect`
//! builds quickly and everything here is deterministic for a given message and context.

pub mod analyser;
pub mod analysers;
pub mod classifier;
pub mod composites;
pub mod config;
pub mod cross;
pub mod engine;
pub mod lists;
pub mod organisation;
pub mod signal;
pub mod verdict;

pub use analyser::{Analyser, AnalyserError, Context};
pub use analysers::{AnalysersConfig, BuildOptions};
pub use config::DetectConfig;
pub use cross::CrossFacts;
pub use engine::{ConfigError, Engine};
pub use organisation::{Organisation, OrganisationConfig};
pub use signal::{Evidence, Group, Location, Signal, SignalDef};
pub use verdict::{Report, ScoredSignal, Verdict};
