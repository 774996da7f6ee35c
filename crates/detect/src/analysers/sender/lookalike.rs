//! Look-alike From domains: a registered name that a reader takes for the organisation's or a
//! brand's domain. Attackers register these because they pass SPF and DKIM for themselves:
//! typos (`paypa1.com`, `amazom.com`), homoglyphs (`rnicrosoft.com`, Cyrillic `раураl.com`),
//! hyphens (`pay-pal.com`), added words (`rakuten-secure.com`) or the real domain as a
//! subdomain (`paypal.com.evil.example`). Only the registrable label is compared, so the same
//! name under another suffix (`amazon.co.jp` for `amazon.com`) is not flagged.

use sg_message::Domain;
use unicode_security::MixedScript;

use super::names::{label_key, registrable_label};

/// A domain to protect, prepared once.
#[derive(Debug)]
pub(super) struct Target {
    /// Registrable domain, ASCII.
    domain: String,
    /// Its registrable label ("paypal").
    label: String,
    /// The label without hyphens.
    compact: String,
    /// The label folded for confusables (see [`label_key`]).
    folded: String,
    /// Whether the label plus another word counts as imitation. Not for labels that are
    /// everyday words (`office`, `apple`): `home-office.example` imitates nobody.
    combo: bool,
}

impl Target {
    /// One of the organisation's own domains: its labels are its own, so any added word counts.
    pub(super) fn own(domain: &str) -> Option<Target> {
        Target::new(domain, |label| label.len() >= 4)
    }

    /// A brand's domain: an added word counts only when the label is the brand's name
    /// (`paypal`, `rakuten`) and long enough not to be an everyday word.
    pub(super) fn brand(domain: &str, slugs: &[String]) -> Option<Target> {
        Target::new(domain, |label| {
            label.len() >= 6 && slugs.iter().any(|s| s == label)
        })
    }

    fn new(domain: &str, combo: impl Fn(&str) -> bool) -> Option<Target> {
        let d = Domain::parse(domain)?;
        let label = registrable_label(&d).to_string();
        Some(Target {
            domain: d.registrable().to_string(),
            compact: label.replace('-', ""),
            folded: label_key(unicode_label(&d)),
            combo: combo(&label),
            label,
        })
    }
}

/// How a domain imitates its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Characters that look the same (UTS #39 skeleton).
    Homoglyph,
    /// One or two letters changed, added, dropped or swapped.
    Typo,
    /// The same letters with hyphens added or removed.
    Hyphen,
    /// The target's name plus another word (`paypal-secure`).
    AddedWord,
    /// The target's whole domain written as a subdomain of another.
    Subdomain,
    /// An internationalised label mixing scripts (Latin with Cyrillic, …).
    MixedScript,
}

impl Kind {
    /// Stable name for facts.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Homoglyph => "homoglyph",
            Kind::Typo => "typo",
            Kind::Hyphen => "hyphen",
            Kind::AddedWord => "added_word",
            Kind::Subdomain => "subdomain",
            Kind::MixedScript => "mixed_script",
        }
    }

    /// Words for the evidence line.
    pub(super) fn describe(self) -> &'static str {
        match self {
            Kind::Homoglyph => "look-alike characters",
            Kind::Typo => "a letter or two changed",
            Kind::Hyphen => "hyphens changed",
            Kind::AddedWord => "a word added",
            Kind::Subdomain => "the real domain used as a subdomain",
            Kind::MixedScript => "letters from more than one script",
        }
    }

    /// How sure the kind is: an added word is also how brands name their own services,
    /// and a mixed-script name imitates nothing we know of in particular.
    pub(super) fn weight(self) -> f32 {
        match self {
            Kind::AddedWord => 0.6,
            Kind::MixedScript => 0.5,
            _ => 1.0,
        }
    }
}

/// The first way `from` imitates a target, and which target (none for mixed script).
/// An exact match with any target means the domain is genuine, so nothing fires.
pub(super) fn check<'t>(from: &Domain, groups: [&'t [Target]; 2]) -> Option<(Kind, &'t str)> {
    let targets = || groups.into_iter().flatten();
    let reg = from.registrable();
    if targets().any(|t| t.domain == reg) {
        return None;
    }
    let label = registrable_label(from);
    let ulabel = unicode_label(from);
    let folded = label_key(ulabel);
    let compact: String = label.chars().filter(|&c| c != '-').collect();
    let host = from.as_str();
    for t in targets() {
        // The target's labels must end before the registrable part starts, so that
        // `yahoo.com.au` is not read as `yahoo.com` under `.au`.
        if host.len() > t.domain.len() + reg.len()
            && host.starts_with(t.domain.as_str())
            && host.as_bytes().get(t.domain.len()) == Some(&b'.')
        {
            return Some((Kind::Subdomain, &t.domain));
        }
        if label == t.label {
            continue;
        }
        if folded == t.folded {
            return Some((Kind::Homoglyph, &t.domain));
        }
        if compact == t.compact {
            return Some((Kind::Hyphen, &t.domain));
        }
        if is_typo(&compact, &t.compact) {
            return Some((Kind::Typo, &t.domain));
        }
        // Words compared folded, so `gооgle-login` (Cyrillic о) counts as `google` + a word.
        if t.combo && folded.contains(' ') && folded.split(' ').any(|w| w == t.folded) {
            return Some((Kind::AddedWord, &t.domain));
        }
    }
    (from.is_idn() && !ulabel.is_single_script()).then_some((Kind::MixedScript, ""))
}

/// Edit distance within the length guard: none below 6 letters (too many real words are
/// one letter from a short brand), 1 from 6, 2 from 9. A whole word glued on
/// (`onmicrosoft`, `microsoftx`) is a different name, not a typo.
fn is_typo(a: &str, target: &str) -> bool {
    let n = target.chars().count();
    let allowed = match n {
        0..=5 => return false,
        6..=8 => 1,
        _ => 2,
    };
    let diff = a.chars().count().abs_diff(n);
    if diff > allowed || (diff >= 2 && (a.contains(target) || target.contains(a))) {
        return false;
    }
    if bag_distance(a, target) > allowed {
        return false;
    }
    let d = strsim::osa_distance(a, target);
    d > 0 && d <= allowed
}

/// A cheap lower bound of the edit distance: letters one side has and the other lacks.
/// (Byte values folded into 64 buckets; collisions only lower the bound.)
fn bag_distance(a: &str, b: &str) -> usize {
    let mut h = [0i32; 64];
    for c in a.bytes() {
        h[usize::from(c & 63)] += 1;
    }
    for c in b.bytes() {
        h[usize::from(c & 63)] -= 1;
    }
    let more: i32 = h.iter().filter(|&&x| x > 0).sum();
    let less: i32 = -h.iter().filter(|&&x| x < 0).sum::<i32>();
    usize::try_from(more.max(less)).unwrap_or(usize::MAX)
}

/// The registrable label in Unicode form ("раураl" rather than "xn--80aa0cbo65f").
fn unicode_label(d: &Domain) -> &str {
    let labels = d.as_str().split('.').count();
    let suffix = d.registrable().split('.').count();
    d.unicode()
        .split('.')
        .nth(labels.saturating_sub(suffix))
        .unwrap_or_else(|| registrable_label(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(from: &str, target: &str) -> Option<Kind> {
        let t = [Target::own(target).unwrap()];
        check(&Domain::parse(from).unwrap(), [&t, &[]]).map(|(k, _)| k)
    }

    #[test]
    fn kinds_of_imitation() {
        assert_eq!(kind("paypa1.com", "paypal.com"), Some(Kind::Homoglyph));
        assert_eq!(
            kind("rnicrosoft.com", "microsoft.com"),
            Some(Kind::Homoglyph)
        );
        assert_eq!(kind("раураl.com", "paypal.com"), Some(Kind::Homoglyph));
        assert_eq!(kind("amazom.com", "amazon.com"), Some(Kind::Typo));
        assert_eq!(kind("mircosoft.com", "microsoft.com"), Some(Kind::Typo));
        assert_eq!(kind("pay-pal.com", "paypal.com"), Some(Kind::Hyphen));
        assert_eq!(
            kind("rakuten-secure.com", "rakuten.co.jp"),
            Some(Kind::AddedWord)
        );
        assert_eq!(
            kind("gооgle-login.example", "google.com"),
            Some(Kind::AddedWord)
        );
        assert_eq!(
            kind("paypal.com.evil.example", "paypal.com"),
            Some(Kind::Subdomain)
        );
    }

    #[test]
    fn genuine_and_unrelated_domains_are_quiet() {
        assert_eq!(kind("mail.paypal.com", "paypal.com"), None);
        assert_eq!(kind("amazon.co.jp", "amazon.com"), None);
        assert_eq!(kind("example.org", "paypal.com"), None);
        // Short names: one letter off is too often a different word.
        assert_eq!(kind("apply.com", "apple.com"), None);
        assert_eq!(kind("dhi.com", "dhl.com"), None);
        assert_eq!(kind("yahoo.com.au", "yahoo.com"), None);
        assert_eq!(kind("tenant.onmicrosoft.com", "microsoft.com"), None);
    }

    #[test]
    fn added_word_only_for_brand_names_not_everyday_words() {
        let slugs = ["microsoft".to_string(), "office365".to_string()];
        let t = [
            Target::brand("microsoft.com", &slugs).unwrap(),
            Target::brand("office.com", &slugs).unwrap(),
        ];
        let k = |from: &str| check(&Domain::parse(from).unwrap(), [&t, &[]]).map(|(k, _)| k);
        assert_eq!(k("microsoft-verify.example"), Some(Kind::AddedWord));
        assert_eq!(k("home-office.example"), None);
    }

    #[test]
    fn mixed_script_idn_without_target() {
        assert_eq!(
            kind("gооgle-x.example", "paypal.com"),
            Some(Kind::MixedScript)
        );
        assert_eq!(kind("例え.jp", "paypal.com"), None);
    }

    #[test]
    fn typo_guard_scales_with_length() {
        assert!(is_typo("amazom", "amazon"));
        assert!(!is_typo("amzaon1", "amazon"));
        assert!(is_typo("japanpots", "japanpost"));
        assert!(!is_typo("apple", "apple"));
    }
}
