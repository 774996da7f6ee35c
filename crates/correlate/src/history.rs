//! Who has written to the organisation before: per sender address, per sender domain, and
//! per (sender, recipient) pair, learned from mail that was delivered (and from staff's own
//! outbound mail). Only delivered mail teaches: a tagged or held lure must not make its
//! sender a known correspondent.

use std::collections::{HashMap, HashSet};

/// First and last sight of a correspondent, and how many messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    /// Unix seconds of the first delivered message.
    pub first: i64,
    /// Unix seconds of the latest.
    pub last: i64,
    /// Messages counted.
    pub count: u64,
}

impl Seen {
    fn new(at: i64) -> Seen {
        Seen {
            first: at,
            last: at,
            count: 1,
        }
    }

    fn bump(&mut self, at: i64) {
        self.first = self.first.min(at);
        self.last = self.last.max(at);
        self.count = self.count.saturating_add(1);
    }
}

/// The learned history.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct History {
    senders: HashMap<String, Seen>,
    domains: HashMap<String, Seen>,
    pairs: HashSet<(String, String)>,
}

impl History {
    /// A delivered inbound message from `sender` (address, registrable domain) to `rcpts`.
    pub fn learn(&mut self, at: i64, sender: &str, domain: &str, rcpts: &[String]) {
        if !sender.is_empty() {
            self.senders
                .entry(sender.to_string())
                .and_modify(|s| s.bump(at))
                .or_insert_with(|| Seen::new(at));
            for r in rcpts {
                self.pairs.insert((sender.to_string(), r.clone()));
            }
        }
        if !domain.is_empty() {
            self.domains
                .entry(domain.to_string())
                .and_modify(|s| s.bump(at))
                .or_insert_with(|| Seen::new(at));
        }
    }

    /// Staff wrote to `to` (address, domain): a reply from there is no first contact.
    pub fn learn_outbound(&mut self, at: i64, staff: &str, to: &str, to_domain: &str) {
        self.learn(at, to, to_domain, &[staff.to_string()]);
    }

    /// What is known of a sender address.
    pub fn sender(&self, sender: &str) -> Option<Seen> {
        self.senders.get(sender).copied()
    }

    /// What is known of a sender domain.
    pub fn domain(&self, domain: &str) -> Option<Seen> {
        self.domains.get(domain).copied()
    }

    /// Whether `sender` has written to `rcpt` before.
    pub fn has_written_to(&self, sender: &str, rcpt: &str) -> bool {
        self.pairs.contains(&(sender.to_string(), rcpt.to_string()))
    }
}
