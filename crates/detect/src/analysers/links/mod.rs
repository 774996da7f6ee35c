//! Links: where the message sends the reader, and whether that place is what it pretends to be.
//!
//! A phishing message needs the reader to go somewhere (the 2015 attack on the Japan Pension
//! Service carried a link, not an attachment), and attackers hide where: link text that shows
//! the bank's address over a link to theirs, a host that only looks like the brand (`paypa1`,
//! Cyrillic `а`), an IP address or a `bank.example@evil.example` authority instead of a name,
//! a shortener or a free hosting service in front of the real page, a form that posts the
//! password elsewhere, or a direct download of a program. Each trick is one signal; each fires
//! at most once per message, pointing at the worst link and counting the others, so a message
//! with fifty tracking links does not score fifty times. Only links a reader can follow count
//! (images and `<base>` do not); links inside HTML/text attachments and PDFs count too.

mod checks;
mod config;
mod files;
mod hosts;
mod lookalike;
mod shown;
mod tally;

use sg_message::{Domain, Host, LinkOrigin, Message};

use crate::analyser::{Analyser, AnalyserError, Context};
use crate::lists::DomainList;
use crate::signal::{Group, Signal, SignalDef};

use checks::redirect_target;
pub use config::Config;
pub(crate) use config::build;
use files::FileRules;
use hosts::HostPatterns;
use lookalike::Protected;
use tally::{Seen, Sender, Tallies, Unrelated};

/// Link text shows one site while the link goes to another.
pub static LINK_TEXT_HOST_MISMATCH: SignalDef = SignalDef {
    name: "LINK_TEXT_HOST_MISMATCH",
    score: 4.0,
    group: Group::Links,
    description: "A link's visible text shows a web address on one domain but the link goes to another",
};
/// A web link to a bare IP address.
pub static LINK_IP_HOST: SignalDef = SignalDef {
    name: "LINK_IP_HOST",
    score: 3.0,
    group: Group::Links,
    description: "A web link points at a numeric IP address instead of a host name",
};
/// `user@host` in a link's authority.
pub static LINK_USERINFO: SignalDef = SignalDef {
    name: "LINK_USERINFO",
    score: 3.0,
    group: Group::Links,
    description: "A web link has a user name before '@' (http://bank.example@evil.example/), hiding the real host",
};
/// A host that imitates a brand or one of the organisation's own domains.
pub static LINK_CONFUSABLE_HOST: SignalDef = SignalDef {
    name: "LINK_CONFUSABLE_HOST",
    score: 5.0,
    group: Group::Links,
    description: "A link host imitates a protected brand or the organisation's domain with look-alike characters, a typo or mixed scripts",
};
/// A URL shortener hides the destination.
pub static LINK_SHORTENER: SignalDef = SignalDef {
    name: "LINK_SHORTENER",
    score: 2.0,
    group: Group::Links,
    description: "A link goes through a URL shortener, which hides its destination",
};
/// A direct download of a program, script, shortcut or disk image.
pub static LINK_EXECUTABLE: SignalDef = SignalDef {
    name: "LINK_EXECUTABLE",
    score: 4.0,
    group: Group::Links,
    description: "A link downloads an executable, script, shortcut or disk image",
};
/// A direct download of an archive.
pub static LINK_ARCHIVE: SignalDef = SignalDef {
    name: "LINK_ARCHIVE",
    score: 1.5,
    group: Group::Links,
    description: "A link downloads an archive (zip, rar, 7z, lzh …), a common wrapper for malware",
};
/// A clickable `data:` URI carrying a document.
pub static LINK_DATA_URI: SignalDef = SignalDef {
    name: "LINK_DATA_URI",
    score: 3.0,
    group: Group::Links,
    description: "A clickable data: URI carries a whole page or script inside the link",
};
/// A `javascript:` link.
pub static LINK_JAVASCRIPT: SignalDef = SignalDef {
    name: "LINK_JAVASCRIPT",
    score: 2.0,
    group: Group::Links,
    description: "A link runs JavaScript (javascript: URI) instead of opening a page",
};
/// A form that submits to somebody else's server.
pub static LINK_FORM_EXTERNAL: SignalDef = SignalDef {
    name: "LINK_FORM_EXTERNAL",
    score: 3.0,
    group: Group::Links,
    description: "An HTML form in the message submits to a host outside the sender's and the organisation's domains (full weight with a password field)",
};
/// Every link goes to domains unrelated to the sender.
pub static LINK_UNRELATED_DOMAIN: SignalDef = SignalDef {
    name: "LINK_UNRELATED_DOMAIN",
    score: 1.0,
    group: Group::Links,
    description: "Every link hiding its target goes to a few (by default at most two) domains unrelated to the sender's",
};
/// A page on a free hosting, serverless, storage or form service.
pub static LINK_FREE_HOSTING: SignalDef = SignalDef {
    name: "LINK_FREE_HOSTING",
    score: 3.0,
    group: Group::Links,
    description: "A link goes to a page on a free hosting, cloud storage, serverless or form service",
};
/// A link host under a top-level domain dominated by abuse.
pub static LINK_SUSPICIOUS_TLD: SignalDef = SignalDef {
    name: "LINK_SUSPICIOUS_TLD",
    score: 1.5,
    group: Group::Links,
    description: "A link host is under a top-level domain where most registrations are abusive",
};

static SIGNALS: &[&SignalDef] = &[
    &LINK_TEXT_HOST_MISMATCH,
    &LINK_IP_HOST,
    &LINK_USERINFO,
    &LINK_CONFUSABLE_HOST,
    &LINK_SHORTENER,
    &LINK_EXECUTABLE,
    &LINK_ARCHIVE,
    &LINK_DATA_URI,
    &LINK_JAVASCRIPT,
    &LINK_FORM_EXTERNAL,
    &LINK_UNRELATED_DOMAIN,
    &LINK_FREE_HOSTING,
    &LINK_SUSPICIOUS_TLD,
];

/// The links analyser, with its lists loaded and brand keys precomputed.
#[derive(Debug)]
pub struct LinksAnalyser {
    shorteners: DomainList,
    free_hosting: HostPatterns,
    suspicious_tlds: DomainList,
    protected: Protected,
    files: FileRules,
    unrelated_max_domains: usize,
}

impl Analyser for LinksAnalyser {
    fn id(&self) -> &'static str {
        "links"
    }

    fn signals(&self) -> &'static [&'static SignalDef] {
        SIGNALS
    }

    fn analyse(&self, msg: &Message, cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError> {
        let from = msg.from.as_ref().and_then(|m| m.domain.as_ref());
        let sender = Sender {
            registrable: from.map(Domain::registrable),
            label: from.map(lookalike::registrable_label),
        };
        let mut t = Tallies::default();
        let mut seen_hosts: Vec<&str> = Vec::new();
        let mut unrelated = Unrelated::default();
        for (i, link) in msg.links.iter().enumerate() {
            if !link.origin.is_clickable() {
                continue;
            }
            match link.scheme.as_str() {
                "javascript" => self.javascript(&mut t, link, i),
                "data" => self.data_uri(&mut t, link, i),
                _ => {}
            }
            self.download(&mut t, link, i);
            if !link.is_web() {
                continue;
            }
            let Some(host) = &link.host else { continue };
            self.userinfo(&mut t, link, i);
            self.mismatch(&mut t, link, i, &sender, cx);
            if link.origin == LinkOrigin::FormAction {
                self.form(&mut t, msg, link, host, i, &sender, cx);
            }
            let seen = Seen {
                host,
                index: i,
                visible: link.origin == LinkOrigin::Text,
            };
            unrelated.add(seen, &sender, cx, self.unrelated_max_domains);
            let lookalike = match host {
                Host::Domain(d) if !seen_hosts.contains(&d.as_str()) => {
                    seen_hosts.push(d.as_str());
                    true
                }
                _ => false,
            };
            self.host(&mut t, link, i, false, cx, lookalike);
            if let Some(inner) = redirect_target(link) {
                self.host(&mut t, &inner, i, true, cx, true);
            }
        }
        Ok(t.finish(unrelated.finish(&sender)))
    }
}
