//! The ESMTP server side of spearguard's relay (RFC 5321): a sans-IO state machine and
//! the tokio driver that runs it.
//!
//! A [`Session`] takes the bytes a client sends and produces the reply bytes to send back
//! and the [`Event`]s the driver must act on: a message to spool and judge, a TLS handshake
//! to run, a connection to close. It owns no socket, timer or file, so every behaviour is
//! tested by feeding transcripts (`tests/transcripts/*.txt`). Sockets, TLS and timeouts
//! live in the driver.
//!
//! The command grammar is smtp-proto's ([`command`]); the end-of-data, dot-unstuffing
//! and bare-newline rules are ours (`data.rs`), because they decide whether SMTP
//! smuggling works. Every reply has a name in [`reply`]. Limits are [`Config`].
//!
//! [`serve`] is the thin tokio driver around the session: it accepts connections, runs the
//! timers ([`ServerConfig`]), runs STARTTLS with rustls ([`TlsAcceptor`]), hands each
//! message to a [`MessageHandler`] whose [`Decision`] becomes the final reply, keeps the
//! memory of messages in flight within one [`InflightBudget`], and shuts down without
//! losing a transaction.

mod budget;
pub mod command;
mod data;
mod envelope;
mod event;
mod limits;
pub mod reply;
mod server;
mod session;

pub use budget::{InflightBudget, Reservation};
pub use command::{Command, MailParams};
pub use envelope::{Body, Connection, Envelope};
pub use event::{Event, Phase, SessionError};
pub use limits::{BareNewlines, Config, ConfigError, ValidConfig};
pub use reply::Reply;
pub use server::{
    Decision, MessageHandler, ServerConfig, TlsAcceptor, TlsError, ValidServerConfig,
    install_crypto_provider, serve,
};
pub use session::Session;
