//! Signals: what analysers report. A [`SignalDef`] is declared once, as a `static` next to
//! the code that emits it; a [`Signal`] is one finding about one message, with evidence a
//! person can check against the message.

use serde::Serialize;

/// The family a signal belongs to; scores within a group can be capped together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Header form and consistency.
    Headers,
    /// Who the sender claims to be.
    Sender,
    /// Links in the message.
    Links,
    /// Attached files.
    Attachments,
    /// SPF, DKIM, DMARC results.
    Auth,
    /// Wording and presentation of the text.
    Content,
    /// The statistical classifier.
    Classifier,
    /// Patterns across messages (history, campaigns).
    Behaviour,
    /// Personal data leaving the organisation.
    DataLoss,
    /// The engine itself (failures, composites).
    Engine,
}

impl Group {
    /// Every group, in display order.
    pub const ALL: &[Group] = &[
        Group::Headers,
        Group::Sender,
        Group::Links,
        Group::Attachments,
        Group::Auth,
        Group::Content,
        Group::Classifier,
        Group::Behaviour,
        Group::DataLoss,
        Group::Engine,
    ];

    /// The snake_case name used in config (`[detect.groups.<name>]`) and output.
    pub fn name(self) -> &'static str {
        match self {
            Group::Headers => "headers",
            Group::Sender => "sender",
            Group::Links => "links",
            Group::Attachments => "attachments",
            Group::Auth => "auth",
            Group::Content => "content",
            Group::Classifier => "classifier",
            Group::Behaviour => "behaviour",
            Group::DataLoss => "data_loss",
            Group::Engine => "engine",
        }
    }

    /// Looks a group up by its config name.
    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.iter().copied().find(|g| g.name() == name)
    }
}

/// A kind of finding, declared once.
#[derive(Debug)]
pub struct SignalDef {
    /// SCREAMING_SNAKE_CASE, unique across analysers.
    pub name: &'static str,
    /// Default score; `[detect.scores]` may override it. Negative means reassuring.
    pub score: f32,
    /// The group it counts in.
    pub group: Group,
    /// One sentence shown in `spearguard signals`, the API and the UI.
    pub description: &'static str,
}

/// Where in the message the evidence is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "at", rename_all = "snake_case")]
pub enum Location {
    /// A header field, by name.
    Header(&'static str),
    /// A MIME part, by index into `Message::parts`.
    Part(usize),
    /// A link, by index into `Message::links`.
    Link(usize),
    /// An attachment, by index into `Message::attachments`.
    Attachment(usize),
    /// The SMTP envelope.
    Envelope,
}

/// One finding about one message.
#[derive(Debug, Clone)]
pub struct Signal {
    /// What was found.
    pub def: &'static SignalDef,
    /// 0.0..=1.0, scales the score; 1.0 unless the analyser is unsure.
    pub weight: f32,
    /// Why it fired.
    pub evidence: Evidence,
}

/// Why a signal fired, in terms a reviewer can check against the message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// One line for people: "link text shows bank.example, target is evil.example".
    pub summary: String,
    /// Where to look.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Machine-readable facts; never raw personal data or secrets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<(&'static str, String)>,
}

impl Signal {
    /// A finding with full weight and a one-line summary.
    pub fn new(def: &'static SignalDef, summary: impl Into<String>) -> Signal {
        Signal {
            def,
            weight: 1.0,
            evidence: Evidence {
                summary: summary.into(),
                location: None,
                facts: Vec::new(),
            },
        }
    }

    /// Points the evidence at a place in the message.
    pub fn at(mut self, location: Location) -> Signal {
        self.evidence.location = Some(location);
        self
    }

    /// Adds a machine-readable fact.
    pub fn fact(mut self, key: &'static str, value: impl ToString) -> Signal {
        self.evidence.facts.push((key, value.to_string()));
        self
    }

    /// Scales the score by `weight` (clamped to 0..=1).
    pub fn weighted(mut self, weight: f32) -> Signal {
        self.weight = if weight.is_finite() {
            weight.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }
}
