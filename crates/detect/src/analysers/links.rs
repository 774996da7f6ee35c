//! Placeholder for the links analyser (being written).

use serde::{Deserialize, Serialize};
use sg_message::Message;

use crate::analyser::{Analyser, AnalyserError, Context};
use crate::signal::{Signal, SignalDef};

/// `[analysers.links]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Whether the analyser runs.
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { enabled: true }
    }
}

static SIGNALS: &[&SignalDef] = &[];

/// The links analyser.
#[derive(Debug)]
pub struct LinksAnalyser;

impl Analyser for LinksAnalyser {
    fn id(&self) -> &'static str {
        "links"
    }

    fn signals(&self) -> &'static [&'static SignalDef] {
        SIGNALS
    }

    fn analyse(&self, _msg: &Message, _cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError> {
        Ok(Vec::new())
    }
}

/// Builds the analyser from its config; `None` when disabled.
pub(crate) fn build(cfg: &Config) -> super::Built {
    Ok(cfg
        .enabled
        .then(|| Box::new(LinksAnalyser) as Box<dyn Analyser>))
}
