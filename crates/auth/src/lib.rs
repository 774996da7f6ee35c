//! Sender authentication for the gateway: SPF (RFC 7208), DKIM (RFC 6376), ARC (RFC 8617)
//! and DMARC (RFC 7489) verified with mail-auth, and our own `Authentication-Results`
//! header (RFC 8601).
//!
//! ```text
//! Verifier::new(&AuthConfig)            resolver from config (IP:PORT) or /etc/resolv.conf
//! verifier.verify(raw, ip, helo, from)  -> AuthOutcome (bounded by timeout_secs)
//! outcome.header_value(authserv_id)     -> "mx.example.org;\r\n\tspf=pass …"
//! verifier.authenticate(…)              -> our header on top, forged ones (our id) removed
//! ```
//!
//! Kept out of `sg-detect`: it does DNS. The detection engine sees the results through the
//! header this crate writes.

mod config;
mod headers;
mod outcome;
mod verify;

pub use config::AuthConfig;
pub use headers::{forged_results_positions, write_without_forged};
pub use outcome::{AuthOutcome, DkimCheck, DmarcCheck, DmarcPolicy, SpfCheck, Status};
pub use verify::{AuthError, Authenticated, Verifier};
