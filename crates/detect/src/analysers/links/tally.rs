//! Aggregation: each signal fires once per message, for its worst link, with a count.

use sg_message::{Domain, Host};

use super::{LINK_UNRELATED_DOMAIN, lookalike};
use crate::analyser::Context;
use crate::signal::{Location, Signal};

/// The worst finding of one kind so far, and how many links showed it.
#[derive(Default)]
pub(super) struct Tally {
    best: Option<Signal>,
    links: usize,
}

impl Tally {
    /// Counts one more link; keeps it as the evidence when it weighs more than the best so far.
    pub(super) fn add(&mut self, weight: f32, make: impl FnOnce() -> Signal) {
        self.links += 1;
        if self.best.as_ref().is_none_or(|b| weight > b.weight) {
            self.best = Some(make().weighted(weight));
        }
    }

    fn finish(self, out: &mut Vec<Signal>) {
        if let Some(s) = self.best {
            out.push(s.fact("links", self.links));
        }
    }
}

/// One tally per per-link signal, in the order of `SIGNALS`.
#[derive(Default)]
pub(super) struct Tallies {
    pub(super) mismatch: Tally,
    pub(super) ip: Tally,
    pub(super) userinfo: Tally,
    pub(super) confusable: Tally,
    pub(super) shortener: Tally,
    pub(super) executable: Tally,
    pub(super) archive: Tally,
    pub(super) data: Tally,
    pub(super) javascript: Tally,
    pub(super) form: Tally,
    pub(super) free_hosting: Tally,
    pub(super) tld: Tally,
}

impl Tallies {
    /// The signals, in declaration order, with the unrelated-domain finding in its place.
    pub(super) fn finish(self, unrelated: Option<Signal>) -> Vec<Signal> {
        let mut out = Vec::new();
        for tally in [
            self.mismatch,
            self.ip,
            self.userinfo,
            self.confusable,
            self.shortener,
            self.executable,
            self.archive,
            self.data,
            self.javascript,
            self.form,
        ] {
            tally.finish(&mut out);
        }
        out.extend(unrelated);
        self.free_hosting.finish(&mut out);
        self.tld.finish(&mut out);
        out
    }
}

/// What the message says about who sent it, for "is this link the sender's own?".
pub(super) struct Sender<'a> {
    pub(super) registrable: Option<&'a str>,
    pub(super) label: Option<&'a str>,
}

impl Sender<'_> {
    /// Whether `d` belongs to the sender (same registrable domain, or the same name under
    /// another suffix: shop.example.com vs shop.example.co.jp) or to the organisation.
    pub(super) fn owns(&self, d: &Domain, cx: &Context<'_>) -> bool {
        self.registrable == Some(d.registrable())
            || self
                .label
                .is_some_and(|l| lookalike::registrable_label(d) == l)
            || cx.org.is_own_domain(d.as_str())
    }
}

/// Collects the registrable domains of clickable links for `LINK_UNRELATED_DOMAIN`.
#[derive(Default)]
pub(super) struct Unrelated {
    domains: Vec<String>,
    first: Option<usize>,
    related: bool,
    too_many: bool,
}

/// A web link as `Unrelated` sees it.
pub(super) struct Seen<'a> {
    /// Its host.
    pub(super) host: &'a Host,
    /// Its index in `Message::links`.
    pub(super) index: usize,
    /// Written out in plain text.
    pub(super) visible: bool,
}

impl Unrelated {
    /// Notes one web link. A link written out in plain text (`visible`) shows where it goes:
    /// it can prove the message related to its sender but never counts as unrelated.
    pub(super) fn add(
        &mut self,
        link: Seen<'_>,
        sender: &Sender<'_>,
        cx: &Context<'_>,
        max: usize,
    ) {
        if self.related || self.too_many {
            return;
        }
        let Seen {
            host,
            index: i,
            visible,
        } = link;
        let name = match host {
            Host::Domain(d) => {
                if sender.owns(d, cx) {
                    self.related = true;
                    return;
                }
                d.registrable()
            }
            Host::Ip(_) => "",
        };
        if visible {
            return;
        }
        let ip_text;
        let name = if name.is_empty() {
            ip_text = host.to_text();
            ip_text.as_str()
        } else {
            name
        };
        if !self.domains.iter().any(|d| d == name) {
            if self.domains.len() >= max {
                self.too_many = true;
                return;
            }
            self.domains.push(name.to_string());
        }
        self.first.get_or_insert(i);
    }

    pub(super) fn finish(self, sender: &Sender<'_>) -> Option<Signal> {
        let from = sender.registrable?;
        if self.related || self.too_many || self.domains.is_empty() {
            return None;
        }
        let list = self.domains.join(", ");
        let mut s = Signal::new(
            &LINK_UNRELATED_DOMAIN,
            format!("links go only to {list}, unrelated to sender domain {from}"),
        )
        .fact("domains", self.domains.len())
        .fact("sender", from);
        if let Some(i) = self.first {
            s = s.at(Location::Link(i));
        }
        Some(s)
    }
}
