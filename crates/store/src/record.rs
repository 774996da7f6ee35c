//! The rows: one per judged message, one per delivery attempt per recipient.

use serde::{Deserialize, Serialize};

/// What the gateway decided about one message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The spool's queue id, when the message was stored (queued or quarantined).
    pub queue_id: Option<String>,
    /// When it arrived (Unix seconds).
    pub received_at: i64,
    /// Which front end saw it: `smtp`, `milter`.
    pub front: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The connecting client's address.
    pub peer_ip: Option<String>,
    /// HELO/EHLO name.
    pub helo: Option<String>,
    /// Envelope sender (empty for the null sender).
    pub mail_from: Option<String>,
    /// Envelope recipients.
    pub rcpt_to: Vec<String>,
    /// The From header's address.
    pub header_from: Option<String>,
    /// The Subject, decoded.
    pub subject: Option<String>,
    /// The Message-ID header.
    pub message_id: Option<String>,
    /// `deliver`, `tag`, `quarantine` or `reject`.
    pub verdict: String,
    /// The total score.
    pub score: f64,
    /// The signals that fired, as JSON (`[{"name":…,"score":…,"detail":…}]`).
    pub signals: serde_json::Value,
    /// What was done: `queued`, `quarantined`, `rejected`, `tempfailed`, `not_stored`,
    /// `accepted` (milter: handed back to the MTA).
    pub action: String,
    /// Time spent parsing and analysing, in microseconds.
    pub scan_micros: i64,
}

/// One delivery attempt to one recipient.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The queued message.
    pub queue_id: String,
    /// The recipient.
    pub recipient: String,
    /// When (Unix seconds).
    pub at: i64,
    /// `delivered`, `deferred` or `failed`.
    pub outcome: String,
    /// The next hop's reply or the local error.
    pub detail: String,
}

/// One person (or role mailbox) of the organisation's staff directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// The mail address, lowercase.
    pub address: String,
    /// The display name ("" when unknown).
    pub name: String,
    /// The department ("" when unknown).
    pub department: String,
    /// Whether the address is published (website, leaflets); `false` = undisclosed.
    pub published: bool,
}

/// Which messages [`crate::Store::messages`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageQuery {
    /// Only this verdict.
    pub verdict: Option<String>,
    /// Only messages received at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Only this queue id.
    pub queue_id: Option<String>,
    /// At most this many, newest first.
    pub limit: u32,
}

impl Default for MessageQuery {
    fn default() -> Self {
        MessageQuery {
            verdict: None,
            since: None,
            queue_id: None,
            limit: 100,
        }
    }
}
