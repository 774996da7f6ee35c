//! Delivery of accepted mail, and what the sender is told when it fails.
//!
//! Two targets: with no next hop configured, a local Maildir per recipient
//! (`DATA/mailboxes/<address>/{tmp,new,cur}`, [`Maildirs`]), so the default set-up is useful
//! on its own; with one, an SMTP client that relays each message to it ([`relay::Relay`]).
//! Both report one [`Outcome`] per recipient, delivered or failed (temporarily or for good),
//! in the terms a delivery status notification needs; [`dsn`] builds that notification
//! (RFC 3464). Retries, the queue lifetime and the spool bookkeeping are the caller's (the
//! gateway's worker); `[delivery]` ([`DeliveryConfig`]) holds their settings.

mod config;
pub mod dsn;
mod maildir;
mod outcome;
pub mod relay;

pub use config::{ConfigError, DeliveryConfig};
pub use maildir::{DeliverError, Maildirs};
pub use outcome::{Failure, Outcome};
