//! The outcome of a scan: scored signals, total score and verdict.

use serde::Serialize;

use crate::signal::{Evidence, Group};

/// What happens to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Deliver unchanged (headers added).
    Deliver,
    /// Deliver with a warning tag.
    Tag,
    /// Hold in quarantine for review.
    Quarantine,
    /// Refuse it.
    Reject,
}

impl Verdict {
    /// Lowercase name: "deliver", "tag", "quarantine", "reject".
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Deliver => "deliver",
            Verdict::Tag => "tag",
            Verdict::Quarantine => "quarantine",
            Verdict::Reject => "reject",
        }
    }

    /// Whether the message is stopped (quarantined or rejected).
    pub fn is_blocked(self) -> bool {
        matches!(self, Verdict::Quarantine | Verdict::Reject)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signal after scoring: its effective contribution to the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredSignal {
    /// Signal name.
    pub name: String,
    /// Its group.
    pub group: Group,
    /// Contribution to the total after weight and group cap.
    pub score: f32,
    /// Why it fired.
    pub evidence: Evidence,
}

/// The result of scanning one message. The score is the sum of the signals' scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Signals that fired, in analyser order, composites last.
    pub signals: Vec<ScoredSignal>,
    /// Total score.
    pub score: f32,
    /// The decision.
    pub verdict: Verdict,
}

impl Report {
    /// Whether a signal with this name fired.
    pub fn has(&self, name: &str) -> bool {
        self.signals.iter().any(|s| s.name == name)
    }
}
