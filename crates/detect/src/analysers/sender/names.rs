//! Display-name impersonation: the From display name claims a protected brand, the
//! organisation, a staff member or another address, while the address is elsewhere.
//! Mail clients show the name and hide the address, so the name is what the reader trusts.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use sg_message::Domain;

use super::BrandConfig;
use crate::analyser::Context;

/// What the display name claims that the address does not back up.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Claim {
    /// A staff member's name.
    Staff,
    /// One of the organisation's protected names.
    Organisation(String),
    /// A protected brand.
    Brand(String),
    /// An email address at another domain ("service@bank.example").
    Address(String),
    /// One of the organisation's own domains, written bare.
    OwnDomain(String),
}

#[derive(Debug)]
struct Brand {
    /// The first configured name, for evidence.
    name: String,
    /// ASCII letters and digits of each name, lowercase ("bankofamerica"), when it has any.
    slugs: Vec<String>,
    /// Registrable domains the brand sends from.
    domains: Vec<String>,
}

/// Protected brands compiled for matching in display names.
#[derive(Debug, Default)]
pub(super) struct Brands {
    brands: Vec<Brand>,
    /// Pattern index → brand index.
    pattern_brand: Vec<usize>,
    /// Confusable-folded names (see [`key`]).
    matcher: Option<AhoCorasick>,
    /// Registrable brand domain → brand index.
    by_domain: HashMap<String, usize>,
}

impl Brands {
    /// Compiles the brand list; an error names the bad entry.
    pub(super) fn new(cfg: &[BrandConfig]) -> Result<Brands, String> {
        let mut out = Brands::default();
        let mut patterns = Vec::new();
        for (i, b) in cfg.iter().enumerate() {
            let mut domains = Vec::new();
            for d in &b.domains {
                let parsed = Domain::parse(d).ok_or_else(|| format!("[{i}]: bad domain {d:?}"))?;
                out.by_domain.insert(parsed.registrable().to_string(), i);
                domains.push(parsed.registrable().to_string());
            }
            for n in &b.names {
                let k = key(n);
                if k.chars().count() < 2 {
                    return Err(format!("[{i}]: name {n:?} is too short to match safely"));
                }
                patterns.push(k);
                out.pattern_brand.push(i);
            }
            let name = b.names.first().cloned().ok_or(format!("[{i}]: no names"))?;
            out.brands.push(Brand {
                name,
                slugs: b
                    .names
                    .iter()
                    .map(|n| slug(n))
                    .filter(|s| !s.is_empty())
                    .collect(),
                domains,
            });
        }
        if !patterns.is_empty() {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .map_err(|e| e.to_string())?;
            out.matcher = Some(ac);
        }
        Ok(out)
    }

    /// What the display `name` claims that `from` (an external address) does not back up.
    pub(super) fn claim(&self, name: &str, from: &Domain, cx: &Context<'_>) -> Option<Claim> {
        if is_system_sender(name) {
            return None;
        }
        if staff_named(name, cx.org.staff_names()) {
            return Some(Claim::Staff);
        }
        let k = key(name);
        for p in cx.org.protected_names() {
            let pk = key(p);
            if !pk.is_empty() && find_word(&k, &pk) && !label_is(from, &slug(p)) {
                return Some(Claim::Organisation(p.clone()));
            }
        }
        if let Some(c) = self.written_domain(name, from, cx) {
            return Some(c);
        }
        self.brand(&k, from)
    }

    /// An address or a known domain written into the display name.
    fn written_domain(&self, name: &str, from: &Domain, cx: &Context<'_>) -> Option<Claim> {
        // "alice@example.org via Group": a list or form service relaying for someone.
        let relayed = name.to_lowercase().contains(" via ");
        for token in
            name.split(|c: char| c.is_whitespace() || "\"'()<>[],;:|　（）「」【】".contains(c))
        {
            let (host, is_address) = match token.rsplit_once('@') {
                Some((_, h)) => (h, true),
                None => (token, false),
            };
            let host = host.trim_end_matches(['.', '!', '?']);
            if !host.contains('.') {
                continue;
            }
            let Some(d) = Domain::parse(host).filter(|d| plausible_tld(d.tld())) else {
                continue;
            };
            if same_label(&d, from) {
                continue;
            }
            if cx.org.is_own_domain(d.as_str()) {
                return Some(Claim::OwnDomain(d.registrable().to_string()));
            }
            if is_address && !relayed {
                return Some(Claim::Address(d.registrable().to_string()));
            }
            if let Some(&b) = self.by_domain.get(d.registrable())
                && let Some(brand) = self.brands.get(b)
                && !brand.owns(from)
            {
                return Some(Claim::Brand(brand.name.clone()));
            }
        }
        None
    }

    /// A protected brand named in the folded display name `k`.
    fn brand(&self, k: &str, from: &Domain) -> Option<Claim> {
        let ac = self.matcher.as_ref()?;
        let mut claimed = None;
        for m in ac.find_iter(k) {
            if !at_word_boundary(k, m.start(), m.end()) {
                continue;
            }
            let brand = self
                .pattern_brand
                .get(m.pattern().as_usize())
                .and_then(|&i| self.brands.get(i))?;
            if brand.owns(from) {
                return None;
            }
            claimed.get_or_insert(brand);
        }
        claimed.map(|b| Claim::Brand(b.name.clone()))
    }
}

impl Brand {
    /// Whether `from` is one of the brand's domains, or its registrable label is the brand's name.
    fn owns(&self, from: &Domain) -> bool {
        self.domains.iter().any(|d| d == from.registrable())
            || self.slugs.iter().any(|s| label_is(from, s))
    }
}

/// Folds a display name for matching: lowercase, UTS #39 confusable skeleton (so `PayPaI`,
/// `Ａｍａｚｏｎ` and Cyrillic `раураl` all fold like `paypal`/`amazon`), `i` folded into `l`
/// (uppercase `I` and `l` look alike, and lowercasing first would lose that), combining marks
/// dropped, and any run of other characters turned into one space.
pub(super) fn key(s: &str) -> String {
    fold(s, true)
}

/// [`key`] for domain labels, which are shown in lowercase, where `i` and `l` differ.
pub(super) fn label_key(s: &str) -> String {
    fold(s, false)
}

fn fold(s: &str, i_as_l: bool) -> String {
    let lower = s.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut gap = false;
    for c in unicode_security::skeleton(&lower).flat_map(char::to_lowercase) {
        if is_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(if i_as_l && c == 'i' { 'l' } else { c });
        } else {
            gap = true;
        }
    }
    out
}

/// Combining marks left by the skeleton's NFD (accents, kana voicing marks).
fn is_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}'
        | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}' | '\u{3099}' | '\u{309a}')
}

/// ASCII letters and digits, lowercase: the form a brand takes in a domain label.
pub(super) fn slug(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The registrable label without the public suffix ("example" for "www.example.co.jp").
pub(super) fn registrable_label(d: &Domain) -> &str {
    d.registrable().split('.').next().unwrap_or_default()
}

/// Whether the registrable label is exactly `slug` (`amazon.de` for "Amazon"; `amaz-on.de` is not).
fn label_is(d: &Domain, slug: &str) -> bool {
    !slug.is_empty() && registrable_label(d) == slug
}

fn same_label(a: &Domain, b: &Domain) -> bool {
    registrable_label(a) == registrable_label(b)
}

/// A top-level domain that could be real: letters only (or punycode), 2–63 long.
fn plausible_tld(tld: &str) -> bool {
    tld.len() >= 2 && (tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--"))
}

/// `needle` occurs in `hay` as whole words (both already folded with [`key`]).
fn find_word(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle)
        .any(|(i, m)| at_word_boundary(hay, i, i + m.len()))
}

/// Whether `hay[start..end]` is not glued to ASCII letters on either side. Words in Japanese
/// are not separated by spaces, so a non-ASCII neighbour or match edge counts as a boundary.
fn at_word_boundary(hay: &str, start: usize, end: usize) -> bool {
    let glued = |a: Option<char>, b: Option<char>| match (a, b) {
        (Some(a), Some(b)) => a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric(),
        _ => false,
    };
    let (before, inside, after) = match (hay.get(..start), hay.get(start..end), hay.get(end..)) {
        (Some(b), Some(i), Some(a)) => (b, i, a),
        _ => return false,
    };
    !glued(before.chars().next_back(), inside.chars().next())
        && !glued(inside.chars().next_back(), after.chars().next())
}

/// Whether the display name, ignoring case, spacing and a trailing "(title)" or ", dept",
/// is a staff member's name (already lowercase in the organisation).
fn staff_named(name: &str, staff: &[String]) -> bool {
    if staff.is_empty() {
        return false;
    }
    let lower = name.to_lowercase();
    let main = lower
        .split(['(', '（', '[', '【', '|', '/', ',', '、', '<'])
        .next()
        .unwrap_or_default();
    let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let (full, main) = (compact(&lower), compact(main));
    staff
        .iter()
        .map(|s| compact(s))
        .any(|s| !s.is_empty() && (s == full || s == main))
}

/// MTAs sign their own reports (bounces, Exchange system messages) with a product name
/// such as "Microsoft Outlook"; those are not brand claims.
fn is_system_sender(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("mailer-daemon") || n.contains("postmaster") || n == "microsoft outlook"
}

/// The brands protected out of the box: the names most imitated in phishing worldwide and
/// in Japan, with the domains they really send from. Extend or replace in config.
pub(super) fn default_brands() -> Vec<BrandConfig> {
    let b = |names: &[&str], domains: &[&str]| BrandConfig {
        names: names.iter().map(|s| s.to_string()).collect(),
        domains: domains.iter().map(|s| s.to_string()).collect(),
    };
    let ms = &[
        "microsoft.com",
        "microsoftonline.com",
        "office.com",
        "office365.com",
        "sharepointonline.com",
    ];
    vec![
        b(&["PayPal"], &["paypal.com", "paypal-communication.com"]),
        b(&["PayPay"], &["paypay.ne.jp"]),
        b(&["Amazon", "アマゾン"], &["amazon.com", "amazon.co.jp"]),
        b(&["Apple", "Apple ID"], &["apple.com"]),
        b(
            &[
                "Microsoft",
                "Office 365",
                "Microsoft 365",
                "OneDrive",
                "SharePoint",
            ],
            ms,
        ),
        b(&["Google"], &["google.com"]),
        b(&["Netflix"], &["netflix.com"]),
        b(&["Facebook"], &["facebook.com", "facebookmail.com"]),
        b(&["Instagram"], &["instagram.com", "facebookmail.com"]),
        b(&["WhatsApp"], &["whatsapp.com"]),
        b(&["LinkedIn"], &["linkedin.com"]),
        b(&["DocuSign"], &["docusign.com", "docusign.net"]),
        b(&["Dropbox"], &["dropbox.com", "dropboxmail.com"]),
        b(&["Adobe"], &["adobe.com", "adobesign.com"]),
        b(&["DHL"], &["dhl.com", "dhl.de"]),
        b(&["FedEx"], &["fedex.com"]),
        b(&["Coinbase"], &["coinbase.com"]),
        b(&["MetaMask"], &["metamask.io"]),
        b(&["Binance"], &["binance.com"]),
        b(&["Norton"], &["norton.com", "nortonlifelock.com"]),
        b(&["McAfee"], &["mcafee.com"]),
        b(&["Wells Fargo"], &["wellsfargo.com"]),
        b(&["Bank of America"], &["bankofamerica.com", "bofa.com"]),
        b(
            &["American Express", "Amex"],
            &["americanexpress.com", "aexp.com"],
        ),
        b(&["USPS"], &["usps.com", "usps.gov"]),
        b(&["Spotify"], &["spotify.com"]),
        b(
            &["Yahoo"],
            &[
                "yahoo.com",
                "yahoo.co.jp",
                "yahoo-net.jp",
                "yahoogroups.com",
            ],
        ),
        b(
            &["Rakuten", "楽天"],
            &[
                "rakuten.co.jp",
                "rakuten.com",
                "rakuten-card.co.jp",
                "rakuten-bank.co.jp",
            ],
        ),
        b(
            &["三井住友カード", "三井住友銀行", "SMBC", "Vpass"],
            &["smbc.co.jp", "smbc-card.com", "vpass.ne.jp"],
        ),
        b(&["三菱UFJ", "MUFG"], &["mufg.jp"]),
        b(
            &["みずほ銀行", "Mizuho"],
            &["mizuhobank.co.jp", "mizuho-fg.co.jp"],
        ),
        b(&["ゆうちょ", "日本郵便", "Japan Post"], &["japanpost.jp"]),
        b(
            &["ヤマト運輸", "クロネコヤマト"],
            &["kuronekoyamato.co.jp", "yamato-hd.co.jp"],
        ),
        b(&["佐川急便"], &["sagawa-exp.co.jp"]),
        b(&["ドコモ", "docomo"], &["docomo.ne.jp", "nttdocomo.co.jp"]),
        b(
            &["SoftBank", "ソフトバンク"],
            &["softbank.jp", "softbank.co.jp", "softbank.ne.jp"],
        ),
        b(&["KDDI"], &["kddi.com", "au.com"]),
        b(&["AEON", "イオンカード"], &["aeon.co.jp", "aeon.com"]),
        b(&["JCB"], &["jcb.co.jp", "jcb.jp"]),
        b(&["エポスカード"], &["eposcard.co.jp"]),
        b(&["メルカリ", "Mercari"], &["mercari.com", "mercari.jp"]),
        b(&["国税庁", "e-Tax"], &["nta.go.jp"]),
        b(&["マイナポータル"], &["myna.go.jp"]),
        b(&["ETC利用照会"], &["etc-meisai.jp"]),
        b(&["東京電力", "TEPCO"], &["tepco.co.jp"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_folds_case_homoglyphs_and_width() {
        assert_eq!(key("PayPal"), key("PaypaI"));
        assert_eq!(key("Amazon"), key("Ａｍａｚｏｎ"));
        assert_eq!(key("Amazon"), key("amaz0n"));
        assert_eq!(key("paypal"), key("раураl")); // Cyrillic р, а, у
        assert_eq!(key("MICROSOFT"), key("Microsoft"));
        assert_eq!(key("  Bank -- of   America!"), key("bank of america"));
    }

    #[test]
    fn key_keeps_japanese_words_together() {
        assert!(!key("楽天カード").contains(' '));
        assert!(find_word(&key("【楽天カード】ご利用確認"), &key("楽天")));
    }

    #[test]
    fn word_boundary_rejects_glued_ascii() {
        assert!(find_word(&key("Apple Store"), &key("Apple")));
        assert!(!find_word(&key("Pineapple Express"), &key("Apple")));
        assert!(!find_word(&key("the tax office"), &key("e-Tax")));
        assert!(find_word(&key("e-Tax 国税庁"), &key("e-Tax")));
    }

    #[test]
    fn staff_name_ignores_spacing_and_title() {
        let staff = vec!["山田 太郎".to_string(), "hanako sato".to_string()];
        assert!(staff_named("山田太郎", &staff));
        assert!(staff_named("Hanako  Sato (Director)", &staff));
        assert!(!staff_named("Hanako Satou", &staff));
    }

    #[test]
    fn brand_owns_its_domains_and_same_named_labels() {
        let brands = Brands::new(&default_brands()).unwrap();
        let amazon = brands.brands.iter().find(|b| b.name == "Amazon").unwrap();
        for d in ["amazon.com", "store-news.amazon.com", "amazon.de"] {
            assert!(amazon.owns(&Domain::parse(d).unwrap()), "{d}");
        }
        assert!(!amazon.owns(&Domain::parse("amazon-support.example").unwrap()));
    }

    #[test]
    fn default_brands_compile() {
        assert!(Brands::new(&default_brands()).is_ok());
    }
}
