//! One handler per command, each a few lines of RFC 5321 sequencing on top of the
//! [`Command`] that smtp-proto's grammar produced. Split from the session's input loop so
//! each file holds one concern; as a child module it shares the session's private state.

use super::{Hello, Session, State, Transaction};
use crate::command::{Command, MailParams};
use crate::data::DataReader;
use crate::envelope::Envelope;
use crate::reply;

/// MAIL is refused (452 4.3.1) while less than this much of the in-flight budget is left
/// (or less than the whole budget, when it is smaller): a new message would not fit.
const MIN_FREE_FOR_MAIL: usize = 64 * 1024;

impl Session {
    pub(super) fn command(&mut self, line: &[u8]) {
        let command = match Command::parse(line) {
            Ok(command) => command,
            Err(refusal) => return self.refuse(refusal),
        };
        // RFC 3207 §4: with TLS required, only these work before STARTTLS.
        if self.connection.tls_required
            && !self.connection.tls_active
            && !matches!(
                command,
                Command::Hello { .. }
                    | Command::StartTls
                    | Command::Noop
                    | Command::Rset
                    | Command::Quit
            )
        {
            return self.refuse(reply::TLS_REQUIRED);
        }
        match command {
            Command::Hello { host, esmtp } => self.hello(host, esmtp),
            Command::Mail { from, params } => self.mail(from, params),
            Command::Rcpt { to } => self.rcpt(to),
            Command::Data => self.data(),
            Command::Rset => {
                self.transaction = None;
                self.reply(&reply::OK);
            }
            Command::Noop => self.reply(&reply::OK),
            Command::Vrfy => self.reply(&reply::CANNOT_VERIFY),
            Command::Help => self.reply(&reply::HELP),
            Command::Quit => self.close_with(reply::CLOSING),
            Command::StartTls => self.start_tls(),
            Command::NotImplemented(_) => self.refuse(reply::NOT_IMPLEMENTED),
        }
    }

    fn hello(&mut self, host: String, esmtp: bool) {
        // RFC 5321 §4.1.4: HELO/EHLO in a transaction resets it.
        self.transaction = None;
        if esmtp {
            let capabilities = self.capabilities();
            reply::write_ehlo(&mut self.output, &self.config.hostname, &capabilities);
        } else {
            self.reply(&reply::HELO_OK.fill(&self.config.hostname));
        }
        self.hello = Some(Hello { host, esmtp });
    }

    fn capabilities(&self) -> Vec<String> {
        let mut capabilities = vec![
            "PIPELINING".to_string(),
            format!("SIZE {}", self.config.max_message_size),
        ];
        if self.connection.tls_available && !self.connection.tls_active {
            capabilities.push("STARTTLS".to_string());
        }
        capabilities.extend(["ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8"].map(str::to_string));
        capabilities
    }

    fn mail(&mut self, from: String, params: MailParams) {
        let Some(hello) = &self.hello else {
            return self.refuse(reply::NEED_HELO);
        };
        if self.transaction.is_some() {
            return self.refuse(reply::NESTED_MAIL);
        }
        if !hello.esmtp && params != MailParams::default() {
            return self.refuse(reply::PARAMETERS_NEED_EHLO);
        }
        if params
            .size
            .is_some_and(|size| size > self.config.max_message_size)
        {
            return self.refuse(reply::TOO_BIG);
        }
        if !from.is_ascii() && !params.smtputf8 {
            return self.refuse(reply::NEEDS_SMTPUTF8);
        }
        // Not the client's fault: a 452 it retries later, not counted as an error.
        let available = self.budget.available();
        if available < MIN_FREE_FOR_MAIL.min(self.budget.limit())
            || params.size.is_some_and(|size| size > available)
        {
            return self.reply(&reply::INSUFFICIENT_STORAGE);
        }
        self.transaction = Some(Transaction {
            mail_from: from,
            params,
            rcpt_to: Vec::new(),
            refused: 0,
        });
        self.reply(&reply::SENDER_OK);
    }

    fn rcpt(&mut self, to: String) {
        let max = self.config.max_recipients;
        let Some(transaction) = &mut self.transaction else {
            return self.refuse(reply::NEED_MAIL);
        };
        if !to.is_ascii() && !transaction.params.smtputf8 {
            return self.refuse(reply::NEEDS_SMTPUTF8);
        }
        if transaction.rcpt_to.len() >= max {
            // RFC 5321 §4.5.3.1.10: the client retries these later, so they are not
            // errors, up to another `max` (Postfix's smtpd_recipient_overshoot_limit).
            transaction.refused += 1;
            return if transaction.refused > max {
                self.refuse(reply::TOO_MANY_RECIPIENTS)
            } else {
                self.reply(&reply::TOO_MANY_RECIPIENTS)
            };
        }
        transaction.rcpt_to.push(to);
        self.reply(&reply::RECIPIENT_OK);
    }

    fn data(&mut self) {
        let Some(transaction) = self.transaction.take() else {
            return self.refuse(reply::NEED_MAIL);
        };
        if transaction.rcpt_to.is_empty() {
            self.transaction = Some(transaction);
            return self.refuse(reply::NEED_RCPT);
        }
        let Some(hello) = &self.hello else {
            return self.refuse(reply::NEED_HELO);
        };
        let envelope = Envelope {
            peer: self.connection.peer,
            helo: hello.host.clone(),
            esmtp: hello.esmtp,
            tls: self.connection.tls_active,
            mail_from: transaction.mail_from,
            rcpt_to: transaction.rcpt_to,
            smtputf8: transaction.params.smtputf8,
            body: transaction.params.body,
            declared_size: transaction.params.size,
        };
        self.reply(&reply::START_DATA);
        self.state = State::Data {
            reader: DataReader::new(
                self.config.max_message_size,
                self.config.bare_newlines,
                self.budget.reservation(),
            ),
            envelope: Box::new(envelope),
        };
    }

    fn start_tls(&mut self) {
        if self.connection.tls_active {
            self.refuse(reply::TLS_ALREADY_ACTIVE);
        } else if !self.connection.tls_available {
            self.refuse(reply::TLS_NOT_AVAILABLE);
        } else if self.transaction.is_some() {
            self.refuse(reply::TLS_IN_TRANSACTION);
        } else {
            self.reply(&reply::READY_FOR_TLS);
            self.state = State::StartingTls;
        }
    }
}
