//! What a session asks for and how much it accepts.
//!
//! Plain data with defaults that suit Postfix 3.x: request header, body and quarantine
//! actions, ask Postfix not to wait for replies where we would only say "continue", and
//! bound every buffer. The binary's `[milter]` config section maps onto it.

use crate::codec::DEFAULT_MAX_FRAME_LEN;
use crate::decision::Verdict;
use crate::flags::{Actions, MacroStage};
use crate::reply::{MESSAGE_TOO_BIG, Reply};

/// Settings for one [`crate::Session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Actions to request; the MTA grants the subset it offers.
    pub actions: Actions,
    /// Ask the MTA not to wait for a reply to CONNECT, HELO, MAIL, RCPT, DATA, headers and
    /// end of headers (`SMFIP_NR_*`), saving a round trip per header. Body chunks keep their
    /// reply so an oversized message is refused while it streams.
    pub skip_replies: bool,
    /// Largest frame accepted (length field value).
    pub max_frame_len: u32,
    /// Most unprocessed input held; at least one maximal frame is always allowed.
    pub max_buffered: usize,
    /// Largest message (header lines plus body) collected; beyond it the message is refused.
    pub max_message_size: usize,
    /// Most recipients kept per message; further ones get `452 4.5.3`.
    pub max_recipients: usize,
    /// Reply for a message over `max_message_size` (4xx to defer, 5xx to refuse).
    pub oversize_reply: Reply,
    /// Sent instead of `Quarantine` when the MTA did not grant `QUARANTINE`.
    pub quarantine_fallback: Verdict,
    /// Macro names to ask for per stage (`SMFIF_SETSYMLIST`), e.g. `(Data, "i {auth_authen}")`.
    /// Empty: take the MTA's defaults (Postfix's `milter_*_macros`).
    pub macros: Vec<(MacroStage, String)>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            actions: Actions::ADD_HEADERS
                | Actions::CHANGE_HEADERS
                | Actions::CHANGE_BODY
                | Actions::QUARANTINE,
            skip_replies: true,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_buffered: 4 * DEFAULT_MAX_FRAME_LEN as usize,
            // Same bound as sg_message::Limits::max_message_size.
            max_message_size: 50 * 1024 * 1024,
            // Postfix's smtpd_recipient_limit default.
            max_recipients: 1000,
            oversize_reply: MESSAGE_TOO_BIG,
            quarantine_fallback: Verdict::Tempfail(None),
            macros: Vec::new(),
        }
    }
}
