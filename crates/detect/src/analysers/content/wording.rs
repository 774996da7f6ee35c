//! What the Subject and the visible text say: credential requests, pressure, and letters
//! disguised to get either past a word filter.

use sg_message::Message;

use super::fold::{Disguise, fold_into};
use super::phrases::{self, Hit, Kind, Phrases};

/// What the wording check found in one message.
#[derive(Debug, Default)]
pub(super) struct Wording {
    /// Credential phrases and action … object pairs found, as configured, first seen first.
    pub(super) credential: Vec<String>,
    /// Whether every credential hit is in the Subject.
    pub(super) credential_in_subject: bool,
    /// Urgency phrases found, as configured.
    pub(super) urgency: Vec<String>,
    /// Whether every urgency hit is in the Subject.
    pub(super) urgency_in_subject: bool,
    /// Letters disguised in the Subject or text.
    pub(super) disguise: Disguise,
}

/// Folds the Subject and the visible text (at most `budget` bytes, quoted lines left out) and
/// matches the phrase lists over it.
pub(super) fn read(msg: &Message, phrases: &Phrases, budget: usize, window: usize) -> Wording {
    let mut w = Wording::default();
    let mut folded = String::with_capacity(budget.min(msg.subject.len() + msg.text.len() + 1));
    fold_into(&mut folded, &msg.subject, budget, &mut w.disguise);
    let subject_end = folded.len();
    folded.push('\n');
    // Quoted lines are an earlier writer's words, not this sender's request.
    for line in msg
        .text
        .lines()
        .filter(|l| !l.trim_start().starts_with('>'))
    {
        if folded.len() >= budget {
            break;
        }
        fold_into(&mut folded, line, budget, &mut w.disguise);
        folded.push(' ');
    }

    let mut hits = Vec::new();
    phrases.find(&folded, &mut hits);
    // An exception ("update your preferences") silences every hit it overlaps.
    let exceptions: Vec<Hit> = hits
        .iter()
        .copied()
        .filter(|h| phrases.is(h.phrase, Kind::Exception))
        .collect();
    hits.retain(|h| {
        !exceptions
            .iter()
            .any(|e| h.start < e.end && e.start < h.end)
    });
    let in_subject = |h: &Hit| h.end <= subject_end;

    let mut cred_hits: Vec<Hit> = Vec::new();
    for &h in &hits {
        if phrases.is(h.phrase, Kind::Credential) {
            push_unique(&mut w.credential, phrases.shown(h.phrase));
            cred_hits.push(h);
        }
        if phrases.is(h.phrase, Kind::Urgency) {
            w.urgency_in_subject = (w.urgency.is_empty() || w.urgency_in_subject) && in_subject(&h);
            push_unique(&mut w.urgency, phrases.shown(h.phrase));
        }
    }
    // A word inside a phrase already found ("verify your account") is explained by it.
    let unexplained = |h: &Hit| {
        !cred_hits
            .iter()
            .any(|c| h.start >= c.start && h.end <= c.end)
    };
    let actions = longest(&hits, |h| {
        phrases.is(h.phrase, Kind::Action) && unexplained(h)
    });
    let objects = longest(&hits, |h| {
        phrases.is(h.phrase, Kind::Object) && unexplained(h)
    });
    for &a in &actions {
        for &o in &objects {
            if phrases::near(&folded, a, o, window) {
                let pair = format!("{} … {}", phrases.shown(a.phrase), phrases.shown(o.phrase));
                push_unique(&mut w.credential, &pair);
                cred_hits.push(a);
                cred_hits.push(o);
            }
        }
    }
    w.credential_in_subject = !cred_hits.is_empty() && cred_hits.iter().all(in_subject);
    w
}

/// The hits `keep` selects, leaving out any that overlaps a longer one (so "your account
/// information" counts once, as "account information", and "re-enter" not also as "enter").
fn longest(hits: &[Hit], keep: impl Fn(&Hit) -> bool) -> Vec<Hit> {
    let chosen: Vec<Hit> = hits.iter().copied().filter(|h| keep(h)).collect();
    chosen
        .iter()
        .enumerate()
        .filter(|&(i, h)| {
            !chosen.iter().enumerate().any(|(j, o)| {
                let overlaps = h.start < o.end && o.start < h.end;
                let len = (h.end - h.start, o.end - o.start);
                overlaps && (len.1 > len.0 || (len.1 == len.0 && j < i))
            })
        })
        .map(|(_, h)| *h)
        .collect()
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}
