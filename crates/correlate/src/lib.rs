//! Cross-message detection (issue 5): what one message cannot show, many together do.
//!
//! This crate is pure logic over facts: [`Fingerprint::of`] reduces a parsed message to
//! what stays the same across an attacker's variations (normalised link targets with
//! per-recipient tokens masked, a SimHash of the text, a subject skeleton, attachment
//! hashes, the sender), and [`Fingerprint::resembles`] says whether two messages belong to
//! the same campaign. The gateway keeps fingerprints, sender history and campaigns in the
//! store; the clustering and alarm rules built on these live here too as they land.

mod fingerprint;
mod simhash;
mod skeleton;

pub use fingerprint::{Fingerprint, Resemblance};
pub use simhash::{SimHash, hamming};
pub use skeleton::{link_key, subject_skeleton};
