//! `[auth]`: whether the gateway verifies senders, under which authserv-id, with which
//! resolver, for how long at most.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// `[auth]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Verify SPF, DKIM, ARC and DMARC and write an `Authentication-Results` header.
    pub enabled: bool,
    /// Our authserv-id (RFC 8601 §2.5), "" = the `[smtp] hostname`. Incoming
    /// `Authentication-Results` headers claiming it are removed.
    pub authserv_id: String,
    /// DNS server as `IP:PORT` (UDP, then TCP), "" = the system's `/etc/resolv.conf`.
    pub resolver: String,
    /// Most seconds the verification of one message may take (then all are `temperror`).
    /// Past it the message goes on, judged without sender authentication.
    pub timeout_secs: u64,
    /// Evaluate SPF for peers on loopback/private addresses (false: no SPF result for them).
    /// Such a peer is never in a published record: it is an internal hop or host, and its
    /// SPF result says nothing. DKIM, ARC and DMARC are verified for every peer.
    pub spf_for_private_peers: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            enabled: true,
            authserv_id: String::new(),
            resolver: String::new(),
            timeout_secs: 5,
            spf_for_private_peers: false,
        }
    }
}

impl AuthConfig {
    /// Every problem as `(key, message)`, keys relative to the section (`"resolver"`).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.authserv_id.is_empty() && !is_authserv_id(&self.authserv_id) {
            out.push((
                "authserv_id",
                format!(
                    "{:?} is not an authserv-id: one word such as the host name",
                    self.authserv_id
                ),
            ));
        }
        if let Err(e) = self.resolver_addr() {
            out.push(("resolver", e));
        }
        if self.timeout_secs == 0 {
            out.push(("timeout_secs", "must be greater than 0".to_string()));
        }
        out
    }

    /// The configured resolver address; `None` for the system configuration.
    pub fn resolver_addr(&self) -> Result<Option<SocketAddr>, String> {
        let r = self.resolver.trim();
        if r.is_empty() {
            return Ok(None);
        }
        r.parse::<SocketAddr>().map(Some).map_err(|_| {
            format!("{r:?} is not IP:PORT (e.g. \"127.0.0.1:53\" or \"[::1]:53\"); \"\" = system")
        })
    }
}

/// Whether `id` can be written as the authserv-id of a header (a dot-atom-like token).
pub(crate) fn is_authserv_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_problems_are_all_reported() {
        assert!(AuthConfig::default().problems().is_empty());
        let bad = AuthConfig {
            authserv_id: "mx example; x".into(),
            resolver: "localhost".into(),
            timeout_secs: 0,
            ..AuthConfig::default()
        };
        let keys: Vec<_> = bad.problems().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["authserv_id", "resolver", "timeout_secs"]);
        let ok = AuthConfig {
            resolver: "[::1]:5353".into(),
            ..AuthConfig::default()
        };
        assert_eq!(
            ok.resolver_addr().unwrap(),
            Some("[::1]:5353".parse().unwrap())
        );
    }
}
