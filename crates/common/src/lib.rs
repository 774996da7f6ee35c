//! Small helpers several spearguard crates share, so each exists once.

pub mod seconds;
