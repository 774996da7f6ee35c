//! The statistical classifier as an analyser: a linear model over hashed features of the
//! subject, visible text, link hosts and paths, and a few shape tokens, trained on the
//! organisation's own mail (`spearguard train`). What rules miss — the wording and look of
//! a lure — a model learns; its evidence names the features that pushed it.
//!
//! Without a model the analyser is silent, so everything else works out of the box.
//! Features deliberately leave out recipients, dates and transport headers: those describe
//! where a training corpus was collected, not what phishing is.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sg_message::{Host, Message};

use crate::analyser::{Analyser, AnalyserError, Context};
use crate::classifier::{FeatureConfig, FeatureExtractor, FeatureInput, LinkFeature, Model};
use crate::engine::ConfigError;
use crate::signal::{Group, Signal, SignalDef};

/// `[analysers.classifier]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Whether the analyser runs (it is silent anyway without a model).
    pub enabled: bool,
    /// Model file written by `spearguard train`; empty = no model.
    pub model: String,
    /// Probability of malice above which `CLASSIFIER_PHISH` fires (its weight grows to 1 at 1.0).
    pub phish_above: f32,
    /// Probability below which `CLASSIFIER_HAM` fires (its weight grows to 1 at 0.0).
    pub ham_below: f32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            model: String::new(),
            phish_above: 0.5,
            ham_below: 0.05,
        }
    }
}

/// The model judges the message to be phishing.
pub static CLASSIFIER_PHISH: SignalDef = SignalDef {
    name: "CLASSIFIER_PHISH",
    score: 12.0,
    group: Group::Classifier,
    description: "The trained classifier finds the message's wording and links typical of phishing",
};

/// The model judges the message to be legitimate.
pub static CLASSIFIER_HAM: SignalDef = SignalDef {
    name: "CLASSIFIER_HAM",
    score: -2.0,
    group: Group::Classifier,
    description: "The trained classifier finds the message typical of the organisation's legitimate mail",
};

static SIGNALS: &[&SignalDef] = &[&CLASSIFIER_PHISH, &CLASSIFIER_HAM];

/// Runs a trained model over each message; silent without one.
#[derive(Debug)]
pub struct ClassifierAnalyser {
    model: Option<Arc<Model>>,
    phish_above: f32,
    ham_below: f32,
}

thread_local! {
    /// One extractor per thread: it owns sizeable scratch buffers.
    static EXTRACTOR: RefCell<Option<FeatureExtractor>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's extractor for a model of `bits`.
pub fn with_extractor<R>(bits: u8, f: impl FnOnce(&mut FeatureExtractor) -> R) -> R {
    EXTRACTOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let stale = slot.as_ref().is_none_or(|e| e.config().bits != bits);
        if stale {
            *slot = Some(FeatureExtractor::new(FeatureConfig {
                bits,
                ..FeatureConfig::default()
            }));
        }
        match slot.as_mut() {
            Some(e) => f(e),
            None => f(&mut FeatureExtractor::new(FeatureConfig {
                bits,
                ..FeatureConfig::default()
            })),
        }
    })
}

/// The classifier's view of a message; `input()` borrows from it.
#[derive(Debug)]
pub struct MessageFeatures<'m> {
    subject: &'m str,
    text: &'m str,
    links: Vec<LinkFeature<'m>>,
    shapes: Vec<&'static str>,
}

impl<'m> MessageFeatures<'m> {
    /// Collects what the classifier reads from a parsed message.
    pub fn of(msg: &'m Message) -> MessageFeatures<'m> {
        let links = msg
            .links
            .iter()
            .filter(|l| l.origin.is_clickable() && l.is_web())
            .map(|l| match &l.host {
                Some(Host::Domain(d)) => LinkFeature {
                    host: d.as_str(),
                    registrable: d.registrable(),
                    path: &l.path,
                },
                Some(Host::Ip(_)) | None => LinkFeature {
                    host: "ip-literal",
                    registrable: "ip-literal",
                    path: &l.path,
                },
            })
            .collect();
        MessageFeatures {
            subject: &msg.subject,
            text: &msg.text,
            links,
            shapes: shapes(msg),
        }
    }

    /// The extractor's input.
    pub fn input(&self) -> FeatureInput<'_> {
        FeatureInput {
            subject: self.subject,
            text: self.text,
            links: &self.links,
            shapes: &self.shapes,
        }
    }
}

/// Shape tokens: structural facts that mean something about phishing in any corpus.
fn shapes(msg: &Message) -> Vec<&'static str> {
    let mut out = Vec::new();
    let from_reg = msg
        .from
        .as_ref()
        .and_then(|f| f.domain.as_ref())
        .map(|d| d.registrable());
    if msg
        .reply_to
        .iter()
        .any(|r| r.domain.as_ref().map(|d| d.registrable()) != from_reg && r.domain.is_some())
    {
        out.push("reply_to_differs");
    }
    if msg.html.iter().any(|h| h.password_input) {
        out.push("password_input");
    }
    if msg.html.iter().any(|h| h.forms > 0) {
        out.push("html_form");
    }
    if msg
        .html
        .iter()
        .any(|h| h.hidden_chars > 200 && h.hidden_chars * 3 > h.visible_chars)
    {
        out.push("hidden_text");
    }
    out
}

impl ClassifierAnalyser {
    /// Probability that the message is malicious, with the extracted feature ids.
    fn predict(&self, model: &Model, input: &FeatureInput<'_>) -> (f32, Vec<u32>) {
        let mut ids = Vec::new();
        with_extractor(model.bits(), |e| e.extract(input, &mut ids));
        (model.predict(&ids), ids)
    }

    /// The strongest features pushing in the direction of the verdict, named.
    fn evidence(model: &Model, input: &FeatureInput<'_>, ids: &[u32], phish: bool) -> String {
        let top: Vec<(u32, f32)> = model
            .contributions(ids, 24)
            .into_iter()
            .filter(|(_, w)| (*w > 0.0) == phish)
            .take(5)
            .collect();
        let wanted: Vec<u32> = top.iter().map(|(id, _)| *id).collect();
        let names = with_extractor(model.bits(), |e| e.describe(input, &wanted));
        names
            .into_iter()
            .map(|(id, name)| {
                let w = top.iter().find(|(i, _)| *i == id).map_or(0.0, |(_, w)| *w);
                format!("{name} ({w:+.2})")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Analyser for ClassifierAnalyser {
    fn id(&self) -> &'static str {
        "classifier"
    }

    fn signals(&self) -> &'static [&'static SignalDef] {
        SIGNALS
    }

    fn analyse(&self, msg: &Message, _cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError> {
        let Some(model) = self.model.as_deref() else {
            return Ok(Vec::new());
        };
        let features = MessageFeatures::of(msg);
        let input = features.input();
        let (p, ids) = self.predict(model, &input);
        let signal = if p >= self.phish_above {
            let weight = (p - self.phish_above) / (1.0 - self.phish_above).max(f32::EPSILON);
            let top = Self::evidence(model, &input, &ids, true);
            Signal::new(
                &CLASSIFIER_PHISH,
                format!("phishing probability {p:.3}; strongest features: {top}"),
            )
            .weighted(weight)
            .fact("probability", format!("{p:.4}"))
        } else if p <= self.ham_below {
            let weight = (self.ham_below - p) / self.ham_below.max(f32::EPSILON);
            let top = Self::evidence(model, &input, &ids, false);
            Signal::new(
                &CLASSIFIER_HAM,
                format!("phishing probability {p:.3}; strongest features: {top}"),
            )
            .weighted(weight)
            .fact("probability", format!("{p:.4}"))
        } else {
            return Ok(Vec::new());
        };
        Ok(vec![signal])
    }
}

/// Reads a model file.
pub fn load_model(path: &Path) -> Result<Model, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Model::load(std::io::BufReader::new(file))
        .map_err(|e| format!("cannot load model {}: {e}", path.display()))
}

/// Builds the analyser; `None` when disabled. Without a model it is built but stays silent,
/// so its signals are still listed and can be configured.
pub(crate) fn build(cfg: &Config, opts: &super::BuildOptions) -> super::Built {
    if !cfg.enabled {
        return Ok(None);
    }
    let mut errors = Vec::new();
    if !(0.0..1.0).contains(&cfg.phish_above) || !(0.0..1.0).contains(&cfg.ham_below) {
        errors.push(ConfigError::new(
            "analysers.classifier",
            "phish_above and ham_below must be between 0 and 1",
        ));
    }
    if cfg.ham_below >= cfg.phish_above {
        errors.push(ConfigError::new(
            "analysers.classifier",
            "ham_below must be lower than phish_above",
        ));
    }
    let model = if let Some(model) = &opts.model_data {
        Some(model.clone())
    } else {
        let path: Option<PathBuf> = opts
            .model
            .clone()
            .or_else(|| (!cfg.model.is_empty()).then(|| PathBuf::from(&cfg.model)));
        match path.map(|p| load_model(&p)) {
            Some(Ok(m)) => Some(Arc::new(m)),
            Some(Err(e)) => {
                errors.push(ConfigError::new("analysers.classifier.model", e));
                None
            }
            None => None,
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(Box::new(ClassifierAnalyser {
        model,
        phish_above: cfg.phish_above,
        ham_below: cfg.ham_below,
    })))
}
