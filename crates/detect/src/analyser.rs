//! The analyser contract: one independent, read-only check over a parsed message.

use sg_message::{Direction, Envelope, Message};

use crate::organisation::Organisation;
use crate::signal::{Signal, SignalDef};

/// One independent check over a message.
///
/// An analyser reads the parsed message and its context and returns what it found. It
/// changes nothing, never reads another analyser's signals, and never reads the wall clock:
/// everything it may depend on arrives through `Message` and `Context`, so the same input
/// gives the same signals. Analysers are synchronous: they are CPU-bound over facts already
/// in memory; anything that needs I/O (DNS, history, antivirus) is gathered by the pipeline
/// beforehand and handed in through [`Context`].
pub trait Analyser: Send + Sync {
    /// Stable snake_case id: config section `[analysers.<id>]`, `scan --only <id>`, cases file.
    fn id(&self) -> &'static str;

    /// Every signal this analyser can emit. The engine drops (and reports) any other.
    fn signals(&self) -> &'static [&'static SignalDef];

    /// Examines one message. An `Err` does not fail the scan: the engine records an
    /// `ANALYSER_FAILED` signal carrying the error.
    fn analyse(&self, msg: &Message, cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError>;
}

/// Everything about a message that is not in its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// SMTP envelope (peer, HELO, MAIL FROM, RCPT TO).
    pub envelope: &'a Envelope,
    /// Inbound or outbound.
    pub direction: Direction,
    /// When the message arrived, Unix seconds: the only clock an analyser may read.
    pub received_at: i64,
    /// The organisation's own domains, staff names and protected brands.
    pub org: &'a Organisation,
    /// What other messages reveal about this one (first contact, campaign, undisclosed
    /// recipients); `None` when scanning without state.
    pub cross: Option<&'a crate::cross::CrossFacts>,
}

/// Why an analyser could not finish.
#[derive(Debug, thiserror::Error)]
pub enum AnalyserError {
    /// Something the analyser needed was unusable.
    #[error("{0}")]
    Failed(String),
}
