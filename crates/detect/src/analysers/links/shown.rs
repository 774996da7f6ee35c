//! What a link's visible text claims: the host a reader believes they will reach.
//!
//! Only text that is itself an address counts ("https://www.bank.example/login",
//! "www.bank.example", "bank.example"); "click here" or a sentence claims nothing. A sentence
//! counts only when it holds exactly one address written with `http(s)://` or `www.`.

use std::net::IpAddr;

use sg_message::{Domain, Host, Link, LinkOrigin};

use super::files::FileRules;

/// The host a link's text shows.
#[derive(Debug)]
pub(super) struct Shown {
    /// The shown host.
    pub(super) host: Host,
    /// Written as an address (`http(s)://`, `www.`) rather than a bare name ("Example.com").
    pub(super) explicit: bool,
}

/// Wrapping characters around an address in text: brackets, quotes, final punctuation.
const WRAP: &[char] = &[
    '<', '>', '(', ')', '[', ']', '"', '\'', '「', '」', '（', '）', '.', ',', ';', ':', '!', '?',
    '。', '、',
];

fn has_web_prefix(s: &str) -> bool {
    let starts = |p: &str| {
        s.as_bytes()
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
    };
    starts("http://") || starts("https://") || starts("www.")
}

/// The host shown by anchor text, when the text is an address.
pub(super) fn shown_host(text: &str, files: &FileRules) -> Option<Shown> {
    let text = text.trim();
    if text.is_empty() || text.len() > 512 {
        return None;
    }
    let token = if text.contains(char::is_whitespace) {
        let mut urls = text
            .split_whitespace()
            .map(|w| w.trim_matches(WRAP))
            .filter(|w| has_web_prefix(w));
        let first = urls.next()?;
        if urls.next().is_some() {
            return None;
        }
        first
    } else {
        text.trim_matches(WRAP)
    };
    if has_web_prefix(token) {
        let link = Link::parse(token, LinkOrigin::Text, 0, None)?;
        return link.host.map(|host| Shown {
            host,
            explicit: true,
        });
    }
    let end = token.find(['/', '?', '#', ':']).unwrap_or(token.len());
    let name = token.get(..end)?;
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(Shown {
            host: Host::Ip(ip),
            explicit: false,
        });
    }
    if !bare_host_like(name, files) {
        return None;
    }
    Domain::parse(name).map(|d| Shown {
        host: Host::Domain(d),
        explicit: false,
    })
}

/// Whether a bare word reads as a host name: dotted labels, an alphabetic last label that is
/// not a file extension ("report.pdf"), no `@` (an e-mail address is not a web address).
fn bare_host_like(name: &str, files: &FileRules) -> bool {
    let mut labels = 0;
    let mut last = "";
    for label in name.split('.') {
        if label.is_empty()
            || label.starts_with('-')
            || !label.chars().all(|c| c.is_alphanumeric() || c == '-')
        {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2
        && last.chars().count() >= 2
        && last.chars().all(char::is_alphabetic)
        && !files.is_file_extension(last)
}

/// Whether the shown host and the link's host belong to different registrable domains.
pub(super) fn differs(shown: &Host, target: &Host) -> bool {
    match (shown, target) {
        (Host::Domain(a), Host::Domain(b)) => a.registrable() != b.registrable(),
        (Host::Ip(a), Host::Ip(b)) => a != b,
        _ => true,
    }
}

/// The registrable domain (or IP) of a host, as text.
pub(super) fn registrable_text(host: &Host) -> String {
    match host {
        Host::Domain(d) => d.registrable().to_string(),
        Host::Ip(ip) => ip.to_string(),
    }
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

/// Whether `hay` (a decoded query or path) embeds a URL whose host is `registrable` or a
/// subdomain of it: `u=https://www.bank.example/…`. Safe-links rewriters and click trackers
/// carry their destination this way; only a full `//host` counts, not a bare mention.
pub(super) fn embeds_host(hay: &str, registrable: &str) -> bool {
    if registrable.is_empty() || hay.len() < registrable.len() + 2 {
        return false;
    }
    let lower = hay.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|rest| rest.find(registrable)) {
        let at = from + found;
        let end = at + registrable.len();
        from = at + 1;
        if bytes.get(end).is_some_and(|&b| is_host_byte(b)) {
            continue;
        }
        if at > 0 && bytes.get(at - 1) != Some(&b'.') && bytes.get(at - 1) != Some(&b'/') {
            continue;
        }
        let mut start = at;
        while start > 0 && bytes.get(start - 1).is_some_and(|&b| is_host_byte(b)) {
            start -= 1;
        }
        if lower.get(..start).is_some_and(|b| b.ends_with("//")) {
            return true;
        }
    }
    false
}

/// A host name at the start of a link's user name (`www.bank.example` in
/// `http://www.bank.example-login@evil.example/`): the leading dotted labels up to the last
/// alphabetic one. To keep a personalised `first.last@` out of the evidence, a two-label name
/// counts only with a short last label ("paypal.com", not "taro.yamada"); `www.` or three
/// labels always count. `None` when the user name does not start like a host name.
pub(super) fn domain_like_prefix(user: &str) -> Option<String> {
    let run = user
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .map_or(user, |end| &user[..end]);
    let labels: Vec<&str> = run.split('.').collect();
    let mut keep = 0;
    for (i, label) in labels.iter().enumerate() {
        if label.is_empty() {
            break;
        }
        if i >= 1 && label.len() >= 2 && label.bytes().all(|b| b.is_ascii_alphabetic()) {
            keep = i + 1;
        }
    }
    let name = labels.get(..keep)?;
    let plausible = match name {
        [first, _, ..] if first.eq_ignore_ascii_case("www") => true,
        [_, last] => last.len() <= 3,
        [_, _, _, ..] => true,
        _ => false,
    };
    plausible.then(|| name.join(".").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysers::links::Config;

    fn rules() -> FileRules {
        FileRules::new(&Config::default()).unwrap()
    }

    fn shown(text: &str) -> Option<String> {
        shown_host(text, &rules()).map(|s| registrable_text(&s.host))
    }

    #[test]
    fn addresses_in_text_are_shown_hosts() {
        assert_eq!(
            shown("https://www.bank.example/login").as_deref(),
            Some("bank.example")
        );
        assert_eq!(
            shown(" <www.bank.example> ").as_deref(),
            Some("bank.example")
        );
        assert_eq!(shown("Bank.Example").as_deref(), Some("bank.example"));
        assert_eq!(
            shown("bank.example/login?x=1").as_deref(),
            Some("bank.example")
        );
        assert_eq!(shown("192.0.2.1").as_deref(), Some("192.0.2.1"));
        assert_eq!(
            shown("Sign in at https://www.bank.example/ today").as_deref(),
            Some("bank.example")
        );
    }

    #[test]
    fn words_files_and_mail_addresses_are_not_hosts() {
        for text in [
            "click here",
            "report.pdf",
            "setup.exe",
            "index.html",
            "info@bank.example",
            "v1.2",
            "e.g.",
            "see www.a.example and www.b.example",
            "",
        ] {
            assert!(shown(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn registrable_domains_are_compared() {
        let h = |s: &str| Host::Domain(Domain::parse(s).unwrap());
        assert!(!differs(&h("www.bank.example"), &h("login.bank.example")));
        assert!(differs(&h("bank.example"), &h("bank-login.example")));
        assert!(differs(
            &h("bank.example"),
            &Host::Ip("192.0.2.1".parse().unwrap())
        ));
    }

    #[test]
    fn embedded_destination_must_be_a_url_host() {
        assert!(embeds_host("u=http://www.bank.example/", "bank.example"));
        assert!(embeds_host(
            "data=xx!-!https://bank.example",
            "bank.example"
        ));
        assert!(embeds_host("/r/https://BANK.example/x", "bank.example"));
        assert!(!embeds_host("ref=bank.example", "bank.example"));
        assert!(!embeds_host(
            "u=http://bank.example.evil.example/",
            "bank.example"
        ));
        assert!(!embeds_host("u=http://notbank.example/", "bank.example"));
    }

    #[test]
    fn user_names_that_start_like_hosts() {
        assert_eq!(
            domain_like_prefix("paypal.com").as_deref(),
            Some("paypal.com")
        );
        assert_eq!(
            domain_like_prefix("www.google.com.br-pt-x123").as_deref(),
            Some("www.google.com")
        );
        assert_eq!(domain_like_prefix("phishing"), None);
        assert_eq!(domain_like_prefix("taro.yamada"), None);
        assert_eq!(
            domain_like_prefix("www.bank.example").as_deref(),
            Some("www.bank.example")
        );
        assert_eq!(domain_like_prefix("[an_21]"), None);
        assert_eq!(domain_like_prefix("user:pass"), None);
    }
}
