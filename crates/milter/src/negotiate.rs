//! Option negotiation: what we ask for, given what the MTA offers.
//!
//! The MTA opens with its version, the actions it can perform and the protocol flags it
//! understands. We answer with a version no higher than its own and strict subsets of both
//! masks: Postfix (`milter8.c`) drops the connection if the filter requests an action it
//! did not offer, and a "no reply" flag the MTA does not know would leave both sides
//! waiting. What we wanted but did not get is reported in [`Negotiation::missing_actions`].

use crate::command::{self, Command, Options};
use crate::config::SessionConfig;
use crate::flags::{Actions, ProtocolFlags};
use crate::response::Response;

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 6;

/// The oldest MTA protocol version accepted (Sendmail 8.11, Postfix `milter_protocol = 2`).
pub const MIN_PROTOCOL_VERSION: u32 = 2;

/// The outcome of option negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiation {
    /// Version both sides use.
    pub version: u32,
    /// Actions the MTA offered.
    pub offered_actions: Actions,
    /// Protocol flags the MTA offered.
    pub offered_protocol: ProtocolFlags,
    /// Actions we requested and got: the only ones the session will use.
    pub actions: Actions,
    /// Actions we wanted but the MTA did not offer.
    pub missing_actions: Actions,
    /// Protocol flags we requested (all offered).
    pub protocol: ProtocolFlags,
}

impl Negotiation {
    /// Works out our answer to the MTA's offer.
    pub(crate) fn answer(config: &SessionConfig, offer: Options) -> (Self, Response) {
        let mut wanted = config.actions;
        if !config.macros.is_empty() {
            wanted = wanted | Actions::SET_MACRO_LIST;
        }
        let actions = wanted.intersection(offer.actions);
        let mut protocol = ProtocolFlags::NO_UNKNOWN | ProtocolFlags::HEADER_LEADING_SPACE;
        if config.skip_replies {
            protocol = protocol | ProtocolFlags::NO_REPLY_EXCEPT_BODY;
        }
        let protocol = protocol.intersection(offer.protocol);
        let negotiation = Self {
            version: offer.version.min(PROTOCOL_VERSION),
            offered_actions: offer.actions,
            offered_protocol: offer.protocol,
            actions,
            missing_actions: wanted.difference(offer.actions),
            protocol,
        };
        let macros = if actions.contains(Actions::SET_MACRO_LIST) {
            config.macros.clone()
        } else {
            Vec::new()
        };
        let options = Options {
            version: negotiation.version,
            actions,
            protocol,
        };
        (negotiation, Response::OptionNegotiation { options, macros })
    }

    /// Whether the MTA waits for a reply to this command.
    pub fn expects_reply(&self, command: &Command) -> bool {
        let no_reply = match command.code() {
            command::CONNECT => ProtocolFlags::NR_CONNECT,
            command::HELO => ProtocolFlags::NR_HELO,
            command::MAIL => ProtocolFlags::NR_MAIL,
            command::RCPT => ProtocolFlags::NR_RCPT,
            command::DATA => ProtocolFlags::NR_DATA,
            command::UNKNOWN => ProtocolFlags::NR_UNKNOWN,
            command::HEADER => ProtocolFlags::NR_HEADER,
            command::EOH => ProtocolFlags::NR_EOH,
            command::BODY => ProtocolFlags::NR_BODY,
            command::OPTNEG | command::BODYEOB => return true,
            // MACRO, ABORT, QUIT, QUIT_NC never get a reply.
            _ => return false,
        };
        !self.protocol.contains(no_reply)
    }

    /// Whether header values arrive with the whitespace after the colon.
    pub fn leading_space(&self) -> bool {
        self.protocol.contains(ProtocolFlags::HEADER_LEADING_SPACE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::MacroStage;

    /// What Postfix 3.x sends with `milter_protocol = 6`.
    const POSTFIX: Options = Options {
        version: 6,
        actions: Actions::from_bits(0x1ff),
        protocol: ProtocolFlags::from_bits(0x1f_ffff),
    };

    #[test]
    fn postfix_grants_everything_we_ask() {
        let (n, response) = Negotiation::answer(&SessionConfig::default(), POSTFIX);
        assert_eq!(n.actions.bits(), 0x33);
        assert!(n.missing_actions.is_empty());
        assert_eq!(n.protocol.bits(), 0x0007_f080 | 0x100 | 0x10_0000);
        let Response::OptionNegotiation { options, macros } = response else {
            panic!("not an optneg")
        };
        assert_eq!(
            (options.version, options.actions, options.protocol),
            (6, n.actions, n.protocol)
        );
        assert!(macros.is_empty());
    }

    #[test]
    fn missing_actions_are_reported_and_not_requested() {
        let offer = Options {
            actions: Actions::ADD_HEADERS | Actions::ADD_RECIPIENT,
            ..POSTFIX
        };
        let (n, _) = Negotiation::answer(&SessionConfig::default(), offer);
        assert_eq!(n.actions, Actions::ADD_HEADERS);
        assert_eq!(
            n.missing_actions,
            Actions::CHANGE_BODY | Actions::CHANGE_HEADERS | Actions::QUARANTINE
        );
    }

    #[test]
    fn version_2_mta_gets_version_2_and_no_unknown_flags() {
        let offer = Options {
            version: 2,
            actions: Actions::from_bits(0x3f),
            protocol: ProtocolFlags::from_bits(0x7f),
        };
        let (n, _) = Negotiation::answer(&SessionConfig::default(), offer);
        assert_eq!(n.version, 2);
        assert!(n.protocol.is_empty());
        assert!(n.expects_reply(&Command::Header {
            name: "a".into(),
            value: Vec::new()
        }));
    }

    #[test]
    fn no_reply_flags_silence_the_matching_commands_only() {
        let (n, _) = Negotiation::answer(&SessionConfig::default(), POSTFIX);
        assert!(!n.expects_reply(&Command::Header {
            name: "a".into(),
            value: Vec::new()
        }));
        assert!(!n.expects_reply(&Command::Helo("h".into())));
        assert!(n.expects_reply(&Command::Body(Vec::new())));
        assert!(n.expects_reply(&Command::EndOfBody(Vec::new())));
        assert!(!n.expects_reply(&Command::Abort));
    }

    #[test]
    fn macro_lists_are_sent_only_when_granted() {
        let config = SessionConfig {
            macros: vec![(MacroStage::Data, "i".into())],
            ..SessionConfig::default()
        };
        let (_, granted) = Negotiation::answer(&config, POSTFIX);
        assert!(
            matches!(granted, Response::OptionNegotiation { ref macros, .. } if macros.len() == 1)
        );
        let (n, refused) = Negotiation::answer(
            &config,
            Options {
                actions: Actions::ADD_HEADERS,
                ..POSTFIX
            },
        );
        assert!(
            matches!(refused, Response::OptionNegotiation { ref macros, .. } if macros.is_empty())
        );
        assert!(n.missing_actions.contains(Actions::SET_MACRO_LIST));
    }
}
