//! What verification concluded, owned (no borrow of the message), and its rendering as an
//! RFC 8601 `Authentication-Results` value.

use std::borrow::Cow;

/// At most this many DKIM results are written into the header.
const MAX_DKIM_IN_HEADER: usize = 16;

/// A method's result, named as in the RFC 8601 / RFC 8617 registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Verified.
    Pass,
    /// Verified as not authorised / not matching.
    Fail,
    /// SPF `~all`.
    SoftFail,
    /// SPF `?all`, or a DKIM signature that could not be judged.
    Neutral,
    /// Nothing to verify (no record, no signature).
    None,
    /// A transient error (DNS); trying again later may work.
    TempError,
    /// A permanent error (a broken record or signature).
    PermError,
}

impl Status {
    /// The result keyword: "pass", "fail", "softfail", …
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::SoftFail => "softfail",
            Status::Neutral => "neutral",
            Status::None => "none",
            Status::TempError => "temperror",
            Status::PermError => "permerror",
        }
    }
}

/// One SPF check (RFC 7208) of one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfCheck {
    /// The result.
    pub result: Status,
    /// The identity checked: the MAIL FROM address, or the HELO name.
    pub identity: String,
}

/// One DKIM signature (RFC 6376) and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimCheck {
    /// The result.
    pub result: Status,
    /// The signing domain (`d=`); empty when the signature could not be read.
    pub domain: String,
    /// The selector (`s=`).
    pub selector: String,
    /// Why it did not pass ("" when it did).
    pub reason: String,
}

/// The policy a DMARC record asks for (after `t=y` testing mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmarcPolicy {
    /// `p=none`: monitor only.
    None,
    /// `p=quarantine`.
    Quarantine,
    /// `p=reject`.
    Reject,
}

/// The DMARC evaluation (RFC 7489) of the From domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcCheck {
    /// The result.
    pub result: Status,
    /// The RFC5322.From domain ("" when there was no single From domain).
    pub from_domain: String,
    /// The published policy; `None` when no record was found.
    pub policy: Option<DmarcPolicy>,
}

/// Everything one verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthOutcome {
    /// SPF of the MAIL FROM identity; `None` for the null sender, or when SPF was not
    /// evaluated (a private peer, see `spf_for_private_peers`).
    pub spf_mail_from: Option<SpfCheck>,
    /// SPF of the HELO identity; `None` when the HELO is not a domain name or SPF was not
    /// evaluated.
    pub spf_helo: Option<SpfCheck>,
    /// One entry per DKIM signature, in header order; empty when the message is unsigned.
    pub dkim: Vec<DkimCheck>,
    /// The ARC chain (RFC 8617): pass, fail or none (temperror on timeout).
    pub arc: Status,
    /// DMARC of the From domain.
    pub dmarc: DmarcCheck,
    /// Why every result is `temperror`, when verification did not finish.
    pub error: Option<String>,
}

impl AuthOutcome {
    /// Every method `temperror`, with the reason (a timeout, a failed task).
    pub fn temperror(mail_from: &str, reason: impl Into<String>) -> AuthOutcome {
        let reason = reason.into();
        AuthOutcome {
            spf_mail_from: Some(SpfCheck {
                result: Status::TempError,
                identity: mail_from.to_string(),
            })
            .filter(|_| !mail_from.is_empty()),
            spf_helo: None,
            dkim: vec![DkimCheck {
                result: Status::TempError,
                domain: String::new(),
                selector: String::new(),
                reason: reason.clone(),
            }],
            arc: Status::TempError,
            dmarc: DmarcCheck {
                result: Status::TempError,
                from_domain: String::new(),
                policy: None,
            },
            error: Some(reason),
        }
    }

    /// The `Authentication-Results` value (RFC 8601 §2.2) without the field name or the
    /// final CRLF, folded one method per line:
    /// `mx.example.org;\r\n\tspf=pass smtp.mailfrom=a@example.org;\r\n\tdkim=pass header.d=… header.s=…; …`.
    /// Values from the message are quoted or cleaned so they cannot break the field.
    pub fn header_value(&self, authserv_id: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = &self.spf_mail_from {
            parts.push(format!(
                "spf={} smtp.mailfrom={}",
                s.result.as_str(),
                pvalue(&s.identity)
            ));
        }
        if let Some(s) = &self.spf_helo {
            parts.push(format!(
                "spf={} smtp.helo={}",
                s.result.as_str(),
                pvalue(&s.identity)
            ));
        }
        if self.dkim.is_empty() {
            parts.push("dkim=none".to_string());
        }
        for d in self.dkim.iter().take(MAX_DKIM_IN_HEADER) {
            let mut p = format!("dkim={}", d.result.as_str());
            if !d.reason.is_empty() {
                p.push_str(&format!(" ({})", comment(&d.reason)));
            }
            if !d.domain.is_empty() {
                p.push_str(&format!(" header.d={}", pvalue(&d.domain)));
            }
            if !d.selector.is_empty() {
                p.push_str(&format!(" header.s={}", pvalue(&d.selector)));
            }
            parts.push(p);
        }
        parts.push(format!("arc={}", self.arc.as_str()));
        let m = &self.dmarc;
        let mut p = format!("dmarc={}", m.result.as_str());
        if let Some(policy) = m.policy {
            let policy = match policy {
                DmarcPolicy::None => "none",
                DmarcPolicy::Quarantine => "quarantine",
                DmarcPolicy::Reject => "reject",
            };
            p.push_str(&format!(" (p={policy})"));
        }
        if !m.from_domain.is_empty() {
            p.push_str(&format!(" header.from={}", pvalue(&m.from_domain)));
        }
        parts.push(p);
        format!("{authserv_id};\r\n\t{}", parts.join(";\r\n\t"))
    }

    /// The whole header field, `Authentication-Results: …\r\n`, ready to prepend.
    pub fn header_field(&self, authserv_id: &str) -> String {
        format!(
            "Authentication-Results: {}\r\n",
            self.header_value(authserv_id)
        )
    }
}

/// A property value (RFC 8601 `pvalue`): bare when it is an address or a dot-atom,
/// otherwise a quoted string. Control characters are dropped, the length is capped.
fn pvalue(v: &str) -> Cow<'_, str> {
    let bare = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.@".contains(c);
    if !v.is_empty() && v.len() <= 254 && v.chars().all(bare) {
        return Cow::Borrowed(v);
    }
    let mut out = String::from("\"");
    for c in v.chars().filter(|c| !c.is_control()).take(254) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Cow::Owned(out)
}

/// Text safe inside `( … )`: no control characters, parentheses or backslashes.
fn comment(v: &str) -> String {
    v.chars()
        .filter(|c| !c.is_control() && !matches!(c, '(' | ')' | '\\'))
        .take(120)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> AuthOutcome {
        AuthOutcome {
            spf_mail_from: Some(SpfCheck {
                result: Status::Pass,
                identity: "bounce@bank.example".into(),
            }),
            spf_helo: Some(SpfCheck {
                result: Status::None,
                identity: "[192.0.2.1]\r\nX: y".into(),
            }),
            dkim: vec![DkimCheck {
                result: Status::Fail,
                domain: "bank.example".into(),
                selector: "s1".into(),
                reason: "body hash (mismatch)\r\n".into(),
            }],
            arc: Status::None,
            dmarc: DmarcCheck {
                result: Status::Fail,
                from_domain: "bank.example".into(),
                policy: Some(DmarcPolicy::Reject),
            },
            error: None,
        }
    }

    #[test]
    fn header_value_lists_every_method_one_per_folded_line() {
        assert_eq!(
            outcome().header_value("mx.example.org"),
            "mx.example.org;\r\n\tspf=pass smtp.mailfrom=bounce@bank.example;\r\n\t\
             spf=none smtp.helo=\"[192.0.2.1]X: y\";\r\n\t\
             dkim=fail (body hash mismatch) header.d=bank.example header.s=s1;\r\n\t\
             arc=none;\r\n\tdmarc=fail (p=reject) header.from=bank.example"
        );
    }

    #[test]
    fn temperror_reports_every_method_and_unsigned_mail_is_dkim_none() {
        let t = AuthOutcome::temperror("a@b.example", "verification timed out");
        let v = t.header_value("mx");
        for m in [
            "spf=temperror",
            "dkim=temperror",
            "arc=temperror",
            "dmarc=temperror",
        ] {
            assert!(v.contains(m), "{v}");
        }
        let mut o = outcome();
        o.dkim.clear();
        assert!(o.header_value("mx").contains("\tdkim=none;"));
        assert!(
            o.header_field("mx")
                .starts_with("Authentication-Results: mx;\r\n")
        );
        assert!(
            o.header_field("mx")
                .ends_with("header.from=bank.example\r\n")
        );
    }
}
