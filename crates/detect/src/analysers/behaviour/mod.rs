//! `behaviour`: what other messages reveal — a first contact, a campaign, mail reaching
//! addresses that were never published. Reads only [`Context::cross`], which the gateway's
//! correlator fills before the scan; silent when scanning without state.

use serde::{Deserialize, Serialize};
use sg_message::Message;

use crate::analyser::{Analyser, AnalyserError, Context};
use crate::signal::{Group, Signal, SignalDef};

/// An outside sender whose mail was never delivered here before.
pub static FIRST_CONTACT: SignalDef = SignalDef {
    name: "FIRST_CONTACT",
    score: 0.5,
    group: Group::Behaviour,
    description: "First message from this outside sender (no earlier mail delivered)",
};

/// The same, from a free-mail account (anyone can open one in a minute).
pub static FIRST_CONTACT_FREEMAIL: SignalDef = SignalDef {
    name: "FIRST_CONTACT_FREEMAIL",
    score: 1.5,
    group: Group::Behaviour,
    description: "First message from this free-mail sender",
};

/// Part of a campaign: resembling messages reached many staff within the window.
pub static CAMPAIGN: SignalDef = SignalDef {
    name: "CAMPAIGN",
    score: 4.0,
    group: Group::Behaviour,
    description: "Resembling messages (links, text, attachments) reached several staff within the campaign window",
};

/// A sender without history reached an address that was never published.
pub static UNDISCLOSED_RECIPIENT: SignalDef = SignalDef {
    name: "UNDISCLOSED_RECIPIENT",
    score: 2.0,
    group: Group::Behaviour,
    description: "An unknown outside sender wrote to an address the organisation never published",
};

/// The `directory_leak` alarm is up for this sender.
pub static DIRECTORY_LEAK: SignalDef = SignalDef {
    name: "DIRECTORY_LEAK",
    score: 4.0,
    group: Group::Behaviour,
    description: "This unknown sender reaches several undisclosed addresses: the staff directory has likely leaked",
};

static SIGNALS: &[&SignalDef] = &[
    &FIRST_CONTACT,
    &FIRST_CONTACT_FREEMAIL,
    &CAMPAIGN,
    &UNDISCLOSED_RECIPIENT,
    &DIRECTORY_LEAK,
];

/// `[analysers.behaviour]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Whether the analyser runs.
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { enabled: true }
    }
}

pub(crate) fn build(cfg: &Config) -> super::Built {
    Ok(cfg
        .enabled
        .then(|| Box::new(BehaviourAnalyser) as Box<dyn Analyser>))
}

/// Turns the correlator's facts into signals.
#[derive(Debug)]
pub struct BehaviourAnalyser;

impl Analyser for BehaviourAnalyser {
    fn id(&self) -> &'static str {
        "behaviour"
    }

    fn signals(&self) -> &'static [&'static SignalDef] {
        SIGNALS
    }

    fn analyse(&self, _msg: &Message, cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError> {
        let Some(f) = cx.cross else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if f.first_contact_freemail {
            out.push(Signal::new(
                &FIRST_CONTACT_FREEMAIL,
                "no earlier mail from this free-mail sender",
            ));
        } else if f.first_contact {
            out.push(Signal::new(
                &FIRST_CONTACT,
                "no earlier mail from this sender",
            ));
        }
        if let Some((id, recipients)) = f.campaign {
            out.push(
                Signal::new(
                    &CAMPAIGN,
                    format!("campaign {id}: {recipients} staff reached"),
                )
                .fact("campaign", id.to_string()),
            );
        }
        if f.undisclosed_recipients > 0 {
            let n = f.undisclosed_recipients;
            out.push(Signal::new(
                &UNDISCLOSED_RECIPIENT,
                format!("{n} never-published address(es) among the recipients"),
            ));
        }
        if let Some(escalated) = f.directory_leak {
            let s = Signal::new(
                &DIRECTORY_LEAK,
                "directory_leak alarm raised for this sender",
            );
            // One undisclosed address is a warning; several are the alarm at full weight.
            out.push(if escalated { s } else { s.weighted(0.5) });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cross::CrossFacts;
    use crate::organisation::Organisation;
    use sg_message::{Direction, Envelope, Limits};

    fn run(cross: Option<&CrossFacts>) -> Vec<(&'static str, f32)> {
        let msg = Message::parse(b"From: a@b.example\r\n\r\nhi\r\n", &Limits::default()).unwrap();
        let (env, org) = (Envelope::default(), Organisation::default());
        let cx = Context {
            envelope: &env,
            direction: Direction::Inbound,
            received_at: 0,
            org: &org,
            cross,
        };
        let mut out: Vec<_> = BehaviourAnalyser
            .analyse(&msg, &cx)
            .unwrap()
            .into_iter()
            .map(|s| (s.def.name, s.weight))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    #[test]
    fn silent_without_state_or_facts() {
        assert!(run(None).is_empty());
        assert!(run(Some(&CrossFacts::default())).is_empty());
    }

    #[test]
    fn a_wave_message_gets_every_behaviour_signal() {
        let f = CrossFacts {
            first_contact: true,
            first_contact_freemail: true,
            campaign: Some((7, 12)),
            undisclosed_recipients: 1,
            directory_leak: Some(true),
        };
        assert_eq!(
            run(Some(&f)),
            [
                ("CAMPAIGN", 1.0),
                ("DIRECTORY_LEAK", 1.0),
                ("FIRST_CONTACT_FREEMAIL", 1.0),
                ("UNDISCLOSED_RECIPIENT", 1.0)
            ]
        );
    }

    #[test]
    fn a_business_first_contact_is_mild_and_one_leak_is_half_weight() {
        let f = CrossFacts {
            first_contact: true,
            directory_leak: Some(false),
            ..CrossFacts::default()
        };
        assert_eq!(
            run(Some(&f)),
            [("DIRECTORY_LEAK", 0.5), ("FIRST_CONTACT", 1.0)]
        );
    }
}
