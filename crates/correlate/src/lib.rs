//! Cross-message detection (issue 5): what one message cannot show, many together do.
//!
//! This crate is pure logic over facts: [`Fingerprint::of`] reduces a parsed message to
//! what stays the same across an attacker's variations (normalised link targets with
//! per-recipient tokens masked, a SimHash of the text, a subject skeleton, attachment
//! hashes, the sender), and [`Fingerprint::resembles`] says whether two messages belong to
//! the same campaign. The gateway keeps fingerprints, sender history and campaigns in the
//! store; the clustering and alarm rules built on these live here too as they land.

mod campaign;
mod config;
mod correlator;
mod fingerprint;
mod history;
mod simhash;
mod skeleton;

pub use config::CorrelateConfig;
pub use correlator::{
    Assessment, CampaignView, Correlator, FirstContact, LeakAlert, Observation, Published,
    Recipient,
};
pub use fingerprint::{Fingerprint, Resemblance};
pub use history::{History, Seen};
pub use simhash::{SimHash, hamming};
pub use skeleton::{link_key, subject_skeleton};
