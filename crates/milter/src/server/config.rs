//! The milter listener's settings: where to listen, how many MTA connections at once, how
//! much of a message to collect, and how long to wait for each thing the MTA or the
//! handler owes us.
//!
//! Durations are written as seconds (`read_timeout = 900`, fractions allowed: `0.5`).
//! [`ServerConfig::validate`] checks everything once and reports every problem together;
//! [`crate::server::serve`] only accepts the resulting [`ValidServerConfig`].

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::SessionConfig;

/// The milter listener's settings as written in the config file (`[milter_server]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port the MTA connects to (`smtpd_milters = inet:127.0.0.1:11339`). The
    /// caller binds it and hands [`crate::server::serve`] the listener.
    pub listen: SocketAddr,
    /// Most MTA connections at once (Postfix opens one per smtpd process). One more is
    /// closed at once, and the MTA applies its `milter_default_action`.
    pub max_connections: usize,
    /// Largest message (header lines plus body) inspected, in bytes. A bigger one is
    /// refused with `552 5.3.4`.
    pub max_message_size: usize,
    /// Most recipients kept per message. Further ones get `452 4.5.3`.
    pub max_recipients: usize,
    /// Longest wait for the MTA's next command, in seconds. Postfix keeps its milter
    /// connection open for the whole SMTP session, idle while the client is, so keep this
    /// above Postfix's `smtpd_timeout` (300 s).
    #[serde(with = "sg_common::seconds")]
    pub read_timeout: Duration,
    /// Longest wait for a reply to be written to an MTA that does not read, in seconds.
    #[serde(with = "sg_common::seconds")]
    pub write_timeout: Duration,
    /// Longest wait for the handler's decision on a message, in seconds. After it the MTA
    /// is told to tempfail (`451 4.3.0`). Keep it under Postfix's `milter_content_timeout`
    /// (300 s), so the client hears our 451 rather than Postfix's default action.
    #[serde(with = "sg_common::seconds")]
    pub decision_timeout: Duration,
    /// Longest wait, in seconds, for connections with a message in flight to finish after
    /// shutdown begins. Connections between messages close at once.
    #[serde(with = "sg_common::seconds")]
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let session = SessionConfig::default();
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 11339)),
            max_connections: 1000,
            max_message_size: session.max_message_size,
            max_recipients: session.max_recipients,
            read_timeout: Duration::from_secs(900),
            write_timeout: Duration::from_secs(30),
            decision_timeout: Duration::from_secs(120),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// One invalid key of a [`ServerConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key, e.g. `read_timeout`.
    pub key: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// No wait in this driver needs more than a day; a bound also keeps deadlines from overflowing.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

impl ServerConfig {
    /// Checks every key and reports every problem at once.
    pub fn validate(self) -> Result<ValidServerConfig, Vec<ConfigError>> {
        let mut errors = Vec::new();
        for (key, value) in [
            ("max_connections", self.max_connections),
            ("max_message_size", self.max_message_size),
            ("max_recipients", self.max_recipients),
        ] {
            if value == 0 {
                errors.push(ConfigError {
                    key,
                    message: "0 is not allowed, must be at least 1".to_string(),
                });
            }
        }
        for (key, value) in [
            ("read_timeout", self.read_timeout),
            ("write_timeout", self.write_timeout),
            ("decision_timeout", self.decision_timeout),
            ("shutdown_timeout", self.shutdown_timeout),
        ] {
            if let Some(message) = sg_common::seconds::problem(value, MAX_TIMEOUT) {
                errors.push(ConfigError { key, message });
            }
        }
        if errors.is_empty() {
            Ok(ValidServerConfig(Arc::new(self)))
        } else {
            Err(errors)
        }
    }

    /// The per-connection session settings these limits imply (other fields at defaults).
    pub fn session_config(&self) -> SessionConfig {
        SessionConfig {
            max_message_size: self.max_message_size,
            max_recipients: self.max_recipients,
            ..SessionConfig::default()
        }
    }
}

/// A checked [`ServerConfig`], cheap to clone and share between connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidServerConfig(Arc<ServerConfig>);

impl std::ops::Deref for ValidServerConfig {
    type Target = ServerConfig;

    fn deref(&self) -> &ServerConfig {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_listen_on_loopback_11339() {
        let config = ServerConfig::default().validate().unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:11339");
        assert!(config.decision_timeout < Duration::from_secs(300));
    }

    #[test]
    fn every_bad_key_is_reported_at_once() {
        let bad = ServerConfig {
            max_connections: 0,
            max_recipients: 0,
            read_timeout: Duration::ZERO,
            decision_timeout: Duration::from_secs(100_000),
            ..ServerConfig::default()
        };
        let keys: Vec<_> = bad.validate().unwrap_err().iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            [
                "max_connections",
                "max_recipients",
                "read_timeout",
                "decision_timeout"
            ]
        );
    }

    #[test]
    fn seconds_take_integers_and_fractions_and_refuse_negatives() {
        let c: ServerConfig = toml::from_str("read_timeout = 0.5\nwrite_timeout = 7").unwrap();
        assert_eq!(c.read_timeout, Duration::from_millis(500));
        assert_eq!(c.write_timeout, Duration::from_secs(7));
        assert!(toml::from_str::<ServerConfig>("read_timeout = -1").is_err());
        assert!(toml::from_str::<ServerConfig>("unknown = 1").is_err());
        let text = toml::to_string(&ServerConfig::default()).unwrap();
        assert_eq!(
            toml::from_str::<ServerConfig>(&text).unwrap(),
            ServerConfig::default()
        );
    }

    #[test]
    fn session_config_carries_the_limits() {
        let c = ServerConfig {
            max_message_size: 10,
            max_recipients: 2,
            ..ServerConfig::default()
        };
        let s = c.session_config();
        assert_eq!((s.max_message_size, s.max_recipients), (10, 2));
        assert!(s.skip_replies);
    }
}
