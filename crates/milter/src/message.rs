//! One message being collected: envelope, headers and body, within the configured bounds.
//!
//! Memory is bounded by [`SessionConfig::max_message_size`] and
//! [`SessionConfig::max_recipients`]. Crossing a bound does not end the session: the message
//! is marked refused, what was collected is dropped, and from then on the session answers
//! with the refusal reply wherever the MTA waits for one (RCPT, DATA, header, end of
//! headers, body chunk, and always at end of message).

use crate::config::SessionConfig;
use crate::envelope::{Envelope, Header, Recipient};
use crate::event::{Event, Limit};
use crate::reply::{Reply, TOO_MANY_RECIPIENTS};

/// The message in progress.
#[derive(Debug, Default)]
pub(crate) struct MessageState {
    /// Whether any message command arrived since the last reset.
    active: bool,
    envelope: Envelope,
    headers: Vec<Header>,
    body: Vec<u8>,
    /// Header lines plus body bytes seen, counted even after a refusal.
    size: usize,
    /// Set once a bound is crossed: the reply the message gets from then on.
    refusal: Option<Reply>,
}

impl MessageState {
    /// A message begun by MAIL: the reverse-path first, then ESMTP parameters.
    pub(crate) fn from_mail(args: Vec<String>) -> Self {
        let mut args = args.into_iter();
        let envelope = Envelope {
            mail_from: args.next(),
            mail_params: args.collect(),
            recipients: Vec::new(),
        };
        Self {
            active: true,
            envelope,
            ..Self::default()
        }
    }

    pub(crate) fn is_active(&self) -> bool {
        self.active
    }

    /// Notes a message command that carries nothing to keep (DATA, end of headers).
    pub(crate) fn touch(&mut self) {
        self.active = true;
    }

    /// The reply for this message, once a bound was crossed.
    pub(crate) fn refusal(&self) -> Option<&Reply> {
        self.refusal.as_ref()
    }

    /// Adds a RCPT. Past the bound, `can_refuse_alone` (the MTA waits for a RCPT reply) turns
    /// away just this recipient; otherwise the MTA would deliver to a recipient we never
    /// saw, so the whole message is refused. Returns the event and, for a recipient refused
    /// alone, its reply.
    pub(crate) fn add_recipient(
        &mut self,
        args: Vec<String>,
        config: &SessionConfig,
        can_refuse_alone: bool,
    ) -> (Option<Event>, Option<Reply>) {
        self.active = true;
        let max = config.max_recipients;
        if self.envelope.recipients.len() < max {
            let mut args = args.into_iter();
            let address = args.next().unwrap_or_default();
            self.envelope.recipients.push(Recipient {
                address,
                params: args.collect(),
            });
            return (None, None);
        }
        if can_refuse_alone {
            // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client retries them later.
            return (
                Some(Event::LimitExceeded(Limit::Recipients(max))),
                Some(TOO_MANY_RECIPIENTS),
            );
        }
        (
            self.refuse(Limit::Recipients(max), TOO_MANY_RECIPIENTS),
            None,
        )
    }

    /// Adds a header; `leading_space` says the MTA kept the whitespace after the colon.
    pub(crate) fn add_header(
        &mut self,
        name: String,
        mut value: Vec<u8>,
        leading_space: bool,
        config: &SessionConfig,
    ) -> Option<Event> {
        self.active = true;
        // Counted as the line `name: value\r\n`.
        let event = self.grow(name.len() + value.len() + 3, config);
        if self.refusal.is_none() {
            if !leading_space && !value.is_empty() {
                value.insert(0, b' ');
            }
            self.headers.push(Header { name, value });
        }
        event
    }

    /// Adds a body chunk.
    pub(crate) fn add_body(&mut self, chunk: &[u8], config: &SessionConfig) -> Option<Event> {
        self.active = true;
        let event = self.grow(chunk.len(), config);
        if self.refusal.is_none() {
            self.body.extend_from_slice(chunk);
        }
        event
    }

    /// Envelope, headers and body, for the end-of-message event.
    pub(crate) fn into_parts(self) -> (Envelope, Vec<Header>, Vec<u8>) {
        (self.envelope, self.headers, self.body)
    }

    /// Counts `len` more bytes; past the bound, refuses the message.
    fn grow(&mut self, len: usize, config: &SessionConfig) -> Option<Event> {
        self.size = self.size.saturating_add(len);
        if self.size > config.max_message_size {
            return self.refuse(
                Limit::MessageSize(config.max_message_size),
                config.oversize_reply.clone(),
            );
        }
        None
    }

    /// Marks the message refused and drops what was collected; an event the first time only.
    fn refuse(&mut self, limit: Limit, reply: Reply) -> Option<Event> {
        if self.refusal.is_some() {
            return None;
        }
        self.refusal = Some(reply);
        self.headers = Vec::new();
        self.body = Vec::new();
        Some(Event::LimitExceeded(limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_message_size: usize, max_recipients: usize) -> SessionConfig {
        SessionConfig {
            max_message_size,
            max_recipients,
            ..SessionConfig::default()
        }
    }

    #[test]
    fn mail_arguments_split_into_sender_and_params() {
        let m = MessageState::from_mail(vec!["<a@example.org>".into(), "SIZE=1".into()]);
        let (envelope, _, _) = m.into_parts();
        assert_eq!(envelope.mail_from.as_deref(), Some("<a@example.org>"));
        assert_eq!(envelope.mail_params, ["SIZE=1"]);
    }

    #[test]
    fn message_within_the_bound_is_kept_whole() {
        let mut m = MessageState::default();
        assert_eq!(
            m.add_header("Subject".into(), b"hi".to_vec(), false, &config(20, 1)),
            None
        );
        assert_eq!(m.add_body(b"body\r\n", &config(20, 1)), None);
        let (_, headers, body) = m.into_parts();
        assert_eq!(headers[0].value, b" hi");
        assert_eq!(body, b"body\r\n");
    }

    #[test]
    fn crossing_the_size_bound_refuses_once_and_drops_the_content() {
        let c = config(10, 1);
        let mut m = MessageState::default();
        assert_eq!(m.add_body(b"0123456789", &c), None);
        assert_eq!(
            m.add_body(b"x", &c),
            Some(Event::LimitExceeded(Limit::MessageSize(10)))
        );
        assert_eq!(m.add_body(b"y", &c), None);
        assert_eq!(m.refusal(), Some(&c.oversize_reply));
        assert!(m.into_parts().2.is_empty());
    }

    #[test]
    fn extra_recipient_is_refused_alone_when_the_mta_waits_for_a_reply() {
        let c = config(100, 1);
        let mut m = MessageState::default();
        assert_eq!(
            m.add_recipient(vec!["<a@example.org>".into()], &c, true),
            (None, None)
        );
        let (event, reply) = m.add_recipient(vec!["<b@example.org>".into()], &c, true);
        assert_eq!(event, Some(Event::LimitExceeded(Limit::Recipients(1))));
        assert_eq!(reply, Some(TOO_MANY_RECIPIENTS));
        assert_eq!(m.refusal(), None);
    }

    #[test]
    fn extra_recipient_refuses_the_message_when_the_mta_does_not_wait() {
        let c = config(100, 1);
        let mut m = MessageState::default();
        m.add_recipient(vec!["<a@example.org>".into()], &c, false);
        let (event, reply) = m.add_recipient(vec!["<b@example.org>".into()], &c, false);
        assert_eq!(
            (event, reply),
            (Some(Event::LimitExceeded(Limit::Recipients(1))), None)
        );
        assert_eq!(m.refusal(), Some(&TOO_MANY_RECIPIENTS));
    }
}
