//! The listener's settings: where to listen, how many sessions at once, and how long to
//! wait for each thing a client or the handler owes us.
//!
//! The session's own limits (sizes, counts, host name) are [`crate::Config`]; these are the
//! driver's, which the sans-IO session cannot enforce because it has no clock. Durations
//! are written as seconds (`command_timeout = 300`, fractions allowed: `0.5`). As with the
//! session config, [`ServerConfig::validate`] checks everything once and reports every
//! problem together, and [`crate::serve`] only accepts the resulting [`ValidServerConfig`].
//! The TLS keys name files; [`ValidServerConfig::load_tls`] reads (or makes) them and
//! attaches the result, so `serve` itself never touches the file system.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::tls::{TlsAcceptor, TlsError};
use crate::limits::ConfigError;

/// The SMTP listener's settings as written in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to accept connections on. The caller binds it and hands
    /// [`crate::serve`] the listener (so tests can bind port 0 and read the port back).
    pub listen: SocketAddr,
    /// Most sessions at once; one more gets `421 4.7.0 too many connections` and is closed.
    pub max_sessions: usize,
    /// Longest wait for a whole command line, in seconds. This is a deadline per command,
    /// not per read, so a client trickling one byte at a time is cut all the same.
    #[serde(with = "sg_common::seconds")]
    pub command_timeout: Duration,
    /// Longest wait between two reads of message content, in seconds.
    #[serde(with = "sg_common::seconds")]
    pub data_timeout: Duration,
    /// Slowest message content accepted, in bytes per second (0 = no floor): the whole
    /// DATA phase may last `data_timeout` plus one second per this many bytes received,
    /// so a client trickling a byte now and then is cut (Postfix's `smtpd_min_data_rate`).
    pub min_data_rate: u64,
    /// Longest wait for the handler's decision on a message, in seconds; after it the
    /// client gets `451 4.3.0`. Keep it well under the client's 10 minutes (RFC 5321
    /// §4.5.3.2.6) so the client hears the 451 instead of giving up on its own.
    #[serde(with = "sg_common::seconds")]
    pub decision_timeout: Duration,
    /// Longest wait for open sessions to finish after shutdown begins, in seconds; the
    /// sessions still open then are sent `421 4.3.2` and closed.
    #[serde(with = "sg_common::seconds")]
    pub shutdown_timeout: Duration,
    /// Offer STARTTLS (RFC 3207).
    pub tls: bool,
    /// PEM certificate chain for STARTTLS (empty, with `tls_key` empty too: a self-signed
    /// certificate for the `[smtp]` hostname, made in DATA/tls/ at first start and reused).
    pub tls_cert: PathBuf,
    /// PEM private key for `tls_cert` (empty: the self-signed one's).
    pub tls_key: PathBuf,
    /// Refuse mail until the client has run STARTTLS (`530 5.7.0`). Off by default:
    /// RFC 3207 §4 forbids requiring it on a publicly-referenced MX.
    pub require_tls: bool,
    /// Most bytes the messages being received may hold in memory together (beyond it:
    /// `452 4.3.1` at the end of DATA, and for MAIL while it is spent).
    pub max_inflight_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            // Loopback and an unprivileged port: a fresh install exposes nothing.
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 2525)),
            max_sessions: 1000,
            // RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command.
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(600),
            min_data_rate: 500,
            decision_timeout: Duration::from_secs(300),
            shutdown_timeout: Duration::from_secs(60),
            tls: true,
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            require_tls: false,
            max_inflight_bytes: 256 * 1024 * 1024,
        }
    }
}

/// No wait in this driver needs more than a day; a bound also keeps deadlines from overflowing.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

impl ServerConfig {
    /// Checks every key and reports every problem at once.
    pub fn validate(self) -> Result<ValidServerConfig, Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.max_sessions == 0 {
            errors.push(ConfigError {
                key: "max_sessions",
                message: "0 is not allowed, must be at least 1".to_string(),
            });
        }
        for (key, value) in [
            ("command_timeout", self.command_timeout),
            ("data_timeout", self.data_timeout),
            ("decision_timeout", self.decision_timeout),
            ("shutdown_timeout", self.shutdown_timeout),
        ] {
            if let Some(message) = sg_common::seconds::problem(value, MAX_TIMEOUT) {
                errors.push(ConfigError { key, message });
            }
        }
        if self.tls_cert.as_os_str().is_empty() != self.tls_key.as_os_str().is_empty() {
            errors.push(ConfigError {
                key: "tls_cert",
                message: "set both tls_cert and tls_key, or neither (self-signed)".to_string(),
            });
        }
        if self.require_tls && !self.tls {
            errors.push(ConfigError {
                key: "require_tls",
                message: "needs tls = true".to_string(),
            });
        }
        if self.max_inflight_bytes == 0 {
            errors.push(ConfigError {
                key: "max_inflight_bytes",
                message: "0 is not allowed, must be at least 1".to_string(),
            });
        }
        if errors.is_empty() {
            Ok(ValidServerConfig {
                config: Arc::new(self),
                tls: None,
            })
        } else {
            Err(errors)
        }
    }
}

/// A checked [`ServerConfig`] plus the TLS certificate once loaded; cheap to clone and
/// share between sessions.
#[derive(Debug, Clone, Default)]
pub struct ValidServerConfig {
    config: Arc<ServerConfig>,
    tls: Option<TlsAcceptor>,
}

impl ValidServerConfig {
    /// Offers STARTTLS with this certificate.
    pub fn with_tls(mut self, acceptor: TlsAcceptor) -> ValidServerConfig {
        self.tls = Some(acceptor);
        self
    }

    /// Loads the certificate the config names (`tls_cert`, `tls_key`), or the self-signed
    /// one in `data_dir/tls/` for `hostname`, generating it the first time. Nothing is
    /// loaded when `tls = false`.
    pub fn load_tls(self, data_dir: &Path, hostname: &str) -> Result<ValidServerConfig, TlsError> {
        if !self.config.tls {
            return Ok(self);
        }
        let acceptor = if self.config.tls_cert.as_os_str().is_empty() {
            TlsAcceptor::self_signed(&data_dir.join("tls"), hostname)?
        } else {
            TlsAcceptor::from_pem_files(&self.config.tls_cert, &self.config.tls_key)?
        };
        Ok(self.with_tls(acceptor))
    }

    /// The certificate for STARTTLS, if TLS is offered.
    pub fn tls_acceptor(&self) -> Option<&TlsAcceptor> {
        self.tls.as_ref()
    }
}

impl std::ops::Deref for ValidServerConfig {
    type Target = ServerConfig;

    fn deref(&self) -> &ServerConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = ServerConfig::default().validate().unwrap();
        assert_eq!(config.max_sessions, 1000);
        assert_eq!(config.command_timeout, Duration::from_secs(300));
        assert_eq!(config.data_timeout, Duration::from_secs(600));
        assert_eq!(config.listen.to_string(), "127.0.0.1:2525");
    }

    #[test]
    fn empty_toml_gives_defaults() {
        let config: ServerConfig = toml::from_str("").unwrap();
        assert_eq!(config, ServerConfig::default());
    }

    #[test]
    fn toml_takes_whole_and_fractional_seconds() {
        let config: ServerConfig =
            toml::from_str("listen = \"0.0.0.0:25\"\ncommand_timeout = 60\ndata_timeout = 0.5")
                .unwrap();
        assert_eq!(config.listen.port(), 25);
        assert_eq!(config.command_timeout, Duration::from_secs(60));
        assert_eq!(config.data_timeout, Duration::from_millis(500));
    }

    #[test]
    fn defaults_round_trip_through_toml() {
        let text = toml::to_string(&ServerConfig::default()).unwrap();
        assert!(text.contains("command_timeout = 300"), "{text}");
        let back: ServerConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, ServerConfig::default());
    }

    #[test]
    fn unknown_key_is_rejected() {
        let err = toml::from_str::<ServerConfig>("max_session = 5").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn negative_seconds_are_rejected() {
        let err = toml::from_str::<ServerConfig>("data_timeout = -1").unwrap_err();
        assert!(err.to_string().contains("-1 seconds is negative"), "{err}");
    }

    #[test]
    fn zero_and_huge_values_are_all_reported() {
        let config = ServerConfig {
            max_sessions: 0,
            command_timeout: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(100_000),
            ..ServerConfig::default()
        };
        let errors = config.validate().unwrap_err();
        let keys: Vec<_> = errors.iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            ["max_sessions", "command_timeout", "shutdown_timeout"]
        );
        assert_eq!(
            errors[1].to_string(),
            "command_timeout: 0 seconds is not allowed, must be more than 0 and at most 86400"
        );
    }
}
