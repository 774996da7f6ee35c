//! The engine: runs the analysers over a message, checks and scores their signals, applies
//! group caps and composites, and decides the verdict.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use sg_message::Message;

use crate::analyser::{Analyser, Context};
use crate::config::{CompositeConfig, DetectConfig};
use crate::signal::{Evidence, Group, Signal, SignalDef};
use crate::verdict::{Report, ScoredSignal, Verdict};

/// An analyser failed or panicked; the message is still scored on the others.
pub static ANALYSER_FAILED: SignalDef = SignalDef {
    name: "ANALYSER_FAILED",
    score: 0.0,
    group: Group::Engine,
    description: "An analyser could not finish; the verdict rests on the others",
};

/// A signal an analyser emitted without declaring it (a bug, reported rather than scored).
pub static UNDECLARED_SIGNAL: SignalDef = SignalDef {
    name: "UNDECLARED_SIGNAL",
    score: 0.0,
    group: Group::Engine,
    description: "An analyser emitted a signal it does not declare; it was not scored",
};

static ENGINE_SIGNALS: &[&SignalDef] = &[&ANALYSER_FAILED, &UNDECLARED_SIGNAL];

/// A configuration problem, with the key it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// Dotted key path, e.g. `detect.scores.NO_SUCH_SIGNAL`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// Builds an error for `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Thresholds from config.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    tag: f32,
    quarantine: f32,
    reject: f32,
}

/// A built engine: analysers plus the scoring rules, ready to scan.
pub struct Engine {
    analysers: Vec<Box<dyn Analyser>>,
    scores: HashMap<&'static str, f32>,
    caps: HashMap<Group, f32>,
    composites: Vec<CompositeConfig>,
    thresholds: Thresholds,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field(
                "analysers",
                &self.analysers.iter().map(|a| a.id()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds an engine from analysers and the `[detect]` config, reporting every problem.
    pub fn new(
        analysers: Vec<Box<dyn Analyser>>,
        cfg: &DetectConfig,
    ) -> Result<Engine, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut scores: HashMap<&'static str, f32> = HashMap::new();
        let mut seen = HashSet::new();
        for def in ENGINE_SIGNALS
            .iter()
            .chain(analysers.iter().flat_map(|a| a.signals().iter()))
        {
            if !seen.insert(def.name) {
                errors.push(ConfigError::new(def.name, "signal declared twice"));
            }
            scores.insert(def.name, def.score);
        }
        for (name, score) in &cfg.scores {
            match scores.get_mut(name.as_str()) {
                Some(s) if score.is_finite() => *s = *score,
                Some(_) => errors.push(ConfigError::new(
                    format!("detect.scores.{name}"),
                    "score must be a finite number",
                )),
                None => errors.push(ConfigError::new(
                    format!("detect.scores.{name}"),
                    "no such signal (see `spearguard signals`)",
                )),
            }
        }
        let mut caps = HashMap::new();
        for (name, g) in &cfg.groups {
            match Group::from_name(name) {
                Some(group) if g.max_score >= 0.0 => {
                    caps.insert(group, g.max_score);
                }
                Some(_) => errors.push(ConfigError::new(
                    format!("detect.groups.{name}.max_score"),
                    "must not be negative",
                )),
                None => errors.push(ConfigError::new(
                    format!("detect.groups.{name}"),
                    format!(
                        "no such group; groups are {}",
                        Group::ALL
                            .iter()
                            .map(|g| g.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        }
        for (i, c) in cfg.composites.iter().enumerate() {
            for name in c.all.iter().chain(&c.any).chain(&c.none) {
                if !scores.contains_key(name.as_str()) {
                    errors.push(ConfigError::new(
                        format!("detect.composites[{i}] ({})", c.name),
                        format!("refers to unknown signal {name}"),
                    ));
                }
            }
            if c.all.is_empty() && c.any.is_empty() {
                errors.push(ConfigError::new(
                    format!("detect.composites[{i}] ({})", c.name),
                    "needs at least one signal in `all` or `any`",
                ));
            }
        }
        if !(cfg.tag_at < cfg.quarantine_at && cfg.quarantine_at <= cfg.reject_at) {
            errors.push(ConfigError::new(
                "detect",
                format!(
                    "thresholds must satisfy tag_at < quarantine_at <= reject_at (got {} / {} / {})",
                    cfg.tag_at, cfg.quarantine_at, cfg.reject_at
                ),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Engine {
            analysers,
            scores,
            caps,
            composites: cfg.composites.clone(),
            thresholds: Thresholds {
                tag: cfg.tag_at,
                quarantine: cfg.quarantine_at,
                reject: cfg.reject_at,
            },
        })
    }

    /// Keeps only the analysers with these ids (for tests and `scan --only`).
    pub fn only(mut self, ids: &[&str]) -> Engine {
        self.analysers.retain(|a| ids.contains(&a.id()));
        self
    }

    /// Ids of the analysers in this engine.
    pub fn analyser_ids(&self) -> Vec<&'static str> {
        self.analysers.iter().map(|a| a.id()).collect()
    }

    /// Every signal this engine can emit, with its effective score.
    pub fn catalog(&self) -> Vec<(&'static SignalDef, f32)> {
        let mut out: Vec<_> = ENGINE_SIGNALS
            .iter()
            .chain(self.analysers.iter().flat_map(|a| a.signals().iter()))
            .map(|d| (*d, self.scores.get(d.name).copied().unwrap_or(d.score)))
            .collect();
        out.sort_by_key(|(d, _)| (d.group, d.name));
        out
    }

    /// The composite rules in force.
    pub fn composites(&self) -> &[CompositeConfig] {
        &self.composites
    }

    /// Runs every analyser on the message and returns the scored report.
    pub fn scan(&self, msg: &Message, cx: &Context<'_>) -> Report {
        let mut raw: Vec<Signal> = Vec::new();
        for a in &self.analysers {
            match catch_unwind(AssertUnwindSafe(|| a.analyse(msg, cx))) {
                Ok(Ok(signals)) => {
                    for s in signals {
                        if a.signals().iter().any(|d| std::ptr::eq(*d, s.def)) {
                            raw.push(s);
                        } else {
                            raw.push(Signal::new(
                                &UNDECLARED_SIGNAL,
                                format!("{} emitted undeclared {}", a.id(), s.def.name),
                            ));
                        }
                    }
                }
                Ok(Err(e)) => raw.push(
                    Signal::new(&ANALYSER_FAILED, format!("{}: {e}", a.id()))
                        .fact("analyser", a.id()),
                ),
                Err(_) => raw.push(
                    Signal::new(&ANALYSER_FAILED, format!("{}: panicked", a.id()))
                        .fact("analyser", a.id()),
                ),
            }
        }
        self.score(raw)
    }

    /// Applies scores, group caps and composites to raw signals.
    fn score(&self, raw: Vec<Signal>) -> Report {
        let mut scored: Vec<ScoredSignal> = raw
            .into_iter()
            .map(|s| ScoredSignal {
                name: s.def.name.to_string(),
                group: s.def.group,
                score: self.scores.get(s.def.name).copied().unwrap_or(s.def.score) * s.weight,
                evidence: s.evidence,
            })
            .collect();
        self.apply_caps(&mut scored);
        let fired: HashSet<&str> = scored.iter().map(|s| s.name.as_str()).collect();
        let mut composite_hits = Vec::new();
        for c in &self.composites {
            let all = c.all.iter().all(|n| fired.contains(n.as_str()));
            let any = c.any.is_empty() || c.any.iter().any(|n| fired.contains(n.as_str()));
            let none = c.none.iter().all(|n| !fired.contains(n.as_str()));
            if all && any && none {
                composite_hits.push(ScoredSignal {
                    name: c.name.clone(),
                    group: Group::Engine,
                    score: c.score,
                    evidence: Evidence {
                        summary: c.description.clone(),
                        location: None,
                        facts: Vec::new(),
                    },
                });
            }
        }
        scored.extend(composite_hits);
        let score: f32 = scored.iter().map(|s| s.score).sum();
        let score = (score * 100.0).round() / 100.0;
        let t = self.thresholds;
        let verdict = if score >= t.reject {
            Verdict::Reject
        } else if score >= t.quarantine {
            Verdict::Quarantine
        } else if score >= t.tag {
            Verdict::Tag
        } else {
            Verdict::Deliver
        };
        Report {
            signals: scored,
            score,
            verdict,
        }
    }

    /// Scales positive scores in a group down so they add up to at most its `max_score`.
    fn apply_caps(&self, scored: &mut [ScoredSignal]) {
        let mut positive: BTreeMap<Group, f32> = BTreeMap::new();
        for s in scored.iter().filter(|s| s.score > 0.0) {
            *positive.entry(s.group).or_default() += s.score;
        }
        for (group, total) in positive {
            let Some(&cap) = self.caps.get(&group) else {
                continue;
            };
            if total > cap {
                let factor = cap / total;
                for s in scored
                    .iter_mut()
                    .filter(|s| s.group == group && s.score > 0.0)
                {
                    s.score *= factor;
                }
            }
        }
        for s in scored.iter_mut() {
            s.score = (s.score * 100.0).round() / 100.0;
        }
    }
}
