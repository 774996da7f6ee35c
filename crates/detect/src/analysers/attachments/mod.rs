//! Placeholder for the attachments analyser (being written).

use serde::{Deserialize, Serialize};
use sg_message::Message;

use crate::analyser::{Analyser, AnalyserError, Context};
use crate::signal::{Signal, SignalDef};

/// `[analysers.attachments]`.
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

/// The attachments analyser.
#[derive(Debug)]
pub struct AttachmentsAnalyser;

impl Analyser for AttachmentsAnalyser {
    fn id(&self) -> &'static str {
        "attachments"
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
        .then(|| Box::new(AttachmentsAnalyser) as Box<dyn Analyser>))
}
