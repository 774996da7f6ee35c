//! The milter front end: the same judgement as the SMTP relay, answered to the MTA instead
//! of spooled (Postfix owns the message). deliver → verdict headers; tag → the same plus a
//! Subject prefix; quarantine → headers and `SMFIR_QUARANTINE` (Postfix's hold queue);
//! reject → `550 5.7.1`; an internal failure → `451 4.3.0`, so the MTA retries.

use std::sync::Arc;

use sg_detect::{Report, Verdict};
use sg_message::Envelope;
use sg_milter::server::MilterHandler;
use sg_milter::{CompletedMessage, ConnectInfo, Decision, Modification, Reply};

use crate::config::Runtime;
use crate::gateway::headers::{VERDICT_HEADER_NAMES, verdict_fields};
use crate::gateway::judge::{POLICY_REJECT, judge, now};
use crate::gateway::record::{Action, Judged, account};

/// Judges each message Postfix hands over and tells it what to do.
pub(crate) struct MilterGate {
    /// Engine, organisation and limits (shared with the SMTP pipeline).
    pub(crate) rt: Arc<Runtime>,
    /// Subject prefix for tagged mail.
    pub(crate) tag_prefix: String,
    /// The message log.
    pub(crate) store: Arc<dyn sg_store::Store>,
    /// Sender authentication (`None` when `[auth]` is disabled).
    pub(crate) auth: Option<sg_auth::Verifier>,
}

impl MilterHandler for MilterGate {
    async fn on_message(&self, message: CompletedMessage) -> Decision {
        let data = message.to_rfc5322();
        let (data, auth_changes) = match &self.auth {
            Some(v) => authenticate(v, &message, data).await,
            None => (data, Vec::new()),
        };
        let (rt, prefix, store) = (self.rt.clone(), self.tag_prefix.clone(), self.store.clone());
        tokio::task::spawn_blocking(move || {
            // With a reject or tempfail, modifications are ignored by the MTA.
            let mut decision = decide(&rt, &*store, &prefix, &message, &data);
            for change in auth_changes {
                decision = decision.with(change);
            }
            decision
        })
        .await
        .unwrap_or_else(|_| tempfail())
    }
}

/// Verifies the sender as the relay does. Returns the message as it will be judged (our
/// Authentication-Results on top, forged ones gone) and the same changes for the MTA.
async fn authenticate(
    verifier: &sg_auth::Verifier,
    message: &CompletedMessage,
    data: Vec<u8>,
) -> (Vec<u8>, Vec<Modification>) {
    let env = envelope(message);
    // No client address (a Unix-socket MTA): treat the peer as local, so SPF is skipped.
    let ip = env
        .peer_ip
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let helo = env.helo.clone().unwrap_or_default();
    let from = env.mail_from.clone().unwrap_or_default();
    let id = verifier.authserv_id().to_string();
    let forged = sg_auth::forged_results_positions(&data, &id);
    let authenticated = verifier.authenticate(&data, ip, &helo, &from).await;
    // Last first, so the remaining indexes hold.
    let mut changes: Vec<Modification> = forged
        .iter()
        .rev()
        .map(|&index| Modification::DeleteHeader {
            name: "Authentication-Results".to_string(),
            index: u32::try_from(index).unwrap_or(u32::MAX),
        })
        .collect();
    changes.push(Modification::InsertHeader {
        index: 0,
        name: "Authentication-Results".to_string(),
        value: authenticated
            .outcome
            .header_value(&id)
            .replace("\r\n", "\n"),
    });
    (authenticated.message, changes)
}

/// Parses, scans, and turns the verdict into a milter decision.
fn decide(
    rt: &Runtime,
    store: &dyn sg_store::Store,
    tag_prefix: &str,
    message: &CompletedMessage,
    data: &[u8],
) -> Decision {
    let (envelope, received_at) = (envelope(message), now());
    let judgement = match judge(rt, &envelope, data, received_at) {
        Ok(judgement) => judgement,
        Err(e) => return reject(&format!("message refused: {e}")),
    };
    let report = &judgement.report;
    let action = match report.verdict {
        Verdict::Reject => Action::Rejected,
        Verdict::Quarantine => Action::Held,
        Verdict::Deliver | Verdict::Tag => Action::Accepted,
    };
    let judged = Judged {
        front: "milter",
        envelope: &envelope,
        direction: sg_message::Direction::Inbound,
        message: Some(&judgement.message),
        report,
        received_at,
        scan_micros: judgement.scan_micros,
    };
    account(store, &judged, action, None);
    decision(report, message, tag_prefix)
}

/// The decision for a report: verdict headers (outside copies removed first), the tag.
fn decision(report: &Report, message: &CompletedMessage, tag_prefix: &str) -> Decision {
    let verdict = match report.verdict {
        Verdict::Reject => return reject(POLICY_REJECT),
        Verdict::Quarantine => sg_milter::Verdict::Quarantine {
            reason: format!("spearguard: phishing suspected, score {:.2}", report.score),
        },
        Verdict::Deliver | Verdict::Tag => sg_milter::Verdict::Accept,
    };
    let mut decision = Decision::new(verdict);
    // A sender could forge our verdict headers; delete theirs (last first, so indexes hold).
    for name in VERDICT_HEADER_NAMES {
        let count = message
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .count();
        for index in (1..=count).rev() {
            decision = decision.with(Modification::DeleteHeader {
                name: name.to_string(),
                index: u32::try_from(index).unwrap_or(u32::MAX),
            });
        }
    }
    for (name, value) in verdict_fields(report, "\n\t") {
        decision = decision.with(Modification::AddHeader {
            name: name.to_string(),
            value,
        });
    }
    if report.verdict == Verdict::Tag
        && let Some(change) = tag_subject(message, tag_prefix)
    {
        decision = decision.with(change);
    }
    decision
}

/// The change that puts `prefix` in front of the first Subject (or adds one); none when the
/// prefix is empty or already there.
fn tag_subject(message: &CompletedMessage, prefix: &str) -> Option<Modification> {
    if prefix.is_empty() {
        return None;
    }
    let Some(subject) = message
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("subject"))
    else {
        return Some(Modification::AddHeader {
            name: "Subject".to_string(),
            value: prefix.trim_end().to_string(),
        });
    };
    let old = String::from_utf8_lossy(&subject.value);
    let old = old.trim_start_matches([' ', '\t']);
    if old.starts_with(prefix) {
        return None;
    }
    Some(Modification::ChangeHeader {
        name: subject.name.clone(),
        index: 1,
        value: header_safe(&format!("{prefix}{old}")),
    })
}

/// `value` with CRLF folds turned into LF folds and any other control character into a
/// space, so a strange Subject cannot make the decision invalid (which would tempfail).
fn header_safe(value: &str) -> String {
    let value = value.replace("\r\n", "\n");
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let fold = c == '\n' && matches!(chars.peek(), Some(' ' | '\t'));
        out.push(if c.is_control() && c != '\t' && !fold {
            ' '
        } else {
            c
        });
    }
    out
}

/// The protocol-neutral envelope from what the MTA told us (addresses lowercased, no `<>`).
fn envelope(message: &CompletedMessage) -> Envelope {
    let bare = |path: &str| {
        let path = path.trim();
        path.strip_prefix('<')
            .and_then(|p| p.strip_suffix('>'))
            .unwrap_or(path)
            .to_lowercase()
    };
    Envelope {
        peer_ip: message.connection.as_ref().and_then(ConnectInfo::ip),
        helo: message.helo.clone(),
        mail_from: message.envelope.mail_from.as_deref().map(bare),
        rcpt_to: message
            .envelope
            .recipients
            .iter()
            .map(|r| bare(&r.address))
            .collect(),
    }
}

/// `550 5.7.1 <text>` (a generic text if this one cannot be a reply line).
fn reject(text: &str) -> Decision {
    let reply = Reply::new(550, "5.7.1", text)
        .or_else(|_| Reply::new(550, "5.7.1", "message refused"))
        .ok();
    Decision::new(sg_milter::Verdict::Reject(reply))
}

/// `451 4.3.0`: we could not judge the message; the MTA keeps it and the client retries.
fn tempfail() -> Decision {
    let reply = Reply::new(451, "4.3.0", "content inspection failed, try again later").ok();
    Decision::new(sg_milter::Verdict::Tempfail(reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sg_milter::Header;

    fn message(headers: &[(&str, &str)]) -> CompletedMessage {
        CompletedMessage {
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: (*n).into(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
            ..CompletedMessage::default()
        }
    }

    fn report(verdict: Verdict) -> Report {
        Report {
            signals: Vec::new(),
            score: 7.0,
            verdict,
        }
    }

    #[test]
    fn tag_prefixes_the_subject_once_and_forged_verdicts_are_deleted_last_first() {
        let m = message(&[
            ("x-spearguard-verdict", " deliver"),
            ("Subject", " Invoice\r\n\tdue"),
            ("X-Spearguard-Verdict", " deliver"),
        ]);
        let d = decision(&report(Verdict::Tag), &m, "[SUSPICIOUS] ");
        assert_eq!(d.verdict, sg_milter::Verdict::Accept);
        let del = |index| Modification::DeleteHeader {
            name: "X-Spearguard-Verdict".into(),
            index,
        };
        assert_eq!(d.modifications[..2], [del(2), del(1)]);
        assert_eq!(
            d.modifications.last(),
            Some(&Modification::ChangeHeader {
                name: "Subject".into(),
                index: 1,
                value: "[SUSPICIOUS] Invoice\n\tdue".into(),
            })
        );
        let tagged = message(&[("Subject", " [SUSPICIOUS] Invoice")]);
        assert_eq!(tag_subject(&tagged, "[SUSPICIOUS] "), None);
        let bare = message(&[]);
        assert!(matches!(
            tag_subject(&bare, "[S] "),
            Some(Modification::AddHeader { value, .. }) if value == "[S]"
        ));
    }

    #[test]
    fn quarantine_and_reject_carry_a_reason() {
        let m = message(&[("Subject", " hi")]);
        let q = decision(&report(Verdict::Quarantine), &m, "[S] ");
        assert!(
            matches!(&q.verdict, sg_milter::Verdict::Quarantine { reason } if reason.contains("7.00"))
        );
        assert_eq!(q.modifications.len(), 3, "verdict headers, no tag");
        let r = decision(&report(Verdict::Reject), &m, "[S] ");
        let sg_milter::Verdict::Reject(Some(reply)) = r.verdict else {
            panic!("reject with a reply");
        };
        assert_eq!((reply.code(), reply.status()), (550, "5.7.1"));
        assert!(reject("naïve").verdict != sg_milter::Verdict::Reject(None));
    }

    #[test]
    fn control_characters_in_a_subject_become_spaces_but_folds_stay() {
        assert_eq!(header_safe("a\rb\u{0}c\n\td\ne"), "a b c\n\td e");
    }

    #[test]
    fn envelope_drops_angle_brackets_and_lowercases() {
        let mut m = message(&[]);
        m.envelope.mail_from = Some("<Alice@Example.NET>".into());
        m.envelope.recipients.push(sg_milter::Recipient {
            address: "<Bob@Example.org>".into(),
            params: Vec::new(),
        });
        m.connection = Some(ConnectInfo {
            hostname: "[192.0.2.1]".into(),
            family: sg_milter::Family::Inet,
            port: 25,
            address: "192.0.2.1".into(),
        });
        let e = envelope(&m);
        assert_eq!(e.mail_from.as_deref(), Some("alice@example.net"));
        assert_eq!(e.rcpt_to, ["bob@example.org"]);
        assert_eq!(e.peer_ip, Some("192.0.2.1".parse().unwrap()));
        m.envelope.mail_from = Some("<>".into());
        assert_eq!(envelope(&m).mail_from.as_deref(), Some(""));
    }
}
