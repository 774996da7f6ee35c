//! A sans-IO implementation of the filter side of the milter protocol, version 6, as
//! Postfix speaks it (`smtpd_milters = inet:127.0.0.1:11339`).
//!
//! Written from the protocol description (Sendmail's `mfdef.h`/`mfapi.h` constants and the
//! behaviour of Postfix's `milter8.c`); no GPL code is used. Layers, bottom up:
//! [`codec`] cuts bytes into frames, [`Command`] and [`Response`] give frames their fields,
//! and [`Session`] runs one connection: it negotiates options, collects the envelope,
//! headers and body, reports [`Event::MessageComplete`], and turns the caller's
//! [`Decision`] into response frames in the order Postfix expects. Nothing there does I/O,
//! reads a clock or panics on input. [`server`] is the thin tokio driver around it
//! ([`server::serve`], timeouts, connection cap, graceful shutdown) calling a
//! [`server::MilterHandler`] at end of message.
//!
//! ```
//! use sg_milter::{Decision, Event, Modification, Session, SessionConfig, Verdict};
//!
//! let mut session = Session::new(SessionConfig::default());
//! // OPTNEG from Postfix: version 6, every action, every protocol flag.
//! session.feed(b"\0\0\0\x0dO\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff").unwrap();
//! assert!(matches!(session.poll_event().unwrap(), Some(Event::Negotiated(_))));
//! // MAIL, then end of message.
//! session.feed(b"\0\0\0\x11M<a@example.org>\0\0\0\0\x01E").unwrap();
//! let Some(Event::MessageComplete(message)) = session.poll_event().unwrap() else { panic!() };
//! assert_eq!(message.envelope.mail_from.as_deref(), Some("<a@example.org>"));
//! let decision = Decision::new(Verdict::Accept)
//!     .with(Modification::AddHeader { name: "X-Spearguard-Verdict".into(), value: "deliver".into() });
//! session.decide(decision).unwrap();
//! let replies = session.take_output(); // OPTNEG reply, ADDHEADER, ACCEPT
//! assert!(replies.ends_with(b"\0\0\0\x01a"));
//! ```

pub mod codec;
mod command;
mod config;
mod decision;
mod envelope;
mod event;
mod flags;
mod message;
mod negotiate;
mod plan;
mod reply;
mod response;
pub mod server;
mod session;
mod wire;

pub use command::{Command, ConnectInfo, Family, Options};
pub use config::SessionConfig;
pub use decision::{Decision, DecisionError, Modification, Outcome, Verdict};
pub use envelope::{CompletedMessage, Envelope, Header, Macros, Recipient};
pub use event::{Event, Limit};
pub use flags::{Actions, MacroStage, ProtocolFlags};
pub use negotiate::{MIN_PROTOCOL_VERSION, Negotiation, PROTOCOL_VERSION};
pub use plan::BODY_CHUNK_LEN;
pub use reply::{
    MAX_REPLY_LEN, MESSAGE_TOO_BIG, MESSAGE_TOO_BIG_TEMPORARY, Reply, ReplyError,
    TOO_MANY_RECIPIENTS,
};
pub use response::Response;
pub use session::{Session, SessionError};
pub use wire::{DecodeError, EncodeError};
