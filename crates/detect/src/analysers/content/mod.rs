//! Reads the wording and the shape of the text a person sees.
//!
//! A credential lure has to say what it wants ("verify your account", 「アカウントを確認」)
//! and push the reader to act before thinking ("within 24 hours", 「本日中」), so its wording
//! is a signal even when every link and header looks clean. Lures also share a shape: text
//! hidden with CSS so statistical filters read a different message than people do, letters
//! swapped for look-alikes so word filters miss "accоunt", bodies that are one picture or one
//! button (nothing for a filter to read), and charsets a kit mixed up. Each check is weak
//! alone; together, and with other analysers' signals, they separate lures from ordinary mail.
//!
//! Wording is matched with phrase lists from the config, folded for case, full-width forms,
//! look-alike letters, zero-width characters and digits (see [`fold`]), in English,
//! Japanese and the commonest European languages of lures.

mod defaults;
mod fold;
mod phrases;
mod shape;
mod wording;

use serde::{Deserialize, Serialize};
use sg_message::Message;

use crate::analyser::{Analyser, AnalyserError, Context};
use crate::engine::ConfigError;
use crate::signal::{Group, Location, Signal, SignalDef};

use phrases::{Kind, Phrases};

/// Wording that asks for a login, account or payment details.
pub static CONTENT_CREDENTIAL_REQUEST: SignalDef = SignalDef {
    name: "CONTENT_CREDENTIAL_REQUEST",
    score: 3.0,
    group: Group::Content,
    description: "Text asks the reader to sign in, verify an account or password, or confirm payment details",
};
/// Deadline or threat wording.
pub static CONTENT_URGENCY: SignalDef = SignalDef {
    name: "CONTENT_URGENCY",
    score: 1.5,
    group: Group::Content,
    description: "Text presses the reader with a deadline or a threat (suspension, closure, 24 hours)",
};
/// HTML text hidden from the reader.
pub static CONTENT_HIDDEN_TEXT: SignalDef = SignalDef {
    name: "CONTENT_HIDDEN_TEXT",
    score: 3.5,
    group: Group::Content,
    description: "HTML hides a large amount of text from the reader, as filter-poisoning lures do",
};
/// Letters disguised to slip past word filters.
pub static CONTENT_LOOKALIKE_LETTERS: SignalDef = SignalDef {
    name: "CONTENT_LOOKALIKE_LETTERS",
    score: 2.5,
    group: Group::Content,
    description: "Words mix Latin with look-alike Cyrillic or Greek letters, or use styled mathematical letters, to slip past word filters",
};
/// A picture instead of text.
pub static CONTENT_IMAGE_ONLY: SignalDef = SignalDef {
    name: "CONTENT_IMAGE_ONLY",
    score: 1.5,
    group: Group::Content,
    description: "HTML shows images and a link but (almost) no text, so filters have nothing to read",
};
/// Almost no text, but a button.
pub static CONTENT_SHORT_WITH_LINK: SignalDef = SignalDef {
    name: "CONTENT_SHORT_WITH_LINK",
    score: 1.5,
    group: Group::Content,
    description: "Message has almost no text around an HTML link to click",
};
/// Odd charset handling.
pub static CONTENT_CHARSET_MISMATCH: SignalDef = SignalDef {
    name: "CONTENT_CHARSET_MISMATCH",
    score: 0.5,
    group: Group::Content,
    description: "Text was declared in an unknown charset, had to be guessed as Japanese, or its Subject and body use different Japanese charsets",
};

static SIGNALS: &[&SignalDef] = &[
    &CONTENT_CREDENTIAL_REQUEST,
    &CONTENT_URGENCY,
    &CONTENT_HIDDEN_TEXT,
    &CONTENT_LOOKALIKE_LETTERS,
    &CONTENT_IMAGE_ONLY,
    &CONTENT_SHORT_WITH_LINK,
    &CONTENT_CHARSET_MISMATCH,
];

/// `[analysers.content]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Whether the analyser runs.
    pub enabled: bool,
    /// Phrases that on their own ask for credentials or account details.
    pub credential_phrases: Vec<String>,
    /// Verbs ("verify", "確認") that count as a credential request next to an object word.
    pub credential_actions: Vec<String>,
    /// Object words ("your password", "パスワード") that count next to an action verb.
    pub credential_objects: Vec<String>,
    /// Ordinary wording that silences the phrases it overlaps ("update your preferences").
    pub credential_exceptions: Vec<String>,
    /// Most characters between an action and an object, in one sentence, for them to pair.
    pub pair_window: usize,
    /// Deadline and threat phrases.
    pub urgency_phrases: Vec<String>,
    /// Most bytes of Subject and visible text read for wording (lures say it early).
    pub max_text_bytes: usize,
    /// Least number of styled mathematical letters (`𝐕𝐞𝐫𝐢𝐟𝐲`) for `CONTENT_LOOKALIKE_LETTERS`.
    pub styled_min_letters: usize,
    /// Least number of hidden characters in one HTML part for `CONTENT_HIDDEN_TEXT`.
    pub hidden_min_chars: usize,
    /// Least hidden text, in percent of the part's visible text, for `CONTENT_HIDDEN_TEXT`.
    pub hidden_min_percent: usize,
    /// Visible characters below which a message with an HTML link is `CONTENT_SHORT_WITH_LINK`.
    pub short_max_chars: usize,
    /// Most visible characters of an HTML part with images for `CONTENT_IMAGE_ONLY`.
    pub image_only_max_chars: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            credential_phrases: defaults::credential_phrases(),
            credential_actions: defaults::credential_actions(),
            credential_objects: defaults::credential_objects(),
            credential_exceptions: defaults::credential_exceptions(),
            pair_window: 32,
            urgency_phrases: defaults::urgency_phrases(),
            max_text_bytes: 32 * 1024,
            styled_min_letters: 4,
            hidden_min_chars: 200,
            hidden_min_percent: 30,
            short_max_chars: 200,
            image_only_max_chars: 30,
        }
    }
}

/// Reads wording and shape of the visible text.
#[derive(Debug)]
pub struct ContentAnalyser {
    cfg: Config,
    phrases: Phrases,
}

/// Most phrases named in one signal's evidence.
const SHOWN: usize = 4;

impl Analyser for ContentAnalyser {
    fn id(&self) -> &'static str {
        "content"
    }

    fn signals(&self) -> &'static [&'static SignalDef] {
        SIGNALS
    }

    fn analyse(&self, msg: &Message, _cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError> {
        let mut out = Vec::new();
        self.wording(msg, &mut out);
        self.shape(msg, &mut out);
        Ok(out)
    }
}

impl ContentAnalyser {
    /// Credential requests, urgency and disguised letters.
    fn wording(&self, msg: &Message, out: &mut Vec<Signal>) {
        let cfg = &self.cfg;
        let w = wording::read(msg, &self.phrases, cfg.max_text_bytes, cfg.pair_window);
        if !w.credential.is_empty() {
            // One pair can be an honest sentence; two distinct requests rarely are.
            let weight = if w.credential.len() > 1 { 1.0 } else { 0.7 };
            out.push(
                phrase_signal(
                    &CONTENT_CREDENTIAL_REQUEST,
                    "asks for credentials",
                    &w.credential,
                    w.credential_in_subject,
                )
                .weighted(weight),
            );
        }
        if !w.urgency.is_empty() {
            let weight = if w.urgency.len() > 1 { 1.0 } else { 0.6 };
            out.push(
                phrase_signal(
                    &CONTENT_URGENCY,
                    "presses with",
                    &w.urgency,
                    w.urgency_in_subject,
                )
                .weighted(weight),
            );
        }
        let d = w.disguise;
        if d.mixed_words > 0 || d.styled_letters >= cfg.styled_min_letters {
            // Swapping letters inside a word is a deliberate trick; styled letters are also
            // an (over-)enthusiastic marketing habit.
            let weight = if d.mixed_words > 0 { 1.0 } else { 0.6 };
            out.push(
                Signal::new(
                    &CONTENT_LOOKALIKE_LETTERS,
                    format!(
                        "{} word(s) mix Latin with look-alike letters; {} styled letter(s)",
                        d.mixed_words, d.styled_letters
                    ),
                )
                .weighted(weight)
                .fact("mixed_words", d.mixed_words)
                .fact("styled_letters", d.styled_letters),
            );
        }
    }

    /// The checks on the message's shape rather than its words.
    fn shape(&self, msg: &Message, out: &mut Vec<Signal>) {
        let cfg = &self.cfg;
        if let Some(h) = shape::hidden_text(msg, cfg.hidden_min_chars, cfg.hidden_min_percent) {
            out.push(
                Signal::new(
                    &CONTENT_HIDDEN_TEXT,
                    format!(
                        "HTML hides {} characters of text and shows {}",
                        h.hidden_chars, h.visible_chars
                    ),
                )
                .at(Location::Part(h.part))
                .fact("hidden_chars", h.hidden_chars)
                .fact("visible_chars", h.visible_chars),
            );
        }
        if let Some(link) = shape::first_web_link(msg) {
            if let Some(h) = shape::image_only(msg, cfg.image_only_max_chars) {
                out.push(
                    Signal::new(
                        &CONTENT_IMAGE_ONLY,
                        format!(
                            "HTML shows {} image(s) and {} characters of text",
                            h.images, h.visible_chars
                        ),
                    )
                    .at(Location::Part(h.part))
                    .fact("images", h.images)
                    .fact("visible_chars", h.visible_chars),
                );
            } else {
                let n = shape::visible_chars(&msg.text, cfg.short_max_chars);
                if n < cfg.short_max_chars {
                    out.push(
                        Signal::new(
                            &CONTENT_SHORT_WITH_LINK,
                            format!("only {n} characters of text around a link"),
                        )
                        .at(Location::Link(link))
                        .fact("visible_chars", n),
                    );
                }
            }
        }
        if let Some(odd) = shape::charset_oddity(msg) {
            let (summary, kind) = match odd {
                shape::CharsetOddity::Unknown(l) => {
                    (format!("text declared in unknown charset {l:?}"), "unknown")
                }
                shape::CharsetOddity::GuessedJapanese(l) => (
                    format!("undeclared Japanese text, decoded as {l}"),
                    "guessed",
                ),
                shape::CharsetOddity::SubjectBody(s, b) => (
                    format!("Subject encoded in {s}, body in {b}"),
                    "subject_body",
                ),
            };
            out.push(Signal::new(&CONTENT_CHARSET_MISMATCH, summary).fact("kind", kind));
        }
    }
}

/// A wording signal naming the first few phrases found.
fn phrase_signal(
    def: &'static SignalDef,
    verb: &str,
    found: &[String],
    in_subject: bool,
) -> Signal {
    let shown: Vec<&str> = found.iter().take(SHOWN).map(String::as_str).collect();
    let mut summary = format!("{verb} \"{}\"", shown.join("\", \""));
    let more = found.len().saturating_sub(SHOWN);
    if more > 0 {
        summary.push_str(&format!(" and {more} more"));
    }
    let s = Signal::new(def, summary)
        .fact("count", found.len())
        .fact("phrases", shown.join("; "));
    if in_subject {
        s.at(Location::Header("Subject"))
    } else {
        s
    }
}

/// Builds the analyser from its config; `None` when disabled.
pub(crate) fn build(cfg: &Config) -> super::Built {
    if !cfg.enabled {
        return Ok(None);
    }
    let lists: [(Kind, &[String], &str); 5] = [
        (
            Kind::Credential,
            &cfg.credential_phrases,
            "credential_phrases",
        ),
        (Kind::Action, &cfg.credential_actions, "credential_actions"),
        (Kind::Object, &cfg.credential_objects, "credential_objects"),
        (
            Kind::Exception,
            &cfg.credential_exceptions,
            "credential_exceptions",
        ),
        (Kind::Urgency, &cfg.urgency_phrases, "urgency_phrases"),
    ];
    let mut errors = Vec::new();
    for (_, list, key) in lists {
        if let Some(bad) = list.iter().find(|p| phrases::is_blank(p)) {
            errors.push(ConfigError::new(
                format!("analysers.content.{key}"),
                format!("phrase {bad:?} is empty once spaces and invisible characters are removed"),
            ));
        }
    }
    for (value, key) in [
        (cfg.pair_window, "pair_window"),
        (cfg.max_text_bytes, "max_text_bytes"),
        (cfg.hidden_min_chars, "hidden_min_chars"),
        (cfg.styled_min_letters, "styled_min_letters"),
    ] {
        if value == 0 {
            errors.push(ConfigError::new(
                format!("analysers.content.{key}"),
                "must be at least 1",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let phrases = Phrases::build(lists.map(|(kind, list, _)| (kind, list))).map_err(|e| {
        vec![ConfigError::new(
            "analysers.content",
            format!("cannot compile the phrase lists: {e}"),
        )]
    })?;
    Ok(Some(Box::new(ContentAnalyser {
        cfg: cfg.clone(),
        phrases,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_builds() {
        assert!(matches!(build(&Config::default()), Ok(Some(_))));
    }

    #[test]
    fn config_round_trips_through_toml_and_rejects_unknown_keys() {
        let text = toml::to_string(&Config::default()).expect("serialises");
        let back: Config = toml::from_str(&text).expect("parses");
        assert_eq!(back, Config::default());
        assert!(toml::from_str::<Config>("no_such_key = 1").is_err());
        let partial: Config = toml::from_str("pair_window = 20").expect("parses");
        assert_eq!(partial.pair_window, 20);
        assert_eq!(partial.urgency_phrases, Config::default().urgency_phrases);
    }

    #[test]
    fn disabled_config_builds_nothing() {
        let cfg = Config {
            enabled: false,
            ..Config::default()
        };
        assert!(matches!(build(&cfg), Ok(None)));
    }

    #[test]
    fn blank_phrase_and_zero_window_are_reported_together() {
        let mut cfg = Config::default();
        cfg.urgency_phrases.push("\u{200B}".to_string());
        cfg.pair_window = 0;
        let Err(errors) = build(&cfg) else {
            panic!("bad config accepted");
        };
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "analysers.content.urgency_phrases",
                "analysers.content.pair_window"
            ]
        );
    }

    #[test]
    fn evidence_names_a_few_phrases_and_counts_all() {
        let found: Vec<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
        let s = phrase_signal(&CONTENT_URGENCY, "presses with", &found, true);
        assert_eq!(
            s.evidence.summary,
            "presses with \"a\", \"b\", \"c\", \"d\" and 2 more"
        );
        assert!(s.evidence.facts.contains(&("count", "6".to_string())));
        assert_eq!(s.evidence.location, Some(Location::Header("Subject")));
    }
}
