//! The `[smtp]` settings the session enforces: sizes, counts, the host name it announces,
//! and what to do with bare CR/LF in message content.
//!
//! Raw [`Config`] comes from TOML (unknown keys are errors). [`Config::validate`] checks it
//! once and returns a [`ValidConfig`], the only thing a [`crate::Session`] accepts, so the
//! session never re-checks a value (e.g. a host name with a CRLF in it can never reach a
//! reply line).
//!
//! Two choices the RFCs leave open, decided here:
//! - **Long lines in DATA are accepted.** RFC 5321 §4.5.3.1.6 limits a text line to 1000
//!   octets, but mail from real senders (HTML one-liners, base64 without folding) breaks it,
//!   and Postfix accepts such lines too. Rejecting them would lose legitimate mail, and
//!   accepting them costs nothing: the decoder streams, and only `max_message_size` bounds
//!   what is kept. `max_line_length` therefore applies to command lines only.
//! - **Bare CR or LF in DATA is rejected by default** ([`BareNewlines::Reject`], as Sendmail
//!   8.18 does). Whatever the policy, only `<CR><LF>.<CR><LF>` ends DATA, so `\n.\n` and
//!   `\r.\r` cannot end a message early (SMTP smuggling, CVE-2023-51766 and its family).
//!   Rejecting also keeps such bytes from reaching a more lenient next hop.
//!   [`BareNewlines::Normalize`] accepts them and stores every bare CR or LF as CRLF (as
//!   Postfix 3.9's `smtpd_forbid_bare_newline = normal`), which is equally safe downstream.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What the session does with a CR or LF in message content that is not part of a CRLF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BareNewlines {
    /// Read to the end of DATA, then answer `550 5.6.0`.
    #[default]
    Reject,
    /// Accept, storing each bare CR or LF as CRLF.
    Normalize,
}

/// The `[smtp]` section as written in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Name announced in the greeting, EHLO and 421 replies.
    pub hostname: String,
    /// Largest message accepted, in bytes after dot-unstuffing; advertised as `SIZE`.
    pub max_message_size: usize,
    /// Most recipients in one transaction; one more gets `452 4.5.3`.
    pub max_recipients: usize,
    /// Longest command line, CRLF included; a longer one gets `500 5.5.2`.
    pub max_line_length: usize,
    /// Negative replies to commands before the session answers `421 4.7.0` and closes.
    pub max_errors: usize,
    /// Bare CR or LF in message content.
    pub bare_newlines: BareNewlines,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hostname: "localhost".to_string(),
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 100,
            // RFC 5321 §4.5.3.1.5: a text line is at most 1000 octets with its CRLF.
            max_line_length: 1000,
            // Postfix's smtpd_hard_error_limit.
            max_errors: 20,
            bare_newlines: BareNewlines::Reject,
        }
    }
}

/// RFC 5321 §4.5.3.1.4: a command line may be 512 octets; a server must accept that much.
const MIN_LINE_LENGTH: usize = 512;
/// A command line never needs more; a bigger bound only costs memory per session.
const MAX_LINE_LENGTH: usize = 64 * 1024;

/// A problem with one `[smtp]` key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// The key inside `[smtp]`, e.g. `max_line_length`.
    pub key: &'static str,
    /// What is wrong, with the value involved.
    pub message: String,
}

impl Config {
    /// Checks every key and reports every problem at once.
    pub fn validate(self) -> Result<ValidConfig, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut fail = |key, message: String| errors.push(ConfigError { key, message });
        if !is_host_name(&self.hostname) {
            fail(
                "hostname",
                format!("{:?} is not a host name", self.hostname),
            );
        }
        if !(MIN_LINE_LENGTH..=MAX_LINE_LENGTH).contains(&self.max_line_length) {
            fail(
                "max_line_length",
                format!(
                    "{} is outside {MIN_LINE_LENGTH}..={MAX_LINE_LENGTH}",
                    self.max_line_length
                ),
            );
        }
        for (key, value) in [
            ("max_message_size", self.max_message_size),
            ("max_recipients", self.max_recipients),
            ("max_errors", self.max_errors),
        ] {
            if value == 0 {
                fail(key, "0 is not allowed, must be at least 1".to_string());
            }
        }
        if errors.is_empty() {
            Ok(ValidConfig(Arc::new(self)))
        } else {
            Err(errors)
        }
    }
}

/// Letters, digits, hyphens and dots, in labels of 1 to 63 characters, 255 at most overall.
fn is_host_name(name: &str) -> bool {
    name.len() <= 255
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A checked [`Config`], cheap to clone and share between sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidConfig(Arc<Config>);

impl std::ops::Deref for ValidConfig {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.0
    }
}

impl Default for ValidConfig {
    fn default() -> Self {
        ValidConfig(Arc::new(Config::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(config: Config) -> Vec<&'static str> {
        config
            .validate()
            .expect_err("config should be invalid")
            .iter()
            .map(|e| e.key)
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let config = Config::default().validate().unwrap();
        assert_eq!(config.max_message_size, 26_214_400);
        assert_eq!(config.max_recipients, 100);
        assert_eq!(config.max_line_length, 1000);
        assert_eq!(config.hostname, "localhost");
    }

    #[test]
    fn valid_config_default_equals_validated_defaults() {
        assert_eq!(
            ValidConfig::default(),
            Config::default().validate().unwrap()
        );
    }

    #[test]
    fn empty_toml_gives_defaults() {
        let config: Config = toml::from_str("").unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn toml_sets_keys() {
        let config: Config =
            toml::from_str("max_recipients = 5\nbare_newlines = \"normalize\"").unwrap();
        assert_eq!(config.max_recipients, 5);
        assert_eq!(config.bare_newlines, BareNewlines::Normalize);
    }

    #[test]
    fn unknown_key_is_rejected() {
        let err = toml::from_str::<Config>("max_recipient = 5").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn unknown_bare_newline_policy_is_rejected() {
        assert!(toml::from_str::<Config>("bare_newlines = \"accept\"").is_err());
    }

    #[test]
    fn host_name_with_crlf_is_invalid() {
        let config = Config {
            hostname: "mx.example.org\r\n250 ok".into(),
            ..Config::default()
        };
        assert_eq!(invalid(config), ["hostname"]);
    }

    #[test]
    fn host_name_with_empty_label_is_invalid() {
        let config = Config {
            hostname: "mx..example.org".into(),
            ..Config::default()
        };
        assert_eq!(invalid(config), ["hostname"]);
    }

    #[test]
    fn host_name_with_hyphen_and_digits_is_valid() {
        let config = Config {
            hostname: "mx-1.example.org".into(),
            ..Config::default()
        };
        assert!(config.validate().is_ok());
    }

    #[test]
    fn line_length_below_rfc_minimum_is_invalid() {
        let config = Config {
            max_line_length: 511,
            ..Config::default()
        };
        let errors = config.validate().unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "max_line_length: 511 is outside 512..=65536"
        );
    }

    #[test]
    fn line_length_at_rfc_minimum_is_valid() {
        let config = Config {
            max_line_length: 512,
            ..Config::default()
        };
        assert!(config.validate().is_ok());
    }

    #[test]
    fn zero_limits_are_all_reported() {
        let config = Config {
            max_message_size: 0,
            max_recipients: 0,
            max_errors: 0,
            ..Config::default()
        };
        assert_eq!(
            invalid(config),
            ["max_message_size", "max_recipients", "max_errors"]
        );
    }
}
