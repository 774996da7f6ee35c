//! `[delivery]`: how the queue worker delivers: how many messages at once, the retry
//! schedule, how long a message may stay queued before it bounces, and the SMTP client's
//! timeouts (RFC 5321 §4.5.3.2). Durations are seconds (fractions allowed: `0.5`).
//!
//! Where mail goes (`[gateway] relay`, empty for the local Maildirs) is the gateway's key.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::relay::Timeouts;

/// The `[delivery]` section as written in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Most messages delivered at once (one connection to the next hop each).
    pub concurrency: usize,
    /// How long a message may wait for its recipients before it bounces, in seconds (5 days).
    #[serde(with = "sg_common::seconds")]
    pub queue_lifetime: Duration,
    /// Wait before the first retry, in seconds (each later retry waits twice as long).
    #[serde(with = "sg_common::seconds")]
    pub retry_first: Duration,
    /// Longest wait between two retries, in seconds.
    #[serde(with = "sg_common::seconds")]
    pub retry_max: Duration,
    /// Longest wait for the TCP connection to the next hop, in seconds.
    #[serde(with = "sg_common::seconds")]
    pub connect_timeout: Duration,
    /// Longest wait for the next hop's greeting, EHLO, MAIL and RCPT replies, in seconds.
    #[serde(with = "sg_common::seconds")]
    pub command_timeout: Duration,
    /// Longest wait for the reply to DATA (the 354), in seconds.
    #[serde(with = "sg_common::seconds")]
    pub data_start_timeout: Duration,
    /// Longest wait for each block of message content to be sent, in seconds.
    #[serde(with = "sg_common::seconds")]
    pub data_block_timeout: Duration,
    /// Longest wait for the reply after the final dot, in seconds.
    #[serde(with = "sg_common::seconds")]
    pub data_end_timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        let t = Timeouts::default();
        DeliveryConfig {
            concurrency: 16,
            // RFC 5321 §4.5.4.1: give up after at least 4-5 days.
            queue_lifetime: Duration::from_secs(5 * 24 * 3600),
            retry_first: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            connect_timeout: t.connect,
            command_timeout: t.command,
            data_start_timeout: t.data_start,
            data_block_timeout: t.data_block,
            data_end_timeout: t.data_end,
        }
    }
}

/// A problem with one `[delivery]` key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery.{key}: {message}")]
pub struct ConfigError {
    /// The key inside `[delivery]`.
    pub key: &'static str,
    /// What is wrong, with the value involved.
    pub message: String,
}

/// No wait here needs more than a year; a bound also keeps deadlines from overflowing.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

impl DeliveryConfig {
    /// Checks every key and reports every problem at once.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.concurrency == 0 {
            errors.push(ConfigError {
                key: "concurrency",
                message: "0 is not allowed, must be at least 1".to_string(),
            });
        }
        for (key, value) in [
            ("queue_lifetime", self.queue_lifetime),
            ("retry_first", self.retry_first),
            ("retry_max", self.retry_max),
            ("connect_timeout", self.connect_timeout),
            ("command_timeout", self.command_timeout),
            ("data_start_timeout", self.data_start_timeout),
            ("data_block_timeout", self.data_block_timeout),
            ("data_end_timeout", self.data_end_timeout),
        ] {
            if let Some(message) = sg_common::seconds::problem(value, MAX_DURATION) {
                errors.push(ConfigError { key, message });
            }
        }
        if self.retry_max < self.retry_first {
            errors.push(ConfigError {
                key: "retry_max",
                message: format!(
                    "{} seconds is less than retry_first ({})",
                    self.retry_max.as_secs_f64(),
                    self.retry_first.as_secs_f64()
                ),
            });
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The SMTP client's timeouts.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: self.connect_timeout,
            command: self.command_timeout,
            data_start: self.data_start_timeout,
            data_block: self.data_block_timeout,
            data_end: self.data_end_timeout,
        }
    }

    /// The wait before the retry that follows attempt number `attempts` (1 for the first
    /// attempt): `retry_first`, doubling each time, at most `retry_max`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.retry_first
            .saturating_mul(1 << doublings)
            .min(self.retry_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_follow_rfc_5321() {
        let c = DeliveryConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!(c.concurrency, 16);
        assert_eq!(c.queue_lifetime, Duration::from_secs(432_000));
        assert_eq!(c.data_end_timeout, Duration::from_secs(600));
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let c = DeliveryConfig::default();
        let secs: Vec<u64> = (1..=8).map(|n| c.backoff(n).as_secs()).collect();
        assert_eq!(secs, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(c.backoff(u32::MAX), Duration::from_secs(3600));
    }

    #[test]
    fn every_bad_key_is_reported_together() {
        let c = DeliveryConfig {
            concurrency: 0,
            retry_first: Duration::from_secs(10),
            retry_max: Duration::from_secs(5),
            connect_timeout: Duration::ZERO,
            ..DeliveryConfig::default()
        };
        let keys: Vec<_> = c.validate().unwrap_err().iter().map(|e| e.key).collect();
        assert_eq!(keys, ["concurrency", "connect_timeout", "retry_max"]);
    }
}
