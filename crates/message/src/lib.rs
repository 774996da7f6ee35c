//! The message model: a raw email parsed once into the facts every analyser reads.
//!
//! `Message::parse` is the only place that touches raw bytes. It decodes headers and
//! bodies (including the Japanese charsets mail-parser leaves undecoded), turns HTML
//! into visible text, collects every link with where it was found, and lists the
//! attachments with their decoded bytes. Everything is bounded by [`Limits`], and no
//! byte sequence makes it panic: a message it cannot make sense of still yields a
//! `Message`, with the problems listed in [`Message::anomalies`].

mod address;
mod charset;
mod domain;
mod envelope;
mod html;
mod limits;
mod links;
mod model;
mod parse;
pub mod pdf;

pub use address::Mailbox;
pub use domain::{Domain, Host};
pub use envelope::{Direction, Envelope};
pub use html::HtmlFacts;
pub use limits::Limits;
pub use links::{Link, LinkOrigin};
pub use model::{Anomaly, Attachment, Header, Message, PartInfo};
pub use parse::ParseError;
