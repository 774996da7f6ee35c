//! Clusters of resembling messages; a cluster that reaches enough distinct internal
//! recipients within the window becomes a campaign.

use std::collections::HashSet;

use crate::{Fingerprint, Resemblance};

/// One message of a cluster.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Member {
    /// The caller's reference (queue id, file name…).
    pub(crate) id: String,
    /// Arrival, Unix seconds.
    pub(crate) at: i64,
    /// Its fingerprint.
    pub(crate) fingerprint: Fingerprint,
}

/// Resembling messages seen within the window.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Cluster {
    /// Stable id (the campaign id once it is one).
    pub(crate) id: u64,
    /// Members in arrival order.
    pub(crate) members: Vec<Member>,
    /// Distinct internal recipients reached.
    pub(crate) recipients: HashSet<String>,
    /// Distinct senders.
    pub(crate) senders: HashSet<String>,
    /// Whether it has reached the campaign threshold.
    pub(crate) is_campaign: bool,
    /// Whether every member so far is legitimate bulk or internal mail (never a campaign).
    pub(crate) exempt: bool,
}

impl Cluster {
    /// Latest arrival.
    pub(crate) fn last_at(&self) -> i64 {
        self.members.last().map_or(i64::MIN, |m| m.at)
    }

    /// Whether `fp` resembles one of the sampled members (the first and the latest ones).
    pub(crate) fn resembles(&self, fp: &Fingerprint, samples: usize) -> Option<Resemblance> {
        let n = self.members.len();
        let half = samples.div_ceil(2);
        self.members
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < half || *i + half >= n)
            .find_map(|(_, m)| m.fingerprint.resembles(fp))
    }
}
