//! The stateful step: each arriving message is matched against recent clusters, checked
//! against the sender history and the staff directory, and gets an [`Assessment`]; the
//! caller turns it into signals and alerts, and tells the correlator what was delivered
//! ([`Correlator::learn`]) so history grows only from accepted mail.

use std::collections::HashMap;

use crate::campaign::{Cluster, Member};
use crate::config::CorrelateConfig;
use crate::history::History;
use crate::{Fingerprint, Resemblance};

/// Whether a recipient's address is in the published directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Listed as published (a public or role address).
    Yes,
    /// Listed as not published: only leaks or guesses reach it from outside.
    No,
    /// Not in the directory.
    Unknown,
}

/// An internal recipient of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Lowercased address.
    pub address: String,
    /// Directory status.
    pub published: Published,
}

/// One arriving message, as the correlator needs it.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The caller's reference (queue id, file name…), listed for claw-back.
    pub id: String,
    /// Arrival, Unix seconds (the replay's time, or the wall clock live).
    pub at: i64,
    /// Its fingerprint (sender included).
    pub fingerprint: Fingerprint,
    /// The sender's domain is a free-mail provider's.
    pub freemail: bool,
    /// The sender is inside the organisation.
    pub internal_sender: bool,
    /// Legitimate bulk markers (List-Id or List-Unsubscribe) with an authenticated,
    /// non-free-mail sender domain.
    pub bulk: bool,
    /// Internal recipients.
    pub recipients: Vec<Recipient>,
}

/// Whether the sender is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FirstContact {
    /// The sender address has never had mail delivered here.
    pub sender: bool,
    /// Nor has anyone at its domain (for free mail, the domain says nothing and is `false`).
    pub domain: bool,
    /// Recipients this sender never wrote to before.
    pub new_recipients: usize,
}

/// A campaign the message belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignView {
    /// Campaign id.
    pub id: u64,
    /// Distinct internal recipients reached so far.
    pub recipients: usize,
    /// Messages so far.
    pub members: usize,
    /// Why this message joined.
    pub resemblance: Option<Resemblance>,
    /// Members that arrived before the campaign was recognised (this message made it one):
    /// to pull back from mailboxes.
    pub clawback: Vec<String>,
}

/// A `directory_leak` alarm: an unknown outside sender reached undisclosed addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakAlert {
    /// The sender.
    pub sender: String,
    /// Undisclosed addresses this sender (or its campaign) reached so far, this one included.
    pub addresses: Vec<String>,
    /// Several undisclosed addresses reached: a wave, not a guess.
    pub escalated: bool,
}

/// What the correlator concluded about one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assessment {
    /// First-contact facts (outside senders only).
    pub first_contact: Option<FirstContact>,
    /// The campaign, when the message belongs to one.
    pub campaign: Option<CampaignView>,
    /// The sender has no history here (for free mail, the address; otherwise the domain).
    pub unknown_sender: bool,
    /// Undisclosed recipients of this message reached by a sender without history.
    pub undisclosed: Vec<String>,
    /// The alarm, when raised or kept up by this message.
    pub leak: Option<LeakAlert>,
    /// Still learning (the first `learning_period`): history grows, no alarm is raised.
    pub learning: bool,
}

/// Cross-message state for one organisation.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Correlator {
    #[serde(skip)]
    cfg: CorrelateConfig,
    history: History,
    clusters: Vec<Cluster>,
    next_id: u64,
    started: Option<i64>,
    /// Undisclosed addresses reached per history-less sender.
    reached: HashMap<String, Vec<String>>,
}

impl Correlator {
    /// An empty correlator.
    pub fn new(cfg: CorrelateConfig) -> Correlator {
        Correlator {
            cfg,
            next_id: 1,
            ..Correlator::default()
        }
    }

    /// The whole state as JSON, to keep between runs (see [`Correlator::restore`]).
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A correlator from a [`Correlator::snapshot`], with `cfg` (settings are not saved).
    pub fn restore(cfg: CorrelateConfig, snapshot: &[u8]) -> Result<Correlator, serde_json::Error> {
        let mut c: Correlator = serde_json::from_slice(snapshot)?;
        c.cfg = cfg;
        Ok(c)
    }

    /// The learned history (read-only).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Judges one arriving message and records it in its cluster.
    pub fn assess(&mut self, obs: &Observation) -> Assessment {
        let started = *self.started.get_or_insert(obs.at);
        let learning = obs.at < started.saturating_add(self.cfg.learning_period);
        let fp = &obs.fingerprint;
        let first_contact = (!obs.internal_sender).then(|| FirstContact {
            sender: self.history.sender(&fp.sender).is_none(),
            domain: !obs.freemail && self.history.domain(&fp.sender_domain).is_none(),
            new_recipients: obs
                .recipients
                .iter()
                .filter(|r| !self.history.has_written_to(&fp.sender, &r.address))
                .count(),
        });
        // "No history": for free mail the address decides, for other domains the domain
        // (a partner's new employee writes from a domain we know).
        let unknown = first_contact.is_some_and(|f| f.sender && (obs.freemail || f.domain));
        // Known correspondents write similar mail to many staff all the time (minutes,
        // newsletters): only senders without history make campaigns.
        let campaign = if unknown { self.cluster(obs) } else { None };
        // While learning, every sender is new: the baseline is being built, no alarm yet.
        let undisclosed: Vec<String> = if unknown && !learning {
            obs.recipients
                .iter()
                .filter(|r| r.published == Published::No)
                .map(|r| r.address.clone())
                .collect()
        } else {
            Vec::new()
        };
        let leak = self.leak(obs, &undisclosed, campaign.as_ref(), learning);
        Assessment {
            first_contact,
            unknown_sender: unknown,
            campaign,
            undisclosed,
            leak,
            learning,
        }
    }

    /// The message was delivered: its sender becomes a known correspondent.
    pub fn learn(&mut self, obs: &Observation) {
        let rcpts: Vec<String> = obs.recipients.iter().map(|r| r.address.clone()).collect();
        let fp = &obs.fingerprint;
        let domain = if obs.freemail { "" } else { &fp.sender_domain };
        self.history.learn(obs.at, &fp.sender, domain, &rcpts);
    }

    /// Staff `staff` wrote to the outside address `to` (registrable domain `to_domain`,
    /// empty for free mail).
    pub fn learn_outbound(&mut self, at: i64, staff: &str, to: &str, to_domain: &str) {
        self.history.learn_outbound(at, staff, to, to_domain);
    }

    /// Joins the message to a resembling cluster (or starts one) and reports the campaign.
    fn cluster(&mut self, obs: &Observation) -> Option<CampaignView> {
        let horizon = obs.at.saturating_sub(self.cfg.campaign_window);
        self.clusters
            .retain(|c| c.last_at() >= horizon || c.is_campaign);
        let samples = self.cfg.cluster_samples;
        let found = self
            .clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.last_at() >= horizon)
            .find_map(|(i, c)| c.resembles(&obs.fingerprint, samples).map(|r| (i, r)));
        let legit = obs.internal_sender || obs.bulk;
        let member = Member {
            id: obs.id.clone(),
            at: obs.at,
            fingerprint: obs.fingerprint.clone(),
        };
        let Some((index, resemblance)) = found else {
            let id = self.next_id;
            self.next_id += 1;
            self.clusters.push(Cluster {
                id,
                members: vec![member],
                recipients: obs.recipients.iter().map(|r| r.address.clone()).collect(),
                senders: [obs.fingerprint.sender.clone()].into(),
                is_campaign: false,
                exempt: legit,
            });
            return self.promote(self.clusters.len() - 1, None);
        };
        let c = &mut self.clusters[index];
        c.members.push(member);
        c.recipients
            .extend(obs.recipients.iter().map(|r| r.address.clone()));
        c.senders.insert(obs.fingerprint.sender.clone());
        c.exempt &= legit;
        self.promote(index, Some(resemblance))
    }

    /// Makes a cluster a campaign once it reaches K recipients; the view for its newest member.
    fn promote(&mut self, index: usize, resemblance: Option<Resemblance>) -> Option<CampaignView> {
        let k = self.cfg.campaign_recipients;
        let c = &mut self.clusters[index];
        if c.exempt || c.recipients.len() < k {
            return None;
        }
        let clawback = if c.is_campaign {
            Vec::new()
        } else {
            c.is_campaign = true;
            c.members[..c.members.len() - 1]
                .iter()
                .map(|m| m.id.clone())
                .collect()
        };
        Some(CampaignView {
            id: c.id,
            recipients: c.recipients.len(),
            members: c.members.len(),
            resemblance,
            clawback,
        })
    }

    /// Raises or keeps up the `directory_leak` alarm.
    fn leak(
        &mut self,
        obs: &Observation,
        undisclosed: &[String],
        campaign: Option<&CampaignView>,
        learning: bool,
    ) -> Option<LeakAlert> {
        if undisclosed.is_empty() || learning {
            return None;
        }
        let sender = &obs.fingerprint.sender;
        let reached = self.reached.entry(sender.clone()).or_default();
        for a in undisclosed {
            if !reached.contains(a) {
                reached.push(a.clone());
            }
        }
        let escalated = reached.len() >= 2;
        // A known-nothing free-mail sender at an undisclosed address is alarm enough; a
        // business domain must reach two, or be part of a campaign.
        (obs.freemail || escalated || campaign.is_some()).then(|| LeakAlert {
            sender: sender.clone(),
            addresses: reached.clone(),
            escalated,
        })
    }
}
