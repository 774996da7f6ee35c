//! Hosts that imitate a protected brand or the organisation's own domain.
//!
//! Each label of the host left of its public suffix is reduced to a comparison key: the UTS #39
//! skeleton for non-ASCII labels (Cyrillic `а` → `a`), then lowercase, `0` → `o`, `1`/`i`/`l`
//! alike, `rn` → `m`, `vv` → `w`, hyphens dropped. A label whose key equals a protected name's
//! key without being that name, or is one edit from a long name that a reader would not
//! notice, imitates it. IDN labels whose skeleton is plain ASCII, or
//! that mix scripts beyond UTS #39 "highly restrictive", imitate by construction. A host that
//! carries the organisation's whole domain inside it (`nenkin.go.jp.evil.example`) does too.
//! An exact brand label (paypal.com, paypal.co.jp) is the brand, not an imitation.

use sg_message::Domain;
use unicode_security::{RestrictionLevel, RestrictionLevelDetection};

use crate::organisation::Organisation;

/// A name to protect, with its comparison key.
#[derive(Debug)]
struct Name {
    plain: String,
    key: String,
}

impl Name {
    fn new(raw: &str) -> Option<Name> {
        let plain: String = raw
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        // Labels are compared whole, so short names ("jcb") are safe; two letters ("au") are not.
        (plain.len() >= 3).then(|| Name {
            key: key(&plain),
            plain,
        })
    }
}

/// The brands from config, keys precomputed.
#[derive(Debug, Default)]
pub(super) struct Protected {
    brands: Vec<Name>,
}

/// What a host imitates and how.
#[derive(Debug, PartialEq)]
pub(super) struct Imitation {
    /// The brand name or own domain imitated (or the ASCII the label passes for).
    pub(super) target: String,
    /// How, for people: "look_alike_characters", "typo", …
    pub(super) how: &'static str,
    /// How sure: 1.0 for a clear imitation.
    pub(super) weight: f32,
}

/// Whether the host as written in `raw` differs from the parsed ASCII host `d` by more than
/// case: styled Unicode letters (𝚎𝚡𝚊𝚖𝚙𝚕𝚎, ｅｘａｍｐｌｅ) or percent escapes that browsers fold
/// to ASCII. Real IDNs are judged by their labels instead.
pub(super) fn styled_authority(raw: &str, d: &Domain) -> bool {
    if d.is_idn() {
        return false;
    }
    let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    !host.is_ascii() || host.contains('%')
}

/// The label left of the public suffix ("example" in "www.example.co.jp").
pub(super) fn registrable_label(d: &Domain) -> &str {
    let r = d.registrable();
    r.split('.').next().unwrap_or(r)
}

impl Protected {
    /// Precomputes the keys of the configured brands.
    pub(super) fn new(brands: &[String]) -> Protected {
        Protected {
            brands: brands.iter().filter_map(|b| Name::new(b)).collect(),
        }
    }

    /// What `d` imitates, if anything: brands and `org`'s protected names and domains.
    pub(super) fn imitation(&self, d: &Domain, org: &Organisation) -> Option<Imitation> {
        if org.is_own_domain(d.as_str()) {
            return None;
        }
        let org_names: Vec<Name> = org
            .protected_names()
            .iter()
            .filter_map(|n| Name::new(n))
            .collect();
        let names = || self.brands.iter().chain(&org_names);
        let suffix_labels = d.registrable().split('.').count().saturating_sub(1);
        let keep = d.as_str().split('.').count().saturating_sub(suffix_labels);
        let labels = d.as_str().split('.').zip(d.unicode().split('.')).take(keep);
        let mut found = None;
        for (label, uni) in labels {
            let is_name = |n: &Name| label.bytes().filter(|&b| b != b'-').eq(n.plain.bytes());
            if names().any(is_name) {
                continue;
            }
            let k = key(uni);
            // Protected names are ASCII: only an ASCII key can equal one or be one edit away.
            let hit = k
                .is_ascii()
                .then(|| names().find_map(|n| brand_match(uni, &k, n)))
                .flatten();
            found = better(found, hit.or_else(|| script_trick(uni, &k)));
        }
        for own in org.domains() {
            found = better(found, own_domain_imitation(d, own));
        }
        found
    }
}

/// How the label with key `k` imitates the protected name `n`, if it does.
fn brand_match(label: &str, k: &str, n: &Name) -> Option<Imitation> {
    if k == n.key {
        let how = if label.is_ascii() {
            "look_alike_spelling"
        } else {
            "look_alike_characters"
        };
        return Some(Imitation {
            target: n.plain.clone(),
            how,
            weight: 1.0,
        });
    }
    near_miss(k, &n.key).then(|| Imitation {
        target: n.plain.clone(),
        how: "typo",
        weight: 0.8,
    })
}

fn better(a: Option<Imitation>, b: Option<Imitation>) -> Option<Imitation> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.weight > a.weight { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// IDN tricks that need no brand: a label made only of characters that pass for ASCII
/// (whole-script confusable), or one mixing scripts no real name mixes.
fn script_trick(label: &str, key: &str) -> Option<Imitation> {
    if label.is_ascii() {
        return None;
    }
    if key.is_ascii() {
        return Some(Imitation {
            target: key.to_string(),
            how: "whole_script_confusable",
            weight: 0.8,
        });
    }
    // Digits and hyphens are common to all scripts; leave them out of the script check.
    let letters: String = label.chars().filter(|c| c.is_alphabetic()).collect();
    (letters.as_str().detect_restriction_level() > RestrictionLevel::HighlyRestrictive).then(|| {
        Imitation {
            target: label.to_string(),
            how: "mixed_scripts",
            weight: 0.6,
        }
    })
}

/// Imitations of one of the organisation's own domains.
fn own_domain_imitation(d: &Domain, own: &str) -> Option<Imitation> {
    let own = Domain::parse(own)?;
    if d.registrable() == own.registrable() {
        return None;
    }
    let own_label = registrable_label(&own);
    let target = || own.registrable().to_string();
    let own_flat = key(own.registrable());
    if own_flat.len() >= 6 && key(d.as_str()).contains(&own_flat) {
        return Some(Imitation {
            target: target(),
            how: "own_domain_inside",
            weight: 1.0,
        });
    }
    let label_key = key(d.unicode().split('.').nth(
        d.as_str()
            .split('.')
            .count()
            .saturating_sub(d.registrable().split('.').count()),
    )?);
    let own_key = key(own_label);
    if own_key.len() < 4 {
        return None;
    }
    if label_key == own_key {
        let how = if registrable_label(d) == own_label {
            "own_name_other_suffix"
        } else {
            "own_domain_look_alike"
        };
        return Some(Imitation {
            target: target(),
            how,
            weight: if registrable_label(d) == own_label {
                0.7
            } else {
                1.0
            },
        });
    }
    near_miss(&label_key, &own_key).then(|| Imitation {
        target: target(),
        how: "own_domain_typo",
        weight: 1.0,
    })
}

/// The comparison key of a label or name (see the module documentation).
pub(super) fn key(s: &str) -> String {
    let mut folded = String::with_capacity(s.len());
    let mut push = |c: char| {
        for c in c.to_lowercase() {
            match c {
                '-' | '.' | '_' => {}
                '0' => folded.push('o'),
                '1' | 'i' => folded.push('l'),
                c => folded.push(c),
            }
        }
    };
    if s.is_ascii() {
        s.chars().for_each(&mut push);
    } else {
        unicode_security::skeleton(s).for_each(&mut push);
    }
    if folded.contains("rn") || folded.contains("vv") {
        folded = folded.replace("rn", "m").replace("vv", "w");
    }
    folded
}

/// Pairs of letters a reader takes for each other at a glance.
fn similar(a: u8, b: u8) -> bool {
    const PAIRS: &[(u8, u8)] = &[
        (b'l', b'j'),
        (b'u', b'v'),
        (b'c', b'e'),
        (b'g', b'q'),
        (b'n', b'm'),
        (b'o', b'a'),
    ];
    PAIRS
        .iter()
        .any(|&(x, y)| (a, b) == (x, y) || (a, b) == (y, x))
}

/// Whether the ASCII key `got` is one unnoticeable edit away from the protected key `want`:
/// two neighbours swapped, a doubled or undoubled letter, or a look-alike letter substituted.
/// Longer names match more: from seven letters any one letter dropped or added, from nine any
/// one substituted. Names under six letters never match: too many ordinary words lie one edit
/// from them (and "finance" is one substitution from "binance").
fn near_miss(got: &str, want: &str) -> bool {
    let (g, w) = (got.as_bytes(), want.as_bytes());
    if w.len() < 6 || g.len().abs_diff(w.len()) > 1 || g == w || !got.is_ascii() {
        return false;
    }
    let (long_indel, long_sub) = (w.len() >= 7, w.len() >= 9);
    let prefix = g.iter().zip(w).take_while(|(a, b)| a == b).count();
    let suffix = g
        .iter()
        .rev()
        .zip(w.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    // A letter doubled in `s` at `at`: equal to a neighbour.
    let doubled = |s: &[u8], at: usize| {
        s.get(at)
            .is_some_and(|c| (at > 0 && s.get(at - 1) == Some(c)) || s.get(at + 1) == Some(c))
    };
    match g.len().cmp(&w.len()) {
        std::cmp::Ordering::Equal if prefix + suffix + 1 == w.len() => {
            // One substitution at `prefix`.
            long_sub
                || g.get(prefix)
                    .zip(w.get(prefix))
                    .is_some_and(|(a, b)| similar(*a, *b))
        }
        std::cmp::Ordering::Equal => {
            // One swap of neighbours at `prefix`, `prefix + 1`.
            prefix + suffix + 2 == w.len()
                && g.get(prefix) == w.get(prefix + 1)
                && g.get(prefix + 1) == w.get(prefix)
        }
        // One letter inserted at `prefix` (unnoticeable when it doubles a neighbour) …
        std::cmp::Ordering::Greater => {
            prefix + suffix >= w.len() && (long_indel || doubled(g, prefix))
        }
        // … or one dropped (unnoticeable when it was doubled).
        std::cmp::Ordering::Less => {
            prefix + suffix >= g.len() && (long_indel || doubled(w, prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organisation::OrganisationConfig;

    fn brands() -> Protected {
        Protected::new(&[
            "paypal".into(),
            "paypay".into(),
            "microsoft".into(),
            "mizuho".into(),
            "smbc".into(),
            "google".into(),
        ])
    }

    fn check(host: &str) -> Option<(String, &'static str)> {
        let d = Domain::parse(host).unwrap();
        brands()
            .imitation(&d, &Organisation::default())
            .map(|i| (i.target, i.how))
    }

    #[test]
    fn keys_fold_look_alikes() {
        assert_eq!(key("paypa1"), key("paypal"));
        assert_eq!(key("rnicros0ft"), key("microsoft"));
        assert_eq!(key("pay-pal"), "paypal");
        assert_eq!(key("pаypal"), "paypal"); // Cyrillic а
        assert_eq!(key("v1sa"), key("visa"));
        assert_ne!(key("mizuno"), key("mizuho"));
    }

    #[test]
    fn look_alike_hosts_imitate_brands() {
        assert_eq!(check("paypa1.example").map(|x| x.0), Some("paypal".into()));
        assert_eq!(
            check("secure.rnicrosoft.example").map(|x| x.0),
            Some("microsoft".into())
        );
        assert_eq!(
            check("xn--pypal-4ve.example").map(|x| x.1),
            Some("look_alike_characters")
        );
        assert_eq!(check("gooogle.example").map(|x| x.1), Some("typo"));
        assert_eq!(check("micorsoft.example").map(|x| x.1), Some("typo"));
        assert_eq!(check("srnbc.example").map(|x| x.0), Some("smbc".into()));
    }

    #[test]
    fn brands_and_ordinary_words_are_not_imitations() {
        for host in [
            "paypal.com",
            "www.paypal.co.jp",
            "paypay.ne.jp",
            "mizuno.example",
            "googlemail.com",
            "example.org",
            "outlook.4team.example",
            "bücher.example",
            "xn--r8jz45g.jp",
        ] {
            assert_eq!(check(host), None, "{host}");
        }
    }

    #[test]
    fn whole_script_and_mixed_script_idns() {
        // All-Cyrillic "асе" passes for ASCII "ace".
        assert_eq!(
            check("асе.example").map(|x| x.1),
            Some("whole_script_confusable")
        );
        // Latin mixed with Greek.
        assert_eq!(
            check("alphaβeta.example").map(|x| x.1),
            Some("mixed_scripts")
        );
        // Latin with Japanese is an ordinary Japanese name.
        assert_eq!(check("docomoショップ.example"), None);
    }

    #[test]
    fn own_domain_imitations() {
        let org = Organisation::from_config(&OrganisationConfig {
            domains: vec!["nenkin.go.jp".into()],
            protected_names: vec!["Example Pension".into()],
            ..OrganisationConfig::default()
        });
        let p = Protected::new(&[]);
        let get = |h: &str| p.imitation(&Domain::parse(h).unwrap(), &org).map(|i| i.how);
        assert_eq!(get("nenkin.go.jp.evil.example"), Some("own_domain_inside"));
        assert_eq!(get("nenkin-go.jp"), Some("own_domain_inside"));
        assert_eq!(get("nenkin.example"), Some("own_name_other_suffix"));
        assert_eq!(get("nenkim.example"), Some("own_domain_typo"));
        assert_eq!(get("examp1epension.example"), Some("look_alike_spelling"));
        assert_eq!(get("www.nenkin.go.jp"), None);
        assert_eq!(get("unrelated.example"), None);
    }

    #[test]
    fn near_misses_are_unnoticeable_edits() {
        assert!(near_miss("gogle", "google"));
        assert!(near_miss("googel", "google"));
        assert!(near_miss("goagle", "google"));
        assert!(!near_miss("mizuno", "mizuho"));
        assert!(!near_miss("apply", "apple"));
        assert!(near_miss("outook", "outlook"));
        assert!(!near_miss("finance", "binance"));
        assert!(near_miss("microsofy", "microsoft"));
        assert!(!near_miss("google", "google"));
    }
}
