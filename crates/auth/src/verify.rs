//! The verifier: mail-auth's SPF, DKIM, ARC and DMARC over one message and its envelope,
//! bounded by a timeout and isolated in its own task.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mail_auth::dkim::DkimError;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, DkimOutput, DkimResult, DmarcResult, MessageAuthenticator, SpfOutput,
    SpfResult,
};

use crate::config::{AuthConfig, is_authserv_id};
use crate::headers::write_without_forged;
use crate::outcome::{AuthOutcome, DkimCheck, DmarcCheck, DmarcPolicy, SpfCheck, Status};

/// Why a [`Verifier`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A setting is unusable.
    #[error("[auth] {0}")]
    Config(String),
    /// The resolver could not be set up (e.g. no usable /etc/resolv.conf).
    #[error("DNS resolver: {0}")]
    Resolver(String),
}

/// Verifies messages; cheap to clone and share between sessions.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    auth: MessageAuthenticator,
    authserv_id: String,
    timeout: Duration,
    spf_for_private_peers: bool,
}

/// A message as the gateway passes it on: our header on top, forged ones removed.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// `Authentication-Results: <our id>; …` + the message without forged fields.
    pub message: Vec<u8>,
    /// What verification found.
    pub outcome: AuthOutcome,
    /// How many incoming fields claiming our authserv-id were removed.
    pub forged_removed: usize,
}

impl Verifier {
    /// Builds the verifier. `cfg.authserv_id` must be set (the caller fills an empty one
    /// with its host name); the resolver is `cfg.resolver` or the system's.
    pub fn new(cfg: &AuthConfig) -> Result<Verifier, AuthError> {
        if let Some((key, problem)) = cfg.problems().into_iter().next() {
            return Err(AuthError::Config(format!("{key}: {problem}")));
        }
        if !is_authserv_id(&cfg.authserv_id) {
            return Err(AuthError::Config(
                "authserv_id is empty: set it, or the [smtp] hostname".into(),
            ));
        }
        let timeout = Duration::from_secs(cfg.timeout_secs);
        let auth = match cfg.resolver_addr().map_err(AuthError::Config)? {
            None => MessageAuthenticator::new_system_conf(),
            Some(addr) => MessageAuthenticator::new(resolver_at(addr), resolver_opts(timeout)),
        }
        .map_err(|e| AuthError::Resolver(e.to_string()))?;
        Ok(Verifier {
            inner: Arc::new(Inner {
                auth,
                authserv_id: cfg.authserv_id.to_ascii_lowercase(),
                timeout,
                spf_for_private_peers: cfg.spf_for_private_peers,
            }),
        })
    }

    /// Our authserv-id (lowercase).
    pub fn authserv_id(&self) -> &str {
        &self.inner.authserv_id
    }

    /// Verifies SPF (HELO and MAIL FROM identities), every DKIM signature, the ARC chain and
    /// DMARC (alignment and policy) of `raw`, sent by `peer` with `helo` and `mail_from`
    /// ("" = null sender). Never fails: past the timeout, or if the verification task
    /// panics, every method is `temperror`.
    pub async fn verify(
        &self,
        raw: &[u8],
        peer: IpAddr,
        helo: &str,
        mail_from: &str,
    ) -> AuthOutcome {
        let inner = self.inner.clone();
        let (raw, h, m) = (raw.to_vec(), helo.to_string(), mail_from.to_string());
        let task = tokio::spawn(async move { inner.verify(&raw, peer, &h, &m).await });
        let abort = task.abort_handle();
        match tokio::time::timeout(self.inner.timeout, task).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => AuthOutcome::temperror(mail_from, "verification failed"),
            Err(_) => {
                abort.abort();
                AuthOutcome::temperror(mail_from, "verification timed out")
            }
        }
    }

    /// [`Verifier::verify`], then the message as it should be judged and stored: our
    /// `Authentication-Results` on top, incoming fields claiming our id removed.
    pub async fn authenticate(
        &self,
        raw: &[u8],
        peer: IpAddr,
        helo: &str,
        mail_from: &str,
    ) -> Authenticated {
        let outcome = self.verify(raw, peer, helo, mail_from).await;
        let header = outcome.header_field(self.authserv_id());
        let mut message = Vec::with_capacity(header.len() + raw.len());
        message.extend_from_slice(header.as_bytes());
        let forged_removed = write_without_forged(&mut message, raw, self.authserv_id());
        Authenticated {
            message,
            outcome,
            forged_removed,
        }
    }
}

fn resolver_at(addr: SocketAddr) -> ResolverConfig {
    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
    for c in &mut ns.connections {
        c.port = addr.port();
    }
    ResolverConfig::from_name_servers(vec![ns])
}

fn resolver_opts(timeout: Duration) -> ResolverOpts {
    let mut opts = ResolverOpts::default();
    // One try per query within the overall budget; the verifier's own timeout still rules.
    opts.timeout = opts.timeout.min(timeout);
    opts
}

/// Whether SPF can say anything about this peer: public unicast addresses only.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

/// Whether the HELO name is a domain SPF can look up (not an address literal).
fn helo_is_domain(helo: &str) -> bool {
    helo.contains('.') && !helo.starts_with('[') && helo.parse::<IpAddr>().is_err()
}

impl Inner {
    async fn verify(&self, raw: &[u8], peer: IpAddr, helo: &str, mail_from: &str) -> AuthOutcome {
        let spf = self.spf_for_private_peers || is_public(peer);
        let host = self.authserv_id.as_str();
        let spf_helo = async {
            if spf && helo_is_domain(helo) {
                let p = SpfParameters::verify_ehlo(peer, helo, host);
                Some(self.auth.verify_spf(p).await)
            } else {
                None
            }
        };
        let spf_mail = async {
            if spf && !mail_from.is_empty() {
                let p = SpfParameters::verify_mail_from(peer, helo, host, mail_from);
                Some(self.auth.verify_spf(p).await)
            } else {
                None
            }
        };
        let message = AuthenticatedMessage::parse(raw);
        let dkim = async {
            match &message {
                Some(m) => self.auth.verify_dkim(m).await,
                None => Vec::new(),
            }
        };
        let arc = async {
            match &message {
                Some(m) => arc_status(self.auth.verify_arc(m).await.result()),
                None => Status::None,
            }
        };
        let (spf_helo, spf_mail, dkim, arc) = tokio::join!(spf_helo, spf_mail, dkim, arc);
        // DMARC's SPF identity: MAIL FROM, or the HELO name for the null sender (RFC 7489 §4.1).
        let (spf_for_dmarc, spf_domain) = match (&spf_mail, &spf_helo) {
            (Some(s), _) => (s.clone(), domain_of(mail_from)),
            (None, Some(s)) if mail_from.is_empty() => (s.clone(), helo),
            _ => (SpfOutput::default(), domain_of(mail_from)),
        };
        let dmarc = match &message {
            Some(m) => {
                let p = DmarcParameters::new(m, &dkim, spf_domain, &spf_for_dmarc);
                let out = self.auth.verify_dmarc(p).await;
                DmarcCheck {
                    result: dmarc_status(&out.result()),
                    from_domain: out.domain().to_ascii_lowercase(),
                    policy: out.dmarc_record().map(|_| match out.policy() {
                        Policy::Reject => DmarcPolicy::Reject,
                        Policy::Quarantine => DmarcPolicy::Quarantine,
                        Policy::None | Policy::Unspecified => DmarcPolicy::None,
                    }),
                }
            }
            None => DmarcCheck {
                result: Status::None,
                from_domain: String::new(),
                policy: None,
            },
        };
        AuthOutcome {
            spf_mail_from: spf_mail.map(|s| spf_check(&s, mail_from)),
            spf_helo: spf_helo.map(|s| spf_check(&s, helo)),
            dkim: dkim.iter().map(dkim_check).collect(),
            arc,
            dmarc,
            error: None,
        }
    }
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, d)| d)
}

fn spf_check(out: &SpfOutput, identity: &str) -> SpfCheck {
    let result = match out.result() {
        SpfResult::Pass => Status::Pass,
        SpfResult::Fail => Status::Fail,
        SpfResult::SoftFail => Status::SoftFail,
        SpfResult::Neutral => Status::Neutral,
        SpfResult::TempError => Status::TempError,
        SpfResult::PermError => Status::PermError,
        SpfResult::None => Status::None,
    };
    SpfCheck {
        result,
        identity: identity.to_string(),
    }
}

fn dkim_check(out: &DkimOutput<'_>) -> DkimCheck {
    let (result, reason) = match out.result() {
        DkimResult::Pass => (Status::Pass, String::new()),
        // mail-auth calls a changed body "neutral"; it is a failed verification (RFC 8601 §2.7.1).
        DkimResult::Neutral(e @ mail_auth::Error::Dkim(DkimError::FailedBodyHashMatch)) => {
            (Status::Fail, e.to_string())
        }
        DkimResult::Neutral(e) => (Status::Neutral, e.to_string()),
        DkimResult::Fail(e) => (Status::Fail, e.to_string()),
        DkimResult::PermError(e) => (Status::PermError, e.to_string()),
        DkimResult::TempError(e) => (Status::TempError, e.to_string()),
        DkimResult::None => (Status::None, String::new()),
    };
    let (domain, selector) = out
        .signature()
        .map(|s| (s.d.to_ascii_lowercase(), s.s.clone()))
        .unwrap_or_default();
    DkimCheck {
        result,
        domain,
        selector,
        reason,
    }
}

/// RFC 8617 knows none, pass and fail; a broken or unverifiable chain is a fail.
fn arc_status(r: &DkimResult) -> Status {
    match r {
        DkimResult::Pass => Status::Pass,
        DkimResult::None => Status::None,
        DkimResult::TempError(_) => Status::TempError,
        DkimResult::Fail(_) | DkimResult::Neutral(_) | DkimResult::PermError(_) => Status::Fail,
    }
}

fn dmarc_status(r: &DmarcResult) -> Status {
    match r {
        DmarcResult::Pass => Status::Pass,
        DmarcResult::Fail(_) => Status::Fail,
        DmarcResult::TempError(_) => Status::TempError,
        DmarcResult::PermError(_) => Status::PermError,
        DmarcResult::None => Status::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_peers_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["192.0.2.1", "8.8.8.8", "2001:db8::1", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(!is_public("::ffff:127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn helo_literals_are_not_looked_up() {
        assert!(helo_is_domain("mail.example.org"));
        for h in ["[192.0.2.1]", "192.0.2.1", "localhost", ""] {
            assert!(!helo_is_domain(h), "{h}");
        }
    }
}
