//! What one SMTP transaction knows besides the message bytes: who connected, how they
//! greeted, whether the channel was encrypted, and the MAIL/RCPT paths and parameters.
//!
//! Addresses are kept exactly as the client wrote them (minus the angle brackets): the
//! local part is case-sensitive for the next hop (RFC 5321 §2.4). Whoever builds
//! `sg_message::Envelope` from this lowercases for analysis.

use std::net::SocketAddr;

/// Facts about the connection that the driver knows and the session cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    /// The client's address.
    pub peer: SocketAddr,
    /// Whether the driver can start TLS (a certificate is configured); STARTTLS is
    /// advertised only then, and only while TLS is not active.
    pub tls_available: bool,
    /// Whether the channel is already encrypted (implicit TLS).
    pub tls_active: bool,
    /// Whether mail is refused until STARTTLS (`530 5.7.0`, RFC 3207 §4); only EHLO/HELO,
    /// STARTTLS, NOOP, RSET and QUIT work before it.
    pub tls_required: bool,
}

/// The `BODY=` parameter of MAIL FROM (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Body {
    /// No `BODY=` given.
    #[default]
    Unspecified,
    /// `BODY=7BIT`.
    SevenBit,
    /// `BODY=8BITMIME`.
    EightBitMime,
}

/// One mail transaction, handed to the driver with the message at the end of DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The client's address.
    pub peer: SocketAddr,
    /// The name given in HELO or EHLO.
    pub helo: String,
    /// Whether the client greeted with EHLO (ESMTP) rather than HELO.
    pub esmtp: bool,
    /// Whether the message came over TLS.
    pub tls: bool,
    /// The reverse-path, without angle brackets; empty for the null sender (bounces).
    pub mail_from: String,
    /// The forward-paths, in the order given, without angle brackets.
    pub rcpt_to: Vec<String>,
    /// Whether MAIL FROM carried `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// The `BODY=` parameter.
    pub body: Body,
    /// The `SIZE=` the client declared, if any (RFC 1870); the actual size is the data's.
    pub declared_size: Option<usize>,
}

impl Envelope {
    /// The `with` protocol name for the Received header (RFC 3848, RFC 6531 §3.7.3).
    pub fn protocol(&self) -> &'static str {
        match (self.smtputf8, self.esmtp, self.tls) {
            (true, _, true) => "UTF8SMTPS",
            (true, _, false) => "UTF8SMTP",
            (false, true, true) => "ESMTPS",
            (false, true, false) => "ESMTP",
            (false, false, _) => "SMTP",
        }
    }

    /// Whether this is a bounce (null reverse-path).
    pub fn is_bounce(&self) -> bool {
        self.mail_from.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            peer: "192.0.2.1:40000".parse().expect("valid socket address"),
            helo: "client.example.org".into(),
            esmtp: true,
            tls: false,
            mail_from: "alice@example.org".into(),
            rcpt_to: vec!["bob@example.net".into()],
            smtputf8: false,
            body: Body::Unspecified,
            declared_size: None,
        }
    }

    #[test]
    fn protocol_is_esmtps_over_tls() {
        let env = Envelope {
            tls: true,
            ..envelope()
        };
        assert_eq!(env.protocol(), "ESMTPS");
    }

    #[test]
    fn protocol_is_smtp_after_helo() {
        let env = Envelope {
            esmtp: false,
            ..envelope()
        };
        assert_eq!(env.protocol(), "SMTP");
    }

    #[test]
    fn protocol_is_utf8smtp_with_smtputf8() {
        let env = Envelope {
            smtputf8: true,
            ..envelope()
        };
        assert_eq!(env.protocol(), "UTF8SMTP");
    }

    #[test]
    fn null_sender_is_a_bounce() {
        let env = Envelope {
            mail_from: String::new(),
            ..envelope()
        };
        assert!(env.is_bounce());
        assert!(!envelope().is_bounce());
    }
}
