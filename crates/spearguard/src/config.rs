//! The whole configuration: every crate's section composed into one TOML file.
//!
//! Precedence: built-in defaults, then the file, then command-line flags. No file (or an
//! empty one) is a complete, valid configuration. Loading reports every problem at once.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use sg_detect::analysers::{self, AnalysersConfig, BuildOptions};
use sg_detect::{ConfigError, DetectConfig, Engine, Organisation, OrganisationConfig};
use sg_message::Limits;

/// The commented default configuration, shipped as `config/spearguard.example.toml`.
pub(crate) const EXAMPLE: &str = include_str!("../../../config/spearguard.example.toml");

/// `spearguard.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    /// `[organisation]`: own domains and protected names.
    pub(crate) organisation: OrganisationConfig,
    /// `[limits]`: how much of a message the parser examines.
    pub(crate) limits: Limits,
    /// `[detect]`: thresholds, score overrides, group caps, composites.
    pub(crate) detect: DetectConfig,
    /// `[analysers.*]`: each analyser's settings.
    pub(crate) analysers: AnalysersConfig,
    /// `[gateway]`: where `serve` keeps its data.
    pub(crate) gateway: GatewayConfig,
    /// `[store]`: the database (message log; later history, campaigns, alerts).
    pub(crate) store: StoreConfig,
    /// `[smtp]`: the SMTP session (hostname, size and recipient limits, bare newlines).
    pub(crate) smtp: sg_smtp::Config,
    /// `[smtp_server]`: the SMTP listener (address, sessions, timeouts, STARTTLS, memory budget).
    pub(crate) smtp_server: sg_smtp::ServerConfig,
    /// `[milter_server]`: the milter listener for Postfix (address, limits, timeouts).
    pub(crate) milter_server: sg_milter::server::ServerConfig,
    /// `[http]`: the HTTP API, health check and metrics (address, token).
    pub(crate) http: sg_web::Config,
    /// `[delivery]`: concurrency, retries, queue lifetime, next-hop timeouts.
    pub(crate) delivery: sg_deliver::DeliveryConfig,
    /// `[auth]`: SPF, DKIM, ARC and DMARC verification by the gateway.
    pub(crate) auth: sg_auth::AuthConfig,
}

/// `[gateway]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct GatewayConfig {
    /// Folder for the spool, quarantine and local mailboxes (`mailboxes/<address>/`).
    pub(crate) data_dir: PathBuf,
    /// Put in front of the Subject of mail delivered with the verdict `tag` ("" = leave it).
    pub(crate) tag_subject_prefix: String,
    /// Next hop for accepted mail, `host:port` ("" = the local Maildirs under data_dir).
    pub(crate) relay: String,
}

/// `[store]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct StoreConfig {
    /// Where the database lives: `sqlite:PATH`; empty = `sqlite:` DATA/spearguard.db.
    pub(crate) url: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            data_dir: PathBuf::from("./data"),
            tag_subject_prefix: "[SUSPICIOUS] ".to_string(),
            relay: String::new(),
        }
    }
}

impl Config {
    /// Reads `path` (or `$SPEARGUARD_CONFIG`), else the defaults. Syntax and unknown keys are
    /// errors here; semantic checks happen in [`Config::build`].
    pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let path: Option<PathBuf> = path
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("SPEARGUARD_CONFIG").map(PathBuf::from));
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))
    }

    /// Validates everything and builds the runtime engine and organisation (with the staff
    /// directory file, when `[organisation] directory` names one).
    pub(crate) fn build(&self, opts: &BuildOptions) -> Result<Runtime, Vec<ConfigError>> {
        let mut errors = self.validate();
        let directory = crate::staff::from_config(&self.organisation).unwrap_or_else(|e| {
            errors.push(ConfigError::new("organisation.directory", e));
            sg_directory::Directory::default()
        });
        let analysers = match analysers::build(&self.analysers, opts) {
            Ok(a) => a,
            Err(e) => {
                errors.extend(e);
                Vec::new()
            }
        };
        let engine = match Engine::new(analysers, &self.detect) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.extend(e);
                None
            }
        };
        match engine {
            Some(engine) if errors.is_empty() => Ok(Runtime {
                engine,
                org: crate::staff::organisation(&self.organisation, &directory),
                directory,
                limits: self.limits.clone(),
            }),
            _ => Err(errors),
        }
    }

    fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for d in &self.organisation.domains {
            if sg_message::Domain::parse(d).is_none() {
                errors.push(ConfigError::new(
                    "organisation.domains",
                    format!("{d:?} is not a domain name"),
                ));
            }
        }
        let l = &self.limits;
        for (key, v) in [
            ("limits.max_message_size", l.max_message_size),
            ("limits.max_parts", l.max_parts),
            ("limits.max_text_bytes", l.max_text_bytes),
        ] {
            if v == 0 {
                errors.push(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if let Some(problem) = relay_problem(&self.gateway.relay) {
            errors.push(ConfigError::new("gateway.relay", problem));
        }
        if let Err(problems) = self.delivery.validate() {
            errors.extend(
                problems
                    .into_iter()
                    .map(|e| ConfigError::new(format!("delivery.{}", e.key), e.message)),
            );
        }
        for (key, problem) in self.auth.problems() {
            errors.push(ConfigError::new(format!("auth.{key}"), problem));
        }
        errors
    }

    /// The `[auth]` settings for the gateway, `None` when disabled. An empty authserv-id
    /// becomes the `[smtp] hostname`, and that id is added to the auth analyser's trusted
    /// ids: the gateway removes incoming headers that claim it, so its own are believable.
    pub(crate) fn gateway_auth(&mut self) -> Option<sg_auth::AuthConfig> {
        if !self.auth.enabled {
            return None;
        }
        let mut auth = self.auth.clone();
        if auth.authserv_id.is_empty() {
            auth.authserv_id = self.smtp.hostname.clone();
        }
        let trusted = &mut self.analysers.auth.trusted_authserv_ids;
        if !trusted
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&auth.authserv_id))
        {
            trusted.push(auth.authserv_id.clone());
        }
        Some(auth)
    }

    /// Builds the runtime, turning config errors into one readable error.
    pub(crate) fn build_runtime(&self, opts: &BuildOptions) -> anyhow::Result<Runtime> {
        match self.build(opts) {
            Ok(rt) => Ok(rt),
            Err(errors) => bail!(
                "invalid configuration:\n{}",
                errors
                    .iter()
                    .map(|e| format!("  {e}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        }
    }
}

/// What is wrong with a `[gateway] relay` value, if anything: it must be empty or
/// `host:port` (`[v6 address]:port` for IPv6).
fn relay_problem(relay: &str) -> Option<String> {
    if relay.is_empty() {
        return None;
    }
    let ok = relay.rsplit_once(':').is_some_and(|(host, port)| {
        let host_ok = match host.strip_prefix('[') {
            Some(v6) => v6
                .strip_suffix(']')
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok()),
            None => {
                !host.is_empty()
                    && !host.contains(':')
                    && !host.chars().any(|c| c.is_whitespace() || c.is_control())
            }
        };
        host_ok && port.parse::<u16>().is_ok_and(|p| p > 0)
    });
    (!ok).then(|| format!("{relay:?} is not host:port"))
}

/// Runtime objects built from a validated config.
pub(crate) struct Runtime {
    /// The detection engine.
    pub(crate) engine: Engine,
    /// The organisation being protected.
    pub(crate) org: Organisation,
    /// Parser limits.
    pub(crate) limits: Limits,
    /// The staff directory (empty when none is configured or stored).
    pub(crate) directory: sg_directory::Directory,
}

impl Runtime {
    /// Uses `directory` (the stored copy, for `serve`): its domains and staff names join `org`.
    pub(crate) fn set_directory(
        &mut self,
        org: &OrganisationConfig,
        directory: sg_directory::Directory,
    ) {
        self.org = crate::staff::organisation(org, &directory);
        self.directory = directory;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key path in a TOML tree ("detect.groups.links.max_score"; arrays by index).
    fn key_paths(v: &toml::Value, prefix: &str, out: &mut Vec<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.push(p.clone());
                    key_paths(v, &p, out);
                }
            }
            toml::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    key_paths(v, &format!("{prefix}[{i}]"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn example_config_has_every_key_with_the_default_value() {
        let example: toml::Value = toml::from_str(EXAMPLE).expect("example parses as TOML");
        let defaults = toml::Value::try_from(Config::default()).expect("defaults serialise");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        key_paths(&example, "", &mut a);
        key_paths(&defaults, "", &mut b);
        a.sort();
        b.sort();
        assert_eq!(a, b, "run `python3 scripts/gen-example-config.py`");
        let parsed: Config = toml::from_str(EXAMPLE).expect("example is a valid config");
        assert!(
            parsed == Config::default(),
            "config/spearguard.example.toml values differ from Config::default(): \
             run `python3 scripts/gen-example-config.py`"
        );
    }

    #[test]
    fn relay_must_be_empty_or_host_and_port() {
        for good in ["", "127.0.0.1:25", "mail.example.net:2525", "[::1]:25"] {
            assert_eq!(relay_problem(good), None, "{good}");
        }
        for bad in [
            "mail.example.net",
            ":25",
            "host:0",
            "host:x",
            "::1:25",
            "a b:25",
        ] {
            assert!(relay_problem(bad).is_some(), "{bad}");
        }
        let cfg: Config =
            toml::from_str("[gateway]\nrelay = \"nowhere\"\n[delivery]\nconcurrency = 0\n")
                .expect("syntax is fine");
        let keys: Vec<String> = cfg.validate().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["gateway.relay", "delivery.concurrency"]);
    }

    #[test]
    fn empty_file_is_the_default_config() {
        let cfg: Config = toml::from_str("").expect("empty config");
        assert!(cfg.build(&BuildOptions::default()).is_ok());
    }
}
