//! What the transport knows about a message that is not in its bytes.

use std::net::IpAddr;

/// Whether a message enters or leaves the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// From outside to the organisation's staff.
    #[default]
    Inbound,
    /// From staff to the outside.
    Outbound,
}

/// The SMTP envelope and connection facts, built by each front end (SMTP, milter, `scan`).
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// Address of the connecting client, when known.
    pub peer_ip: Option<IpAddr>,
    /// Name given in HELO/EHLO.
    pub helo: Option<String>,
    /// Reverse-path of MAIL FROM, lowercased; empty for bounces.
    pub mail_from: Option<String>,
    /// Forward-paths of RCPT TO, lowercased.
    pub rcpt_to: Vec<String>,
}
