//! `[detect]`: thresholds, score overrides, group caps and composite rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Scoring configuration. Every field has a default, so an empty section is valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Score at which a message is delivered with a warning tag.
    pub tag_at: f32,
    /// Score at which a message is quarantined.
    pub quarantine_at: f32,
    /// Score at which a message is rejected outright.
    pub reject_at: f32,
    /// Per-signal score overrides, by signal name.
    pub scores: BTreeMap<String, f32>,
    /// Per-group settings, by group name.
    pub groups: BTreeMap<String, GroupConfig>,
    /// Rules that fire when several signals fire together.
    pub composites: Vec<CompositeConfig>,
}

/// `[detect.groups.<name>]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// The most this group's positive signals may add together (rspamd's `max_score`).
    pub max_score: f32,
}

/// `[[detect.composites]]`: a signal that fires when others fire together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeConfig {
    /// Name of the composite signal, SCREAMING_SNAKE_CASE.
    pub name: String,
    /// What it means, one sentence.
    pub description: String,
    /// Every one of these must fire.
    #[serde(default)]
    pub all: Vec<String>,
    /// At least one of these must fire (ignored when empty).
    #[serde(default)]
    pub any: Vec<String>,
    /// None of these may fire.
    #[serde(default)]
    pub none: Vec<String>,
    /// Score added when it fires.
    pub score: f32,
}

impl Default for DetectConfig {
    fn default() -> Self {
        let group = |max_score| GroupConfig { max_score };
        DetectConfig {
            tag_at: 5.0,
            quarantine_at: 9.0,
            reject_at: 25.0,
            scores: BTreeMap::new(),
            groups: BTreeMap::from([
                ("headers".to_string(), group(6.0)),
                ("sender".to_string(), group(8.0)),
                ("links".to_string(), group(12.0)),
                ("attachments".to_string(), group(20.0)),
                ("auth".to_string(), group(8.0)),
                ("content".to_string(), group(8.0)),
                ("classifier".to_string(), group(12.0)),
            ]),
            composites: crate::composites::defaults(),
        }
    }
}
