//! Scores SPF, DKIM and DMARC results that a trusted upstream verifier wrote into
//! `Authentication-Results` headers (RFC 8601); `arc=` results are parsed but not scored. Phishing that forges a real domain in From
//! fails DMARC; phishing from a throwaway domain usually has no authentication aligned with
//! the name it shows. This analyser does no DNS: it reads what a verifier concluded —
//! `serve`'s own (sg-auth writes the header and `serve` trusts its authserv-id) or upstream's.
//!
//! Anyone can write an `Authentication-Results` header, so only headers whose authserv-id is
//! listed in `trusted_authserv_ids` count (RFC 8601 §5: the border MTA must strip headers
//! that claim its own id from incoming mail). **The list is empty by default, and then this
//! analyser reads nothing and stays silent** — except in `serve` with `[auth]` enabled, which
//! adds its own authserv-id. Add the ids of other verifiers of yours to believe them too.

use serde::{Deserialize, Serialize};
use sg_message::{Domain, Message};

use crate::analyser::{Analyser, AnalyserError, Context};
use crate::engine::ConfigError;
use crate::signal::{Group, Location, Signal, SignalDef};

mod header;

pub use header::{AuthResultsHeader, MethodResult, parse_authentication_results};
use header::{Lead, lead};

/// The SPF check failed: the sending host is not allowed for the envelope domain.
pub static SPF_FAIL: SignalDef = SignalDef {
    name: "SPF_FAIL",
    score: 1.5,
    group: Group::Auth,
    description: "SPF failed: the sending host is not authorised for the envelope sender's domain",
};

/// SPF soft-failed (`~all`).
pub static SPF_SOFTFAIL: SignalDef = SignalDef {
    name: "SPF_SOFTFAIL",
    score: 0.5,
    group: Group::Auth,
    description: "SPF soft-failed: the domain says the host is probably not authorised",
};

/// A DKIM signature is present but did not verify, and none did.
pub static DKIM_FAIL: SignalDef = SignalDef {
    name: "DKIM_FAIL",
    score: 1.0,
    group: Group::Auth,
    description: "A DKIM signature failed to verify and no other signature passed",
};

/// DMARC failed for the From domain; heavier when the domain publishes reject or quarantine.
pub static DMARC_FAIL: SignalDef = SignalDef {
    name: "DMARC_FAIL",
    score: 4.0,
    group: Group::Auth,
    description: "DMARC failed: neither SPF nor DKIM vouches for the From domain (full weight when the domain asks for reject or quarantine)",
};

/// Nothing that passed is aligned with the From domain.
pub static AUTH_NONE_ALIGNED: SignalDef = SignalDef {
    name: "AUTH_NONE_ALIGNED",
    score: 1.0,
    group: Group::Auth,
    description: "No DKIM or SPF pass for the From address's domain",
};

/// DKIM passed for the From domain (weakly reassuring: attackers sign their own domains too).
pub static DKIM_ALIGNED_PASS: SignalDef = SignalDef {
    name: "DKIM_ALIGNED_PASS",
    score: -0.5,
    group: Group::Auth,
    description: "A DKIM signature of the From domain verified (the mail is really from that domain, whoever owns it)",
};

static SIGNALS: &[&SignalDef] = &[
    &SPF_FAIL,
    &SPF_SOFTFAIL,
    &DKIM_FAIL,
    &DMARC_FAIL,
    &AUTH_NONE_ALIGNED,
    &DKIM_ALIGNED_PASS,
];

/// `[analysers.auth]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Whether the analyser runs.
    pub enabled: bool,
    /// authserv-ids (RFC 8601 §2.5) of the verifiers whose `Authentication-Results` are
    /// believed, compared case-insensitively, e.g. `["mx.example.org"]`. Empty (the default):
    /// no header is believed and the analyser emits nothing. List only hosts of your own
    /// that remove incoming headers carrying their id.
    pub trusted_authserv_ids: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            trusted_authserv_ids: Vec::new(),
        }
    }
}

/// Scores authentication results from trusted verifiers.
#[derive(Debug)]
pub struct AuthAnalyser {
    trusted: Vec<String>,
}

impl Analyser for AuthAnalyser {
    fn id(&self) -> &'static str {
        "auth"
    }

    fn signals(&self) -> &'static [&'static SignalDef] {
        SIGNALS
    }

    fn analyse(&self, msg: &Message, _cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError> {
        if self.trusted.is_empty() {
            return Ok(Vec::new());
        }
        let mut results = Vec::new();
        for value in msg.headers_named("authentication-results") {
            // Most headers come from elsewhere: skip them before parsing.
            match lead(value) {
                Lead::NoId => continue,
                Lead::Id(id) if !self.trusts(id) => continue,
                _ => {}
            }
            let h = parse_authentication_results(value);
            if h.authserv_id.as_deref().is_some_and(|id| self.trusts(id)) {
                results.extend(h.results);
            }
        }
        let from = msg.from.as_ref().and_then(|m| m.domain.as_ref());
        Ok(assess(&results, from))
    }
}

impl AuthAnalyser {
    fn trusts(&self, id: &str) -> bool {
        self.trusted.iter().any(|t| t.eq_ignore_ascii_case(id))
    }
}

/// Turns trusted results into signals. `from` is the From address's domain.
fn assess(results: &[MethodResult], from: Option<&Domain>) -> Vec<Signal> {
    let mut out = Vec::new();
    let any = |m: &str, r: &str| results.iter().find(|x| x.is(m, r));
    let reg = from.map(Domain::registrable);
    let aligned = |d: Option<String>| {
        d.and_then(|d| Domain::parse(&d))
            .is_some_and(|d| Some(d.registrable()) == reg)
    };
    let dkim_aligned = results
        .iter()
        .any(|r| r.is("dkim", "pass") && aligned(dkim_domain(r)));
    let spf_aligned = results
        .iter()
        .any(|r| r.is("spf", "pass") && aligned(mailfrom_domain(r)));
    let dmarc_pass = any("dmarc", "pass").is_some();
    // An SPF failure on mail that DKIM vouches for is forwarding, not forgery (RFC 7489 §4.2).
    let spf = any("spf", "fail").or_else(|| any("spf", "softfail"));
    if let Some(r) = spf.filter(|_| !dkim_aligned && !dmarc_pass) {
        let def = if r.result == "fail" {
            &SPF_FAIL
        } else {
            &SPF_SOFTFAIL
        };
        let d = mailfrom_domain(r);
        let summary = format!("spf={} for {}", r.result, shown(&d));
        out.push(with_domain(Signal::new(def, summary), d));
    }
    if let Some(r) = any("dkim", "fail").or_else(|| any("dkim", "permerror"))
        && any("dkim", "pass").is_none()
    {
        let d = dkim_domain(r);
        let summary = format!("dkim={} for {}, no signature passed", r.result, shown(&d));
        out.push(with_domain(Signal::new(&DKIM_FAIL, summary), d));
    }
    let dmarc_fail = any("dmarc", "fail");
    if let Some(r) = dmarc_fail {
        let policy = dmarc_policy(r);
        let enforced = matches!(policy, "reject" | "quarantine");
        let d = r.property("header.from").map(str::to_ascii_lowercase);
        let summary = format!("dmarc=fail for {}, published policy {policy}", shown(&d));
        out.push(with_domain(
            Signal::new(&DMARC_FAIL, summary)
                .weighted(if enforced { 1.0 } else { 0.5 })
                .fact("policy", policy),
            d,
        ));
    }
    let Some(reg) = reg else {
        return out;
    };
    let d = Some(reg.to_string());
    // Only when SPF was evaluated: a verifier that skipped it (an internal peer on a private
    // address, for which no SPF record can speak) gives no evidence by its absence.
    let checked = results.iter().any(|r| r.method == "spf");
    if dkim_aligned {
        let summary = format!("dkim=pass for {reg}, the From domain");
        out.push(with_domain(Signal::new(&DKIM_ALIGNED_PASS, summary), d));
    } else if checked && !spf_aligned && !dmarc_pass && dmarc_fail.is_none() {
        // DMARC_FAIL already says the same, more strongly.
        let summary = format!("no SPF or DKIM pass for {reg}, the From domain");
        out.push(with_domain(Signal::new(&AUTH_NONE_ALIGNED, summary), d));
    }
    out
}

/// Points at the header and records the domain concerned, when the verifier named one.
fn with_domain(s: Signal, domain: Option<String>) -> Signal {
    let s = s.at(Location::Header("Authentication-Results"));
    match domain {
        Some(d) if !d.is_empty() => s.fact("domain", d),
        _ => s,
    }
}

fn shown(d: &Option<String>) -> &str {
    d.as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or("an unnamed domain")
}

/// The DKIM signing domain: `header.d`, else the domain of `header.i`.
fn dkim_domain(r: &MethodResult) -> Option<String> {
    r.property("header.d")
        .or_else(|| {
            r.property("header.i")
                .map(|i| i.rsplit('@').next().unwrap_or(i))
        })
        .map(str::to_ascii_lowercase)
}

/// The SPF-checked domain: `smtp.mailfrom` (an address or a domain).
fn mailfrom_domain(r: &MethodResult) -> Option<String> {
    r.property("smtp.mailfrom")
        .map(|m| m.rsplit('@').next().unwrap_or(m).to_ascii_lowercase())
}

/// The policy the From domain publishes, as the verifier reported it: the
/// `policy.published-domain-policy` property, `p=` in a comment (OpenDMARC, Gmail), or
/// Microsoft's `action=`. "unknown" when none is stated.
fn dmarc_policy(r: &MethodResult) -> &'static str {
    let stated = r
        .property("policy.published-domain-policy")
        .or_else(|| {
            r.comment
                .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
                .find_map(|w| w.strip_prefix("p=").or_else(|| w.strip_prefix("P=")))
        })
        .or_else(|| r.property("action"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    match stated.as_str() {
        "reject" | "oreject" => "reject",
        "quarantine" | "pct.quarantine" => "quarantine",
        "none" => "none",
        _ => "unknown",
    }
}

/// Builds the analyser from its config; `None` when disabled.
pub(crate) fn build(cfg: &Config) -> super::Built {
    if !cfg.enabled {
        return Ok(None);
    }
    let mut trusted = Vec::new();
    let mut errors = Vec::new();
    for (i, id) in cfg.trusted_authserv_ids.iter().enumerate() {
        let id = id.trim().trim_end_matches('.').to_ascii_lowercase();
        if id.is_empty() || id.contains(char::is_whitespace) || id.contains(';') {
            errors.push(ConfigError::new(
                format!("analysers.auth.trusted_authserv_ids[{i}]"),
                "an authserv-id is one word, usually the verifying host's name",
            ));
        } else {
            trusted.push(id);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(Box::new(AuthAnalyser { trusted })))
}

#[cfg(test)]
mod tests {
    use sg_message::{Direction, Envelope, Limits};

    use super::*;
    use crate::organisation::Organisation;

    // ---- the analyser with a trusted verifier ----------------------------------------

    fn run(trusted: &[&str], headers: &str) -> Vec<(&'static str, f32)> {
        let cfg = Config {
            trusted_authserv_ids: trusted.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        };
        let a = build(&cfg).unwrap().unwrap();
        let raw = format!("{headers}From: Bank <info@bank.example>\r\nSubject: hi\r\n\r\nhi\r\n");
        let msg = Message::parse(raw.as_bytes(), &Limits::default()).unwrap();
        let (env, org) = (Envelope::default(), Organisation::default());
        let cx = Context {
            envelope: &env,
            direction: Direction::Inbound,
            received_at: 0,
            org: &org,
            cross: None,
        };
        let mut out: Vec<_> = a
            .analyse(&msg, &cx)
            .unwrap()
            .into_iter()
            .map(|s| (s.def.name, s.weight))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    const MX: &[&str] = &["mx.example.org"];

    #[test]
    fn default_config_trusts_nothing() {
        let h = "Authentication-Results: mx.example.org; dmarc=fail (p=reject) header.from=bank.example\r\n";
        assert!(run(&[], h).is_empty());
    }

    #[test]
    fn untrusted_authserv_id_is_ignored() {
        let h = "Authentication-Results: mx.attacker.example; dmarc=fail (p=reject) header.from=bank.example\r\n\
                 Authentication-Results: dkim=pass header.d=bank.example\r\n";
        assert!(run(MX, h).is_empty());
    }

    #[test]
    fn dmarc_fail_with_reject_policy_is_full_weight() {
        let h = "Authentication-Results: MX.Example.org; spf=fail smtp.mailfrom=bank.example; \
                 dkim=none; dmarc=fail (p=reject dis=none) header.from=bank.example\r\n";
        assert_eq!(run(MX, h), vec![("DMARC_FAIL", 1.0), ("SPF_FAIL", 1.0)]);
    }

    #[test]
    fn dmarc_fail_without_enforcing_policy_is_half_weight() {
        let h = "Authentication-Results: mx.example.org; dmarc=fail \
                 policy.published-domain-policy=none header.from=bank.example\r\n";
        assert_eq!(run(MX, h), vec![("DMARC_FAIL", 0.5)]);
    }

    #[test]
    fn aligned_dkim_pass_reassures() {
        let h = "Authentication-Results: mx.example.org; spf=softfail smtp.mailfrom=bounce.esp.example; \
                 dkim=pass header.d=mail.bank.example; dmarc=pass header.from=bank.example\r\n";
        assert_eq!(run(MX, h), vec![("DKIM_ALIGNED_PASS", 1.0)]);
    }

    #[test]
    fn only_unaligned_passes_is_none_aligned() {
        let h = "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=x@esp.example; \
                 dkim=pass header.d=esp.example\r\n";
        assert_eq!(run(MX, h), vec![("AUTH_NONE_ALIGNED", 1.0)]);
    }

    #[test]
    fn aligned_spf_pass_is_enough() {
        let h = "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=bounce@bank.example\r\n";
        assert!(run(MX, h).is_empty());
    }

    #[test]
    fn dkim_fail_only_when_no_signature_passed() {
        let h = "Authentication-Results: mx.example.org; dkim=fail header.d=bank.example; \
                 dkim=pass header.d=esp.example; spf=pass smtp.mailfrom=esp.example\r\n";
        assert_eq!(run(MX, h), vec![("AUTH_NONE_ALIGNED", 1.0)]);
        let h = "Authentication-Results: mx.example.org; dkim=permerror header.d=bank.example; \
                 spf=pass smtp.mailfrom=bank.example\r\n";
        assert_eq!(run(MX, h), vec![("DKIM_FAIL", 1.0)]);
    }

    #[test]
    fn results_split_over_several_trusted_headers_combine() {
        let h = "Authentication-Results: mx.example.org; dkim=fail header.d=bank.example\r\n\
                 Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=bank.example\r\n";
        assert_eq!(
            run(MX, h),
            vec![
                ("AUTH_NONE_ALIGNED", 1.0),
                ("DKIM_FAIL", 1.0),
                ("SPF_FAIL", 1.0)
            ]
        );
    }

    #[test]
    fn spf_fail_is_quiet_when_aligned_dkim_vouches() {
        // Forwarded mail: the forwarder's host fails SPF, the signature survives.
        let h = "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=bank.example; \
                 dkim=pass header.i=@bank.example\r\n";
        assert_eq!(run(MX, h), vec![("DKIM_ALIGNED_PASS", 1.0)]);
    }

    #[test]
    fn bad_trusted_id_is_a_config_error() {
        let cfg = Config {
            trusted_authserv_ids: vec!["mx.example.org".into(), " ".into()],
            ..Config::default()
        };
        let errors = build(&cfg).err().unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].key, "analysers.auth.trusted_authserv_ids[1]");
    }
}
