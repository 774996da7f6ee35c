//! The sans-IO milter session: bytes in, events and reply bytes out.
//!
//! A driver [`feed`](Session::feed)s what it reads from the MTA, calls
//! [`poll_event`](Session::poll_event) until it returns `None`, writes
//! [`take_output`](Session::take_output) to the socket, and answers
//! [`Event::MessageComplete`] with [`decide`](Session::decide). While a decision is
//! pending no further input is processed, so a reply can never overtake the decision the
//! MTA is waiting for. The session owns no socket and no clock; the tokio driver and its
//! timeouts live in the binary (conventions B5 §5).
//!
//! It answers every other command itself: CONTINUE where the MTA waits for a reply, nothing
//! where option negotiation agreed on "no reply", and the limit reply once a message grows
//! past [`SessionConfig::max_message_size`]. Any protocol error ends the session: the MTA
//! then applies its `milter_default_action`, which is safer than guessing.

use crate::codec::{CodecError, FrameDecoder, LEN_BYTES};
use crate::command::{Command, ConnectInfo};
use crate::config::SessionConfig;
use crate::decision::{Decision, DecisionError, Outcome};
use crate::envelope::{CompletedMessage, Macros};
use crate::event::Event;
use crate::message::MessageState;
use crate::negotiate::{MIN_PROTOCOL_VERSION, Negotiation};
use crate::plan::plan;
use crate::response::Response;
use crate::wire::{DecodeError, EncodeError};

/// Why a session cannot go on. Except for [`SessionError::NoPendingDecision`] and
/// [`SessionError::Decision`], the session is finished and the connection should close.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The byte stream is not milter frames.
    #[error("reading a frame from the mta")]
    Codec(#[source] CodecError),
    /// A frame is not a valid command.
    #[error("decoding a command from the mta")]
    Decode(#[source] DecodeError),
    /// A command came at a point of the conversation where it makes no sense.
    #[error("unexpected {command} command {state}")]
    Unexpected {
        /// `SMFIC_*` name.
        command: &'static str,
        /// Where the conversation was.
        state: &'static str,
    },
    /// The MTA speaks a protocol older than version 2.
    #[error("mta protocol version {0} is older than 2")]
    UnsupportedVersion(u32),
    /// More input is buffered than allowed (the driver kept feeding while a decision was due).
    #[error("{buffered} bytes of unprocessed input exceed the limit of {max}")]
    InputOverflow {
        /// Bytes that would be buffered.
        buffered: usize,
        /// The limit.
        max: usize,
    },
    /// Input arrived after QUIT.
    #[error("input after quit")]
    InputAfterQuit,
    /// `decide` or `progress` was called with no message waiting for a decision.
    #[error("no message is waiting for a decision")]
    NoPendingDecision,
    /// The decision is malformed; the message still waits for a valid one.
    #[error("invalid decision")]
    Decision(#[from] DecisionError),
    /// A response (the negotiation reply with configured macro lists) could not be encoded.
    #[error("encoding a response")]
    Encode(#[from] EncodeError),
}

/// Where the conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for OPTNEG.
    Negotiating,
    /// Negotiated; commands flow.
    Open,
    /// End of message reported; waiting for `decide`.
    Deciding,
    /// QUIT received.
    Closed,
}

/// Macro stages that outlive a message: CONNECT and HELO.
const CONNECTION_STAGES: &[u8] = b"CH";

/// One milter connection, from OPTNEG to QUIT.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    decoder: FrameDecoder,
    output: Vec<u8>,
    phase: Phase,
    failed: Option<SessionError>,
    negotiation: Option<Negotiation>,
    connection: Option<ConnectInfo>,
    helo: Option<String>,
    macros: Macros,
    message: MessageState,
}

impl Session {
    /// A session waiting for the MTA's option negotiation.
    pub fn new(config: SessionConfig) -> Self {
        Self {
            decoder: FrameDecoder::new(config.max_frame_len),
            config,
            output: Vec::new(),
            phase: Phase::Negotiating,
            failed: None,
            negotiation: None,
            connection: None,
            helo: None,
            macros: Macros::default(),
            message: MessageState::default(),
        }
    }

    /// Hands the session bytes read from the MTA; call [`Session::poll_event`] next.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        self.check_alive()?;
        if self.phase == Phase::Closed {
            return Err(self.fail(SessionError::InputAfterQuit));
        }
        let max = self
            .config
            .max_buffered
            .max(LEN_BYTES + self.config.max_frame_len as usize);
        let buffered = self.decoder.buffered() + bytes.len();
        if buffered > max {
            return Err(self.fail(SessionError::InputOverflow { buffered, max }));
        }
        self.decoder.extend(bytes);
        Ok(())
    }

    /// Processes buffered frames until one yields an event; `None` when more input (or a
    /// decision) is needed.
    pub fn poll_event(&mut self) -> Result<Option<Event>, SessionError> {
        self.check_alive()?;
        while matches!(self.phase, Phase::Negotiating | Phase::Open) {
            let command = match self.decoder.next_frame() {
                Ok(None) => return Ok(None),
                Ok(Some(frame)) => Command::decode(frame).map_err(SessionError::Decode),
                Err(e) => Err(SessionError::Codec(e)),
            };
            match command.and_then(|c| self.handle(c)) {
                Ok(None) => {}
                Ok(Some(event)) => return Ok(Some(event)),
                Err(e) => return Err(self.fail(e)),
            }
        }
        if self.phase == Phase::Closed && self.decoder.buffered() > 0 {
            return Err(self.fail(SessionError::InputAfterQuit));
        }
        Ok(None)
    }

    /// Answers the pending [`Event::MessageComplete`]. On a [`DecisionError`] nothing is sent
    /// and the message still waits, so the caller can fall back to another decision.
    pub fn decide(&mut self, decision: Decision) -> Result<Outcome, SessionError> {
        self.check_alive()?;
        let Some(negotiation) = self
            .negotiation
            .as_ref()
            .filter(|_| self.phase == Phase::Deciding)
        else {
            return Err(SessionError::NoPendingDecision);
        };
        let (responses, outcome) = plan(
            decision,
            negotiation.actions,
            negotiation.leading_space(),
            &self.config.quarantine_fallback,
        )?;
        let mut frames = Vec::new();
        for response in &responses {
            response.encode(&mut frames).map_err(DecisionError::from)?;
        }
        self.output.extend_from_slice(&frames);
        self.end_message();
        self.phase = Phase::Open;
        Ok(outcome)
    }

    /// Tells the MTA the decision is still being worked on (`SMFIR_PROGRESS`), which resets
    /// its reply timeout; only while a decision is pending.
    pub fn progress(&mut self) -> Result<(), SessionError> {
        self.check_alive()?;
        if self.phase != Phase::Deciding {
            return Err(SessionError::NoPendingDecision);
        }
        self.respond(&Response::Progress)
    }

    /// Bytes to write to the MTA, in order; the session forgets them.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// The negotiated options, once OPTNEG is done.
    pub fn negotiation(&self) -> Option<&Negotiation> {
        self.negotiation.as_ref()
    }

    /// Whether a message is in progress (MAIL seen, or its decision pending); a driver
    /// shutting down closes only connections where this is false.
    pub fn in_message(&self) -> bool {
        self.phase == Phase::Deciding || self.message.is_active()
    }

    /// Whether the MTA said QUIT.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    fn check_alive(&self) -> Result<(), SessionError> {
        self.failed.clone().map_or(Ok(()), Err)
    }

    fn fail(&mut self, error: SessionError) -> SessionError {
        self.failed = Some(error.clone());
        error
    }

    fn respond(&mut self, response: &Response) -> Result<(), SessionError> {
        Ok(response.encode(&mut self.output)?)
    }

    fn handle(&mut self, command: Command) -> Result<Option<Event>, SessionError> {
        let Some(negotiation) = &self.negotiation else {
            return match command {
                Command::OptionNegotiation(offer) => self.negotiate(offer).map(Some),
                Command::Quit => {
                    self.phase = Phase::Closed;
                    Ok(Some(Event::Closed))
                }
                other => Err(SessionError::Unexpected {
                    command: other.name(),
                    state: "before option negotiation",
                }),
            };
        };
        let reply = negotiation.expects_reply(&command);
        let leading_space = negotiation.leading_space();
        let mut reply_override = None;
        let event = match command {
            Command::OptionNegotiation(_) => {
                return Err(SessionError::Unexpected {
                    command: "OPTNEG",
                    state: "after option negotiation",
                });
            }
            Command::Macro { stage, macros } => {
                // Only stages that name a command are kept, which bounds what an MTA can store.
                if Command::is_code(stage) {
                    self.macros.set(stage, macros);
                }
                None
            }
            Command::Connect(info) => {
                self.connection = Some(info);
                None
            }
            Command::Helo(name) => {
                self.helo = Some(name);
                None
            }
            Command::Mail(args) => {
                // MAIL starts a new message even if the MTA never ended the previous one. Its
                // macros arrived just before it; those of older message stages go.
                self.message = MessageState::from_mail(args);
                self.macros.retain(b"CHM");
                None
            }
            Command::Rcpt(args) => {
                let (event, alone) = self.message.add_recipient(args, &self.config, reply);
                reply_override = alone;
                event
            }
            Command::Data | Command::EndOfHeaders => {
                self.message.touch();
                None
            }
            Command::Header { name, value } => {
                self.message
                    .add_header(name, value, leading_space, &self.config)
            }
            Command::Body(chunk) => self.message.add_body(&chunk, &self.config),
            Command::EndOfBody(chunk) => return self.end_of_body(&chunk),
            Command::Abort => {
                let was_active = self.message.is_active();
                self.end_message();
                was_active.then_some(Event::Aborted)
            }
            Command::Quit => {
                self.end_message();
                self.phase = Phase::Closed;
                Some(Event::Closed)
            }
            Command::QuitNewConnection => {
                self.end_message();
                self.connection = None;
                self.helo = None;
                self.macros = Macros::default();
                Some(Event::ConnectionReset)
            }
            Command::Unknown(_) => None,
        };
        if reply {
            let refusal = reply_override.or_else(|| self.message.refusal().cloned());
            self.respond(&refusal.map_or(Response::Continue, Response::ReplyCode))?;
        }
        Ok(event)
    }

    fn negotiate(&mut self, offer: crate::command::Options) -> Result<Event, SessionError> {
        if offer.version < MIN_PROTOCOL_VERSION {
            return Err(SessionError::UnsupportedVersion(offer.version));
        }
        let (negotiation, response) = Negotiation::answer(&self.config, offer);
        self.respond(&response)?;
        self.negotiation = Some(negotiation.clone());
        self.phase = Phase::Open;
        Ok(Event::Negotiated(negotiation))
    }

    fn end_message(&mut self) {
        self.message = MessageState::default();
        self.macros.retain(CONNECTION_STAGES);
    }

    fn end_of_body(&mut self, chunk: &[u8]) -> Result<Option<Event>, SessionError> {
        let limit_event = if chunk.is_empty() {
            None
        } else {
            self.message.add_body(chunk, &self.config)
        };
        if let Some(reply) = self.message.refusal().cloned() {
            // End of message always expects a reply, even after a refusal at a body chunk.
            self.respond(&Response::ReplyCode(reply))?;
            self.end_message();
            return Ok(limit_event);
        }
        self.phase = Phase::Deciding;
        let (envelope, headers, body) = std::mem::take(&mut self.message).into_parts();
        Ok(Some(Event::MessageComplete(Box::new(CompletedMessage {
            connection: self.connection.clone(),
            helo: self.helo.clone(),
            envelope,
            macros: self.macros.clone(),
            headers,
            body,
        }))))
    }
}
