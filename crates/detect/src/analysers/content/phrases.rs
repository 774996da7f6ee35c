//! Phrase matching over folded wording (see [`super::fold`]), in any script.
//!
//! One Aho-Corasick automaton holds every list; each phrase carries the lists it belongs to.
//! Besides single phrases, a *pair* finds an action word (`verify`, `確認`) and an object word
//! (`your account`, `パスワード`) in the same sentence within a few characters of each other,
//! in either order: "update" alone is in every newsletter, "update … your password" is not.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::fold::{Disguise, fold_into};

/// Which list a phrase came from; a phrase may be in several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Counts on its own as a request for credentials.
    Credential,
    /// A verb of a credential pair ("verify", "確認").
    Action,
    /// A noun of a credential pair ("your account", "パスワード").
    Object,
    /// Deadline or threat wording.
    Urgency,
    /// Ordinary wording that silences the hits it overlaps ("update your preferences").
    Exception,
}

impl Kind {
    const fn bit(self) -> u8 {
        match self {
            Kind::Credential => 1,
            Kind::Action => 2,
            Kind::Object => 4,
            Kind::Urgency => 8,
            Kind::Exception => 16,
        }
    }
}

/// One distinct folded phrase.
#[derive(Debug)]
struct Entry {
    /// The phrase as configured (first spelling seen), for evidence.
    shown: String,
    /// Bit set of [`Kind`]s.
    kinds: u8,
    /// Whether the match must not start / end inside a word.
    bound_start: bool,
    bound_end: bool,
}

/// Every phrase list compiled into one automaton.
#[derive(Debug)]
pub(crate) struct Phrases {
    ac: Option<AhoCorasick>,
    entries: Vec<Entry>,
}

/// One accepted match: phrase index and byte range in the folded text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    /// Index of the phrase (see [`Phrases::shown`]).
    pub(crate) phrase: usize,
    /// Start byte in the folded text.
    pub(crate) start: usize,
    /// End byte in the folded text.
    pub(crate) end: usize,
}

/// Most matches looked at per message; lures are short, and this bounds the pairing work.
const MAX_HITS: usize = 256;

/// Most phrases compiled into a full DFA (the defaults are about 320).
const MAX_DFA_PHRASES: usize = 1500;

impl Phrases {
    /// Compiles the lists into one automaton; blank phrases (see [`is_blank`]) are skipped.
    pub(crate) fn build<'a>(
        lists: impl IntoIterator<Item = (Kind, &'a [String])>,
    ) -> Result<Phrases, aho_corasick::BuildError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut folded: Vec<String> = Vec::new();
        for (kind, list) in lists {
            for phrase in list {
                let f = fold(phrase);
                if f.is_empty() {
                    continue;
                }
                if let Some(i) = folded.iter().position(|x| *x == f) {
                    if let Some(e) = entries.get_mut(i) {
                        e.kinds |= kind.bit();
                    }
                    continue;
                }
                entries.push(Entry {
                    shown: phrase.trim().to_string(),
                    kinds: kind.bit(),
                    bound_start: f.chars().next().is_some_and(is_word_char),
                    bound_end: f.chars().next_back().is_some_and(is_word_char),
                });
                folded.push(f);
            }
        }
        let ac = if folded.is_empty() {
            None
        } else {
            // Standard semantics with overlapping search: every phrase is seen even when a
            // longer one covers it ("verify your account" and its "your account"). A full DFA
            // (≈2 MB for the default lists, built once) halves the scan time of the default NFA;
            // much longer lists from config get the library's choice to bound memory.
            let kind = (folded.len() <= MAX_DFA_PHRASES).then_some(AhoCorasickKind::DFA);
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .kind(kind)
                    .build(&folded)?,
            )
        };
        Ok(Phrases { ac, entries })
    }

    /// The phrase as configured.
    pub(crate) fn shown(&self, phrase: usize) -> &str {
        self.entries.get(phrase).map_or("", |e| e.shown.as_str())
    }

    /// Whether the phrase is in the list of `kind`.
    pub(crate) fn is(&self, phrase: usize, kind: Kind) -> bool {
        self.entries
            .get(phrase)
            .is_some_and(|e| e.kinds & kind.bit() != 0)
    }

    /// Every whole-word match in `folded` (text made by [`fold_into`]), in order of end.
    pub(crate) fn find(&self, folded: &str, out: &mut Vec<Hit>) {
        let Some(ac) = &self.ac else {
            return;
        };
        for m in ac.find_overlapping_iter(folded) {
            let Some(e) = self.entries.get(m.pattern().as_usize()) else {
                continue;
            };
            let before = folded.get(..m.start()).map(|s| s.chars().rev());
            let after = folded.get(m.end()..).map(str::chars);
            if (e.bound_start && before.is_some_and(glued))
                || (e.bound_end && after.is_some_and(glued))
            {
                continue;
            }
            out.push(Hit {
                phrase: m.pattern().as_usize(),
                start: m.start(),
                end: m.end(),
            });
            if out.len() >= MAX_HITS {
                break;
            }
        }
    }
}

/// A phrase folded for matching, without surrounding spaces.
fn fold(phrase: &str) -> String {
    let mut f = String::new();
    fold_into(&mut f, phrase, usize::MAX, &mut Disguise::default());
    f.trim().to_string()
}

/// Whether a configured phrase folds to nothing (and so could never be meant).
pub(crate) fn is_blank(phrase: &str) -> bool {
    fold(phrase).is_empty()
}

/// Whether two hits are in one sentence with at most `window` characters between them.
pub(crate) fn near(folded: &str, a: Hit, b: Hit, window: usize) -> bool {
    let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
    if second.start < first.end {
        // Overlapping ("your account" inside "verify your account") is not a pair.
        return false;
    }
    let Some(gap) = folded.get(first.end..second.start) else {
        return false;
    };
    // At most 4 bytes a character: a cheap bound before counting characters.
    if gap.len() > window.saturating_mul(4) {
        return false;
    }
    let breaks = gap.contains(['\n', '!', '?', '。', '|']) || gap.contains(". ");
    !breaks && gap.chars().count() <= window
}

/// Whether the text next to a match (walking away from it) continues the same token: a
/// letter, or a host name, address or path around it (`thomas@urgent.example/`).
fn glued(mut away: impl Iterator<Item = char>) -> bool {
    match away.next() {
        Some(c) if is_word_char(c) => true,
        Some('@' | '/' | '_' | '=' | '\\') => true,
        Some('.') => away.next().is_some_and(is_word_char),
        _ => false,
    }
}

/// Letters and digits of alphabetic scripts, where a phrase must start and end on a word
/// boundary ("account" must not match inside "accountant"). CJK text has no spaces, so
/// phrases in it match anywhere.
fn is_word_char(c: char) -> bool {
    c == '#' || (c.is_alphanumeric() && (c as u32) < 0x2E80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn whole_words_only_for_alphabetic_phrases() {
        let objects = list(&["account"]);
        let p = Phrases::build([(Kind::Object, objects.as_slice())]).unwrap();
        let mut hits = Vec::new();
        p.find(&fold("our accountant"), &mut hits);
        assert!(hits.is_empty());
        p.find(&fold("your account."), &mut hits);
        assert_eq!(hits.len(), 1);
    }

    #[test]
    fn japanese_phrases_match_inside_running_text() {
        let objects = list(&["パスワード"]);
        let p = Phrases::build([(Kind::Object, objects.as_slice())]).unwrap();
        let mut hits = Vec::new();
        p.find(&fold("お客様のパスワードを"), &mut hits);
        assert_eq!(hits.len(), 1);
    }

    #[test]
    fn a_phrase_in_two_lists_has_both_kinds() {
        let a = list(&["Verify"]);
        let b = list(&["verify"]);
        let p =
            Phrases::build([(Kind::Action, a.as_slice()), (Kind::Urgency, b.as_slice())]).unwrap();
        let mut hits = Vec::new();
        p.find("verify", &mut hits);
        assert_eq!(hits.len(), 1);
        assert!(p.is(0, Kind::Action) && p.is(0, Kind::Urgency));
        assert_eq!(p.shown(0), "Verify");
    }

    #[test]
    fn invisible_phrase_is_blank() {
        assert!(is_blank("\u{200B} -"));
        assert!(!is_blank("至急"));
    }

    #[test]
    fn nearness_stops_at_sentence_ends() {
        let h = |start, end| Hit {
            phrase: 0,
            start,
            end,
        };
        let t = "verify now your account";
        assert!(near(t, h(0, 6), h(15, 23), 40));
        assert!(!near(t, h(0, 6), h(15, 23), 5));
        let t = "verify now. your account";
        assert!(!near(t, h(0, 6), h(16, 24), 40));
    }
}
