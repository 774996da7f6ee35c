//! The ESMTP server side of spearguard's relay (RFC 5321), as a sans-IO state machine.
//!
//! A [`Session`] takes the bytes a client sends and produces the reply bytes to send back
//! and the [`Event`]s the driver must act on: a message to spool and judge, a TLS handshake
//! to run, a connection to close. It owns no socket, timer or file, so every behaviour is
//! tested by feeding transcripts (`tests/transcripts/*.txt`). The tokio driver, TLS and
//! timeouts live outside it.
//!
//! The command grammar is smtp-proto's ([`command`]); the end-of-data, dot-unstuffing
//! and bare-newline rules are ours (`data.rs`), because they decide whether SMTP
//! smuggling works. Every reply has a name in [`reply`]. Limits are [`Config`].

pub mod command;
mod data;
mod envelope;
mod event;
mod limits;
pub mod reply;
mod session;

pub use command::{Command, MailParams};
pub use envelope::{Body, Connection, Envelope};
pub use event::{Event, Phase, SessionError};
pub use limits::{BareNewlines, Config, ConfigError, ValidConfig};
pub use reply::Reply;
pub use session::Session;
