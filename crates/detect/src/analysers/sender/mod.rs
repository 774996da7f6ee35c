//! Who the message claims to be from. Phishing rarely controls the name it borrows: it writes
//! a brand, the organisation or a colleague into the From display name, registers a domain that
//! looks like the real one (`paypa1.com`, `rakuten-secure.com`, `раураl.com` in Cyrillic), or
//! sends from free mail and points Reply-To somewhere else so answers reach the attacker.
//! This analyser compares From and Reply-To (RFC 5322 §3.6.2) with the organisation's own
//! domains, staff names and a list of protected brands. It does no DNS and cannot tell a forged
//! From from a real one; that is the `auth` analyser's job. Free mail on its own is weak here:
//! citizens and customers legitimately write from gmail.com or yahoo.co.jp.

mod form;
mod lookalike;
mod names;

use serde::{Deserialize, Serialize};
use sg_message::{Direction, Domain, Message};

use crate::analyser::{Analyser, AnalyserError, Context};
use crate::engine::ConfigError;
use crate::lists::DomainList;
use crate::signal::{Group, Location, Signal, SignalDef};

pub use form::{FROM_MALFORMED, FROM_MISSING, FROM_MULTIPLE};
use lookalike::Target;
use names::{Brands, Claim};

/// From address at a free webmail provider.
pub static FROM_FREEMAIL: SignalDef = SignalDef {
    name: "FROM_FREEMAIL",
    score: 0.5,
    group: Group::Sender,
    description: "From address is at a free webmail provider (weak alone: many honest senders use one)",
};

/// The display name claims someone the address does not belong to.
pub static FROM_DISPLAY_NAME_IMPERSONATION: SignalDef = SignalDef {
    name: "FROM_DISPLAY_NAME_IMPERSONATION",
    score: 4.0,
    group: Group::Sender,
    description: "From display name claims a brand, the organisation, a staff member or another address, but the address is elsewhere",
};

/// The From domain imitates the organisation's or a protected brand's domain.
pub static FROM_LOOKALIKE_DOMAIN: SignalDef = SignalDef {
    name: "FROM_LOOKALIKE_DOMAIN",
    score: 5.0,
    group: Group::Sender,
    description: "From domain imitates one of the organisation's or a protected brand's domains (typo, homoglyph, added word)",
};

/// An inbound message claims to come from the organisation's own domain.
pub static FROM_OWN_DOMAIN_EXTERNAL: SignalDef = SignalDef {
    name: "FROM_OWN_DOMAIN_EXTERNAL",
    score: 1.5,
    group: Group::Sender,
    description: "Inbound message has a From address in the organisation's own domain",
};

/// Replies go to a different domain than the From address.
pub static REPLY_TO_DIVERTS: SignalDef = SignalDef {
    name: "REPLY_TO_DIVERTS",
    score: 0.5,
    group: Group::Sender,
    description: "Reply-To points at a different domain than From, so answers go elsewhere",
};

/// Replies go to free mail although the sender is not free mail.
pub static REPLY_TO_FREEMAIL: SignalDef = SignalDef {
    name: "REPLY_TO_FREEMAIL",
    score: 3.0,
    group: Group::Sender,
    description: "Reply-To is a free-mail address while From is not",
};

static SIGNALS: &[&SignalDef] = &[
    &FROM_FREEMAIL,
    &FROM_DISPLAY_NAME_IMPERSONATION,
    &FROM_LOOKALIKE_DOMAIN,
    &FROM_OWN_DOMAIN_EXTERNAL,
    &REPLY_TO_DIVERTS,
    &REPLY_TO_FREEMAIL,
    &FROM_MISSING,
    &FROM_MULTIPLE,
    &FROM_MALFORMED,
];

/// The free-mail list shipped with spearguard.
pub const FREEMAIL_BUILTIN: &str = include_str!("../../../../../data/lists/freemail.txt");

/// `[analysers.sender]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Whether the analyser runs.
    pub enabled: bool,
    /// File of free-mail domains (one per line); empty = the shipped `data/lists/freemail.txt`.
    pub freemail: String,
    /// Brands outsiders imitate, with the domains they really send from. A display name that
    /// names a brand is quiet when the address is at one of its domains, or at a domain whose
    /// registrable label is the brand's name (`amazon.de` for "Amazon"). The organisation's own
    /// names come from `[organisation] protected_names` and need not be repeated here.
    pub brands: Vec<BrandConfig>,
}

/// One protected brand: `{ names = ["PayPal"], domains = ["paypal.com"] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandConfig {
    /// The names as people write them ("Rakuten", "楽天"); matched as whole words, ignoring
    /// case and look-alike characters.
    pub names: Vec<String>,
    /// Registrable domains the brand sends from; also the targets for look-alike domains.
    #[serde(default)]
    pub domains: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            freemail: String::new(),
            brands: names::default_brands(),
        }
    }
}

/// Compares the claimed sender with the organisation, its staff and protected brands.
#[derive(Debug)]
pub struct SenderAnalyser {
    freemail: DomainList,
    brands: Brands,
    targets: Vec<Target>,
}

impl Analyser for SenderAnalyser {
    fn id(&self) -> &'static str {
        "sender"
    }

    fn signals(&self) -> &'static [&'static SignalDef] {
        SIGNALS
    }

    fn analyse(&self, msg: &Message, cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError> {
        let mut out = form::check(msg);
        let usable = msg
            .from
            .as_ref()
            .and_then(|m| m.domain.as_ref().map(|d| (m, d)));
        let Some((from, domain)) = usable else {
            return Ok(out);
        };
        let own = cx.org.is_own_domain(domain.as_str());
        let from_free = self.is_freemail(domain);
        if from_free {
            out.push(
                Signal::new(&FROM_FREEMAIL, format!("From is at {}", domain.as_str()))
                    .at(Location::Header("From"))
                    .fact("domain", domain.as_str()),
            );
        }
        if own && cx.direction == Direction::Inbound {
            out.push(
                Signal::new(
                    &FROM_OWN_DOMAIN_EXTERNAL,
                    format!("inbound message claims to be from {}", domain.as_str()),
                )
                .at(Location::Header("From"))
                .fact("domain", domain.as_str()),
            );
        }
        if !own {
            if let Some(name) = from.name.as_deref()
                && let Some(claim) = self.brands.claim(name, domain, cx)
            {
                out.push(impersonation_signal(&claim, domain));
            }
            if let Some(s) = self.lookalike(domain, cx) {
                out.push(s);
            }
        }
        if let Some(s) = self.reply_to(msg, domain, from_free, own, cx) {
            out.push(s);
        }
        Ok(out)
    }
}

impl SenderAnalyser {
    fn is_freemail(&self, d: &Domain) -> bool {
        self.freemail.contains(d.as_str()) || self.freemail.contains(d.registrable())
    }

    fn lookalike(&self, domain: &Domain, cx: &Context<'_>) -> Option<Signal> {
        let own: Vec<Target> = cx
            .org
            .domains()
            .iter()
            .filter_map(|d| Target::own(d))
            .collect();
        let (kind, target) = lookalike::check(domain, [own.as_slice(), &self.targets])?;
        Some(
            Signal::new(
                &FROM_LOOKALIKE_DOMAIN,
                format!(
                    "From domain {} looks like {} ({})",
                    domain.unicode(),
                    target,
                    kind.describe()
                ),
            )
            .at(Location::Header("From"))
            .weighted(kind.weight())
            .fact("domain", domain.as_str())
            .fact("imitates", target)
            .fact("kind", kind.name()),
        )
    }

    /// Reply-To to another domain. Quiet when replies go to an address the message was
    /// also sent to (a mailing list or group answering to itself) or to the organisation.
    fn reply_to(
        &self,
        msg: &Message,
        from: &Domain,
        from_free: bool,
        from_own: bool,
        cx: &Context<'_>,
    ) -> Option<Signal> {
        let d = msg.reply_to.iter().find_map(|rt| {
            let d = rt.domain.as_ref()?;
            let same = d.registrable() == from.registrable()
                || names::registrable_label(d) == names::registrable_label(from);
            let to_recipient = msg
                .to
                .iter()
                .chain(&msg.cc)
                .any(|m| m.address == rt.address);
            (!same && !to_recipient && !cx.org.is_own_domain(d.as_str())).then_some(d)
        })?;
        let free = !from_free && !from_own && self.is_freemail(d);
        let def = if free {
            &REPLY_TO_FREEMAIL
        } else {
            &REPLY_TO_DIVERTS
        };
        Some(
            Signal::new(
                def,
                format!(
                    "From is at {}, Reply-To is at {}",
                    from.as_str(),
                    d.as_str()
                ),
            )
            .at(Location::Header("Reply-To"))
            .fact("from_domain", from.as_str())
            .fact("reply_domain", d.as_str()),
        )
    }
}

fn impersonation_signal(claim: &Claim, domain: &Domain) -> Signal {
    let at = domain.as_str();
    let (kind, summary) = match claim {
        Claim::Staff => (
            "staff",
            format!("display name is a staff member's name, address is at {at}"),
        ),
        Claim::Organisation(n) => (
            "organisation",
            format!("display name says {n}, address is at {at}"),
        ),
        Claim::Brand(n) => (
            "brand",
            format!("display name says {n}, address is at {at}"),
        ),
        Claim::Address(d) => (
            "address",
            format!("display name shows an address at {d}, the real one is at {at}"),
        ),
        Claim::OwnDomain(d) => (
            "own_domain",
            format!("display name shows {d}, address is at {at}"),
        ),
    };
    let s = Signal::new(&FROM_DISPLAY_NAME_IMPERSONATION, summary)
        .at(Location::Header("From"))
        .fact("kind", kind)
        .fact("domain", at);
    match claim {
        Claim::Brand(n) | Claim::Organisation(n) => s.fact("claims", n),
        Claim::Address(d) | Claim::OwnDomain(d) => s.fact("claims", d),
        // Names collide: in a large organisation outsiders often share a staff member's
        // name, so on its own this is half the evidence of a brand or address claim.
        Claim::Staff => s.weighted(0.5),
    }
}

/// Builds the analyser from its config; `None` when disabled.
pub(crate) fn build(cfg: &Config) -> super::Built {
    if !cfg.enabled {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let freemail = DomainList::load(&cfg.freemail, FREEMAIL_BUILTIN).unwrap_or_else(|e| {
        errors.push(ConfigError::new("analysers.sender.freemail", e.to_string()));
        DomainList::default()
    });
    let brands = Brands::new(&cfg.brands).unwrap_or_else(|e| {
        errors.push(ConfigError::new("analysers.sender.brands", e));
        Brands::default()
    });
    let targets = cfg
        .brands
        .iter()
        .flat_map(|b| {
            let slugs: Vec<String> = b.names.iter().map(|n| names::slug(n)).collect();
            b.domains
                .iter()
                .filter_map(move |d| Target::brand(d, &slugs))
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(Box::new(SenderAnalyser {
        freemail,
        brands,
        targets,
    })))
}
