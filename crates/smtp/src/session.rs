//! The sans-IO ESMTP server session: bytes in, reply bytes and [`Event`]s out.
//!
//! The session owns no socket, clock or file. The driver reads from the connection and
//! calls [`Session::receive`], writes whatever [`Session::take_output`] returns, and acts
//! on [`Session::poll_event`]. Three events stop the session until the driver answers:
//! - [`Event::MessageReady`]: the end of DATA was read. The session sends **no** reply
//!   until the driver has spooled and fsync'd the message and calls
//!   [`Session::message_stored`] (250), or refuses it with [`Session::message_rejected`]
//!   (550), [`Session::message_tempfailed`] (451) or [`Session::message_not_stored`]
//!   (451). Commands the client pipelined behind the message wait in the session and are
//!   answered, in order, after that reply.
//! - [`Event::StartTls`]: the 220 for STARTTLS is queued. Every byte that arrived behind
//!   the STARTTLS line is discarded (the CVE-2011-0411 command-injection class: plaintext
//!   sent before the handshake must never be read as if it came over TLS). The driver
//!   runs the handshake and calls [`Session::tls_started`]; the client starts over with
//!   EHLO (RFC 3207 §4.2).
//! - [`Event::Close`]: after 221 or a 421; the driver flushes the output and closes.
//!
//! While [`Session::wants_input`] is false the driver should not read, so the bytes held
//! back are at most one read. Otherwise the session holds less than one command line
//! (`max_line_length`) plus, in DATA, the message so far (`max_message_size`).
//!
//! Shutdown ([`Session::shutting_down`]) answers 421 4.3.2 at once when no message is in
//! flight, or right after the final reply for the message being received.
//!
//! Memory for message content comes from a server-wide [`InflightBudget`]
//! ([`Session::with_budget`]): when it cannot cover a message, the message is read to its
//! end and answered `452 4.3.1`, and while it is nearly spent MAIL gets the same 452. The
//! budget a message holds is given back with its final reply.

mod commands;

use std::collections::VecDeque;

use memchr::memchr;

use crate::budget::{InflightBudget, Reservation};
use crate::command::MailParams;
use crate::data::{DataReader, Outcome};
use crate::envelope::{Connection, Envelope};
use crate::event::{Event, Phase, SessionError};
use crate::limits::ValidConfig;
use crate::reply::{self, Reply};

#[derive(Debug)]
enum State {
    Command,
    Data {
        reader: DataReader,
        envelope: Box<Envelope>,
    },
    AwaitingDecision {
        /// The message's share of the in-flight budget, held until its final reply.
        _reservation: Reservation,
    },
    StartingTls,
    Closed,
}

#[derive(Debug)]
struct Hello {
    host: String,
    esmtp: bool,
}

#[derive(Debug)]
struct Transaction {
    mail_from: String,
    params: MailParams,
    rcpt_to: Vec<String>,
    /// Recipients refused for being over `max_recipients`.
    refused: usize,
}

/// How the next command line sits in the input.
enum Framed {
    /// A whole line of this many bytes, LF included.
    Line(usize),
    /// This many bytes of an over-long line were dropped.
    Skipped(usize),
    /// No LF yet; wait for more bytes.
    Partial,
}

/// Input capacity kept between reads; more is given back so idle sessions stay small.
const KEEP_CAPACITY: usize = 4096;

/// One SMTP connection's protocol state.
#[derive(Debug)]
pub struct Session {
    config: ValidConfig,
    connection: Connection,
    state: State,
    hello: Option<Hello>,
    transaction: Option<Transaction>,
    /// Bytes received but not yet processed.
    input: Vec<u8>,
    /// Inside an over-long command line, dropping bytes up to its LF.
    skipping_line: bool,
    output: Vec<u8>,
    events: VecDeque<Event>,
    errors: usize,
    shutting_down: bool,
    budget: InflightBudget,
}

impl Session {
    /// A session for a new connection; the greeting is already in the output.
    pub fn new(config: ValidConfig, connection: Connection) -> Session {
        let mut session = Session {
            config,
            connection,
            state: State::Command,
            hello: None,
            transaction: None,
            input: Vec::new(),
            skipping_line: false,
            output: Vec::new(),
            events: VecDeque::new(),
            errors: 0,
            shutting_down: false,
            budget: InflightBudget::unlimited(),
        };
        session.reply(&reply::GREETING.fill(&session.config.hostname));
        session
    }

    /// Takes message memory from `budget`, shared with the server's other sessions (the
    /// default is a budget of its own without a limit).
    pub fn with_budget(mut self, budget: InflightBudget) -> Session {
        self.budget = budget;
        self
    }

    /// Feeds bytes read from the client; replies and events become available at once.
    pub fn receive(&mut self, bytes: &[u8]) {
        match self.state {
            // Plaintext before the handshake, or anything after the end: never read.
            State::Closed | State::StartingTls => {}
            State::AwaitingDecision { .. } => self.input.extend_from_slice(bytes),
            State::Command | State::Data { .. } if self.input.is_empty() => {
                let used = self.run(bytes);
                self.input.extend_from_slice(&bytes[used..]);
            }
            State::Command | State::Data { .. } => {
                self.input.extend_from_slice(bytes);
                self.resume();
            }
        }
    }

    /// The bytes to send to the client, in order; empties the output.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// The next event for the driver, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The message is spooled and fsync'd: answer 250 with its queue id, then go on.
    pub fn message_stored(&mut self, queue_id: &str) -> Result<(), SessionError> {
        self.decide(reply::QUEUED.fill(queue_id))
    }

    /// The engine refused the message: answer 550 5.7.1 with a short reason, then go on.
    pub fn message_rejected(&mut self, reason: &str) -> Result<(), SessionError> {
        let reason = if reason.trim().is_empty() {
            "message rejected"
        } else {
            reason
        };
        self.decide(reply::REJECTED.fill(reason))
    }

    /// The engine asks for a retry: answer 451 4.7.1 with a short reason, then go on.
    pub fn message_tempfailed(&mut self, reason: &str) -> Result<(), SessionError> {
        let reason = if reason.trim().is_empty() {
            "try again later"
        } else {
            reason
        };
        self.decide(reply::TEMPFAILED.fill(reason))
    }

    /// Spooling failed (disk, fsync): answer 451 4.3.0 without details, then go on.
    pub fn message_not_stored(&mut self) -> Result<(), SessionError> {
        self.decide(reply::NOT_STORED)
    }

    /// The TLS handshake after STARTTLS succeeded; the session starts over, without a greeting.
    pub fn tls_started(&mut self) -> Result<(), SessionError> {
        if !matches!(self.state, State::StartingTls) {
            return Err(SessionError::NoTlsPending {
                phase: self.phase(),
            });
        }
        // RFC 3207 §4.2: forget everything the client said before the handshake.
        self.connection.tls_active = true;
        self.hello = None;
        self.transaction = None;
        self.state = State::Command;
        if self.shutting_down {
            self.close_with(reply::SHUTTING_DOWN.fill(&self.config.hostname));
        }
        Ok(())
    }

    /// The gateway is stopping: 421 4.3.2 now, or after the message in flight is answered.
    pub fn shutting_down(&mut self) {
        self.shutting_down = true;
        if matches!(self.state, State::Command) {
            self.close_with(reply::SHUTTING_DOWN.fill(&self.config.hostname));
        }
    }

    /// The driver's timer for the current phase expired: 421 4.4.2 and close.
    pub fn timed_out(&mut self) {
        if !matches!(self.state, State::Closed) {
            self.close_with(reply::TIMEOUT.fill(&self.config.hostname));
        }
    }

    /// What the session waits for.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Command => Phase::Command,
            State::Data { .. } => Phase::Data,
            State::AwaitingDecision { .. } => Phase::AwaitingDecision,
            State::StartingTls => Phase::StartingTls,
            State::Closed => Phase::Closed,
        }
    }

    /// Whether the driver should read from the client now.
    pub fn wants_input(&self) -> bool {
        matches!(self.state, State::Command | State::Data { .. })
    }

    /// Whether the session is over (after 221 or 421).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Memory held for this session's input and message, in bytes (for limits and metrics).
    pub fn buffered_bytes(&self) -> usize {
        let data = match &self.state {
            State::Data { reader, .. } => reader.buffered(),
            _ => 0,
        };
        self.input.capacity() + data
    }

    /// Processes held-back input after the session was stopped.
    fn resume(&mut self) {
        let mut input = std::mem::take(&mut self.input);
        let used = self.run(&input);
        input.drain(..used);
        if input.capacity() > KEEP_CAPACITY {
            input.shrink_to(KEEP_CAPACITY);
        }
        self.input = input;
    }

    /// Processes `input` until it runs out or the session must stop; returns the bytes
    /// consumed (everything, when the rest must be thrown away).
    fn run(&mut self, input: &[u8]) -> usize {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match self.state {
                State::Command => match self.frame(rest) {
                    Framed::Line(len) => {
                        used += len;
                        self.command(&rest[..len]);
                    }
                    Framed::Skipped(len) => used += len,
                    Framed::Partial => return used,
                },
                State::Data { .. } => {
                    let (len, outcome) = self.feed_data(rest);
                    used += len;
                    match outcome {
                        Some(outcome) => self.end_of_data(outcome),
                        None => return used,
                    }
                }
                State::AwaitingDecision { .. } => return used,
                State::StartingTls => {
                    let discarded = rest.len();
                    self.events.push_back(Event::StartTls { discarded });
                    return input.len();
                }
                State::Closed => return input.len(),
            }
        }
    }

    /// Finds the next command line within `max_line_length`, or drops an over-long one.
    fn frame(&mut self, rest: &[u8]) -> Framed {
        if rest.is_empty() {
            return Framed::Partial;
        }
        if self.skipping_line {
            return match memchr(b'\n', rest) {
                Some(pos) => {
                    self.skipping_line = false;
                    Framed::Skipped(pos + 1)
                }
                None => Framed::Skipped(rest.len()),
            };
        }
        let max = self.config.max_line_length;
        match memchr(b'\n', &rest[..rest.len().min(max)]) {
            Some(pos) => Framed::Line(pos + 1),
            // `max` bytes and no LF: with its LF the line is longer than the limit.
            None if rest.len() >= max => {
                self.skipping_line = true;
                self.refuse(reply::LINE_TOO_LONG);
                Framed::Skipped(max)
            }
            None => Framed::Partial,
        }
    }

    fn feed_data(&mut self, rest: &[u8]) -> (usize, Option<Outcome>) {
        match &mut self.state {
            State::Data { reader, .. } => reader.feed(rest),
            _ => (0, None),
        }
    }

    fn end_of_data(&mut self, outcome: Outcome) {
        let State::Data { envelope, reader } = std::mem::replace(&mut self.state, State::Command)
        else {
            return;
        };
        match outcome {
            Outcome::Message(data) => {
                self.state = State::AwaitingDecision {
                    _reservation: reader.into_reservation(),
                };
                self.events.push_back(Event::MessageReady {
                    envelope: *envelope,
                    data,
                });
            }
            Outcome::TooBig => self.end_transaction(reply::TOO_BIG),
            Outcome::BareNewline => self.end_transaction(reply::BARE_NEWLINE),
            Outcome::NoStorage => self.end_transaction(reply::INSUFFICIENT_STORAGE),
        }
    }

    fn decide(&mut self, reply: Reply) -> Result<(), SessionError> {
        if !matches!(self.state, State::AwaitingDecision { .. }) {
            return Err(SessionError::NoMessagePending {
                phase: self.phase(),
            });
        }
        self.end_transaction(reply);
        self.resume();
        Ok(())
    }

    /// The final reply for a message; a pending shutdown closes the session after it.
    fn end_transaction(&mut self, reply: Reply) {
        self.reply(&reply);
        self.state = State::Command;
        if self.shutting_down {
            self.close_with(reply::SHUTTING_DOWN.fill(&self.config.hostname));
        }
    }

    fn reply(&mut self, reply: &Reply) {
        reply.write_to(&mut self.output);
    }

    /// A negative reply that counts towards `max_errors`.
    fn refuse(&mut self, reply: Reply) {
        self.reply(&reply);
        self.errors += 1;
        if self.errors >= self.config.max_errors {
            self.close_with(reply::TOO_MANY_ERRORS.fill(&self.config.hostname));
        }
    }

    fn close_with(&mut self, reply: Reply) {
        self.reply(&reply);
        self.state = State::Closed;
        self.input = Vec::new();
        self.events.push_back(Event::Close);
    }
}
