//! The bridge between a judged message and the correlator (`sg-correlate`): builds the
//! observation (fingerprint, free-mail and internal sender, bulk markers, recipients with
//! their directory status), turns the assessment into the engine's [`CrossFacts`], and
//! teaches the history once the verdict is known. Shared by `scan --state` and (next) `serve`.

use std::sync::Mutex;

use sg_correlate::{
    Assessment, CorrelateConfig, Correlator, Fingerprint, Observation, Published, Recipient,
};
use sg_detect::lists::DomainList;
use sg_detect::{CrossFacts, Organisation, Report, Verdict};
use sg_message::{Envelope, Message};

use crate::config::Runtime;
use crate::offline;

/// The correlator and what it needs to classify senders.
pub(crate) struct Correlation {
    correlator: Mutex<Correlator>,
    freemail: DomainList,
}

/// One message's observation and what the correlator concluded.
pub(crate) struct Correlated {
    /// What the correlator saw.
    pub(crate) observation: Observation,
    /// What it concluded.
    pub(crate) assessment: Assessment,
}

impl Correlation {
    /// A correlator restored from `snapshot` (or a fresh one); `freemail` classifies
    /// sender domains.
    pub(crate) fn new(
        cfg: CorrelateConfig,
        snapshot: Option<&[u8]>,
        freemail: DomainList,
    ) -> anyhow::Result<Correlation> {
        let correlator = match snapshot {
            Some(bytes) => Correlator::restore(cfg, bytes)
                .map_err(|e| anyhow::anyhow!("the saved correlator state is unreadable: {e}"))?,
            None => Correlator::new(cfg),
        };
        Ok(Correlation {
            correlator: Mutex::new(correlator),
            freemail,
        })
    }

    /// The whole state, to save between runs.
    pub(crate) fn snapshot(&self) -> Vec<u8> {
        self.lock().snapshot()
    }

    /// Observes an arriving message (before the scan). `published` gives a recipient's
    /// directory status; only the organisation's own recipients are considered.
    pub(crate) fn observe(
        &self,
        id: String,
        at: i64,
        msg: &Message,
        envelope: &Envelope,
        org: &Organisation,
        published: impl Fn(&str) -> Published,
    ) -> Correlated {
        let fingerprint = Fingerprint::of(msg, envelope.mail_from.as_deref());
        let sender_host = fingerprint
            .sender
            .rsplit('@')
            .next()
            .unwrap_or("")
            .to_string();
        let internal_sender = org.is_own_domain(&sender_host);
        let freemail = !internal_sender && self.freemail.contains(&sender_host);
        let bulk = !freemail
            && !internal_sender
            && msg.headers.iter().any(|h| {
                h.name.eq_ignore_ascii_case("list-id")
                    || h.name.eq_ignore_ascii_case("list-unsubscribe")
            });
        let recipients = envelope
            .rcpt_to
            .iter()
            .filter(|r| org.is_own_domain(r.rsplit('@').next().unwrap_or("")))
            .map(|r| Recipient {
                address: r.to_lowercase(),
                published: published(&r.to_lowercase()),
            })
            .collect();
        let observation = Observation {
            id,
            at,
            fingerprint,
            freemail,
            internal_sender,
            bulk,
            recipients,
        };
        let assessment = self.lock().assess(&observation);
        Correlated {
            observation,
            assessment,
        }
    }

    /// One stored message through the correlator and the engine, as `scan --state` (and its
    /// benchmark) run it: observe, scan with the facts, then let a delivered verdict teach.
    pub(crate) fn scan(&self, rt: &Runtime, id: String, msg: &Message) -> (Correlated, Report) {
        let envelope = offline::envelope_of(msg);
        let at = offline::arrival_time(msg);
        let seen = self.observe(id, at, msg, &envelope, &rt.org, |a| {
            listing(&rt.directory, a)
        });
        let report = offline::analyse_with(rt, msg, &envelope, Some(&seen.facts()));
        self.settle(&seen, report.verdict);
        (seen, report)
    }

    /// After the scan: delivered mail teaches the history (tagged, held or refused mail
    /// does not, so a lure never makes its sender a known correspondent).
    pub(crate) fn settle(&self, c: &Correlated, verdict: Verdict) {
        if verdict == Verdict::Deliver {
            self.lock().learn(&c.observation);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Correlator> {
        self.correlator
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Correlated {
    /// The facts the `behaviour` analyser turns into signals.
    pub(crate) fn facts(&self) -> CrossFacts {
        let a = &self.assessment;
        let fc = a.first_contact.unwrap_or_default();
        let first =
            a.first_contact.is_some() && fc.sender && (self.observation.freemail || fc.domain);
        CrossFacts {
            first_contact: first,
            first_contact_freemail: first && self.observation.freemail,
            campaign: a.campaign.as_ref().map(|c| (c.id, c.recipients)),
            undisclosed_recipients: a.undisclosed.len(),
            directory_leak: a.leak.as_ref().map(|l| l.escalated),
        }
    }

    /// The alerts to report with the message (`directory_leak`), as JSON.
    pub(crate) fn alerts_json(&self) -> serde_json::Value {
        match &self.assessment.leak {
            Some(l) => serde_json::json!([{
                "kind": "directory_leak", "sender": l.sender,
                "addresses": l.addresses, "escalated": l.escalated,
            }]),
            None => serde_json::json!([]),
        }
    }
}

/// A recipient's directory status, as the correlator needs it.
pub(crate) fn listing(directory: &sg_directory::Directory, address: &str) -> Published {
    match directory.listing(address) {
        sg_directory::Listing::Published => Published::Yes,
        sg_directory::Listing::Undisclosed => Published::No,
        sg_directory::Listing::NotListed => Published::Unknown,
    }
}
