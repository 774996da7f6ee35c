//! One command line in, one [`Command`] (or the reply that refuses it) out.
//!
//! The grammar is smtp-proto's (`Request::parse`, Stalwart's parser: addresses, quoting,
//! source routes and every registered MAIL/RCPT parameter). This module only narrows its
//! `Request` enum to what this gateway offers: parameters of extensions we do not
//! advertise (DSN, REQUIRETLS, BINARYMIME, ...) are refused with 555 (RFC 5321 §4.1.1.11),
//! and commands we know but do not offer (AUTH, EXPN, BDAT, ...) become
//! [`Command::NotImplemented`].
//!
//! There is one enum and no `cmd/` folder with a file per command (convention 5): smtp-proto
//! already owns each command's parsing, so a per-command file would hold three lines of
//! mapping. What convention 5 wants, a closed set where a new command makes the compiler list
//! every unhandled `match`, holds because both `Request` and [`Command`] are closed enums
//! matched exhaustively here and in the session.

use std::borrow::Cow;

use smtp_proto::{
    Error as ProtoError, MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_BODY_BINARYMIME, MAIL_BY_NOTIFY,
    MAIL_BY_RETURN, MAIL_BY_TRACE, MAIL_CONPERM, MAIL_REQUIRETLS, MAIL_RET_FULL, MAIL_RET_HDRS,
    MAIL_SMTPUTF8, MailFrom, RCPT_CONNEG, RCPT_RRVS_CONTINUE, RCPT_RRVS_REJECT, RcptTo, Request,
};

use crate::envelope::Body;
use crate::reply::{self, Reply};

/// The parameters of MAIL FROM this gateway understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailParams {
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `BODY=7BIT` or `BODY=8BITMIME` (RFC 6152).
    pub body: Body,
    /// `SIZE=` (RFC 1870).
    pub size: Option<usize>,
}

/// A command the session acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// HELO (`esmtp: false`) or EHLO (`esmtp: true`) with the client's name.
    Hello {
        /// The name the client gave.
        host: String,
        /// Whether it was EHLO.
        esmtp: bool,
    },
    /// MAIL FROM with its reverse-path (empty for `<>`) and parameters.
    Mail {
        /// The reverse-path without angle brackets.
        from: String,
        /// Its parameters.
        params: MailParams,
    },
    /// RCPT TO with its forward-path.
    Rcpt {
        /// The forward-path without angle brackets (`postmaster` for `<Postmaster>`).
        to: String,
    },
    /// DATA.
    Data,
    /// RSET.
    Rset,
    /// NOOP.
    Noop,
    /// VRFY.
    Vrfy,
    /// HELP.
    Help,
    /// QUIT.
    Quit,
    /// STARTTLS (RFC 3207).
    StartTls,
    /// A command smtp-proto knows that this gateway does not offer; the name is for logs.
    NotImplemented(&'static str),
}

/// Catch-all for parser outcomes that name no command (should not happen on a whole line).
const SYNTAX_ERROR: Reply = Reply::new(500, "5.5.2", "syntax error");

impl Command {
    /// Parses one command line, including its line ending.
    pub fn parse(line: &[u8]) -> Result<Command, Reply> {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        // smtp-proto skips CRs anywhere and replaces invalid UTF-8; refuse both instead,
        // so what we log and relay is exactly what the client sent.
        if body.iter().any(|&b| b == b'\r' || b == 0) || std::str::from_utf8(body).is_err() {
            return Err(reply::BAD_CHARACTERS);
        }
        match Request::parse(&mut line.iter()) {
            Ok(request) => from_request(request, line),
            Err(e) => Err(refusal(e)),
        }
    }
}

fn from_request(request: Request<Cow<'_, str>>, line: &[u8]) -> Result<Command, Reply> {
    Ok(match request {
        Request::Ehlo { host } => Command::Hello {
            host: host.into_owned(),
            esmtp: true,
        },
        Request::Helo { host } => Command::Hello {
            host: host.into_owned(),
            esmtp: false,
        },
        Request::Mail { from } => mail(from)?,
        Request::Rcpt { to } => rcpt(to, line)?,
        Request::Data => Command::Data,
        Request::Rset => Command::Rset,
        Request::Noop { .. } => Command::Noop,
        Request::Vrfy { .. } => Command::Vrfy,
        Request::Help { .. } => Command::Help,
        Request::Quit => Command::Quit,
        Request::StartTls => Command::StartTls,
        // CHUNKING is not advertised, so BDAT is refused like the other extensions.
        r @ (Request::Lhlo { .. }
        | Request::Bdat { .. }
        | Request::Auth { .. }
        | Request::Expn { .. }
        | Request::Etrn { .. }
        | Request::Atrn { .. }
        | Request::Burl { .. }) => Command::NotImplemented(r.name()),
    })
}

fn mail(from: MailFrom<Cow<'_, str>>) -> Result<Command, Reply> {
    let unsupported = |name: &str| Err(reply::UNSUPPORTED_PARAMETER.fill(name));
    let flags = from.flags;
    if flags & MAIL_BODY_BINARYMIME != 0 {
        return unsupported("BODY=BINARYMIME");
    }
    for (bits, name) in [
        (MAIL_RET_FULL | MAIL_RET_HDRS, "RET"),
        (MAIL_REQUIRETLS, "REQUIRETLS"),
        (MAIL_CONPERM, "CONPERM"),
        (MAIL_BY_NOTIFY | MAIL_BY_RETURN | MAIL_BY_TRACE, "BY"),
    ] {
        if flags & bits != 0 {
            return unsupported(name);
        }
    }
    for (present, name) in [
        (from.env_id.is_some(), "ENVID"),
        (from.trans_id.is_some(), "TRANSID"),
        (from.solicit.is_some(), "SOLICIT"),
        (from.mtrk.is_some(), "MTRK"),
        (from.auth.is_some(), "AUTH"),
        (from.hold_for != 0, "HOLDFOR"),
        (from.hold_until != 0, "HOLDUNTIL"),
        (from.mt_priority != 0, "MT-PRIORITY"),
        (from.by != 0, "BY"),
    ] {
        if present {
            return unsupported(name);
        }
    }
    let body = if flags & MAIL_BODY_8BITMIME != 0 {
        Body::EightBitMime
    } else if flags & MAIL_BODY_7BIT != 0 {
        Body::SevenBit
    } else {
        Body::Unspecified
    };
    Ok(Command::Mail {
        from: from.address.into_owned(),
        params: MailParams {
            smtputf8: flags & MAIL_SMTPUTF8 != 0,
            body,
            size: (from.size > 0).then_some(from.size),
        },
    })
}

fn rcpt(to: RcptTo<Cow<'_, str>>, line: &[u8]) -> Result<Command, Reply> {
    for (present, name) in [
        (to.flags & RCPT_CONNEG != 0, "CONNEG"),
        (
            to.rrvs != 0 || to.flags & (RCPT_RRVS_REJECT | RCPT_RRVS_CONTINUE) != 0,
            "RRVS",
        ),
        (to.flags != 0, "NOTIFY"),
        (to.orcpt.is_some(), "ORCPT"),
    ] {
        if present {
            return Err(reply::UNSUPPORTED_PARAMETER.fill(name));
        }
    }
    if to.address.is_empty() {
        // smtp-proto turns both `<>` and `<Postmaster>` into "". RFC 5321 §4.5.1 requires
        // accepting the second; the first is never a valid recipient.
        let postmaster = line
            .windows(b"<postmaster>".len())
            .any(|w| w.eq_ignore_ascii_case(b"<postmaster>"));
        return if postmaster {
            Ok(Command::Rcpt {
                to: "postmaster".to_string(),
            })
        } else {
            Err(reply::BAD_RECIPIENT)
        };
    }
    Ok(Command::Rcpt {
        to: to.address.into_owned(),
    })
}

fn refusal(error: ProtoError) -> Reply {
    match error {
        ProtoError::UnknownCommand => reply::UNKNOWN_COMMAND,
        ProtoError::InvalidSenderAddress => reply::BAD_SENDER,
        ProtoError::InvalidRecipientAddress => reply::BAD_RECIPIENT,
        ProtoError::SyntaxError { syntax } => reply::SYNTAX.fill(syntax),
        ProtoError::InvalidParameter { param } => reply::BAD_PARAMETER.fill(param),
        ProtoError::UnsupportedParameter { param } => reply::UNSUPPORTED_PARAMETER.fill(&param),
        ProtoError::NeedsMoreData { .. }
        | ProtoError::ResponseTooLong
        | ProtoError::InvalidResponse { .. } => SYNTAX_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, Reply> {
        Command::parse(line.as_bytes())
    }

    fn refused(line: &str) -> String {
        parse(line).expect_err("line should be refused").to_string()
    }

    fn mail_params(line: &str) -> MailParams {
        match parse(line).expect("line should parse") {
            Command::Mail { params, .. } => params,
            other => panic!("not MAIL: {other:?}"),
        }
    }

    #[test]
    fn ehlo_is_hello_with_esmtp() {
        assert_eq!(
            parse("EHLO client.example.org\r\n").unwrap(),
            Command::Hello {
                host: "client.example.org".into(),
                esmtp: true
            }
        );
    }

    #[test]
    fn helo_is_hello_without_esmtp() {
        assert!(matches!(
            parse("helo client\r\n").unwrap(),
            Command::Hello { esmtp: false, .. }
        ));
    }

    #[test]
    fn ehlo_without_name_is_a_syntax_error() {
        assert_eq!(refused("EHLO\r\n"), "501 5.5.4 syntax: EHLO domain");
    }

    #[test]
    fn mail_keeps_address_case() {
        assert_eq!(
            parse("MAIL FROM:<Alice@Example.org>\r\n").unwrap(),
            Command::Mail {
                from: "Alice@Example.org".into(),
                params: MailParams::default()
            }
        );
    }

    #[test]
    fn mail_null_sender_is_empty() {
        assert!(
            matches!(parse("MAIL FROM:<>\r\n").unwrap(), Command::Mail { from, .. } if from.is_empty())
        );
    }

    #[test]
    fn mail_reads_size_body_and_smtputf8() {
        let params = mail_params("MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME SMTPUTF8\r\n");
        assert_eq!(
            params,
            MailParams {
                smtputf8: true,
                body: Body::EightBitMime,
                size: Some(1000)
            }
        );
    }

    #[test]
    fn mail_body_7bit_is_read() {
        assert_eq!(
            mail_params("MAIL FROM:<a@example.org> BODY=7BIT\r\n").body,
            Body::SevenBit
        );
    }

    #[test]
    fn mail_with_dsn_parameter_is_unsupported() {
        assert_eq!(
            refused("MAIL FROM:<a@example.org> RET=HDRS\r\n"),
            "555 5.5.4 unsupported parameter RET"
        );
    }

    #[test]
    fn mail_with_binarymime_is_unsupported() {
        assert_eq!(
            refused("MAIL FROM:<a@example.org> BODY=BINARYMIME\r\n"),
            "555 5.5.4 unsupported parameter BODY=BINARYMIME"
        );
    }

    #[test]
    fn mail_with_unknown_parameter_is_unsupported() {
        assert_eq!(
            refused("MAIL FROM:<a@example.org> XFOO=1\r\n"),
            "555 5.5.4 unsupported parameter XFOO=1"
        );
    }

    #[test]
    fn mail_with_bad_size_is_a_bad_parameter() {
        assert_eq!(
            refused("MAIL FROM:<a@example.org> SIZE=abc\r\n"),
            "501 5.5.4 invalid SIZE parameter"
        );
    }

    #[test]
    fn mail_without_brackets_is_a_syntax_error() {
        assert_eq!(
            refused("MAIL FROM:a@example.org\r\n"),
            "501 5.5.4 syntax: MAIL FROM:<reverse-path> [parameters]"
        );
    }

    #[test]
    fn rcpt_postmaster_without_domain_is_accepted() {
        assert_eq!(
            parse("RCPT TO:<Postmaster>\r\n").unwrap(),
            Command::Rcpt {
                to: "postmaster".into()
            }
        );
    }

    #[test]
    fn rcpt_null_path_is_refused() {
        assert_eq!(
            refused("RCPT TO:<>\r\n"),
            "501 5.1.3 bad recipient address syntax"
        );
    }

    #[test]
    fn rcpt_with_notify_is_unsupported() {
        assert_eq!(
            refused("RCPT TO:<b@example.org> NOTIFY=NEVER\r\n"),
            "555 5.5.4 unsupported parameter NOTIFY"
        );
    }

    #[test]
    fn rcpt_source_route_is_dropped() {
        assert_eq!(
            parse("RCPT TO:<@relay.example.net:b@example.org>\r\n").unwrap(),
            Command::Rcpt {
                to: "b@example.org".into()
            }
        );
    }

    #[test]
    fn bare_lf_ends_a_command_too() {
        assert_eq!(parse("QUIT\n").unwrap(), Command::Quit);
    }

    #[test]
    fn bare_cr_inside_a_command_is_refused() {
        assert_eq!(
            refused("RCPT TO:<b@example.org>\rDATA\r\n"),
            "500 5.5.2 invalid characters in command"
        );
    }

    #[test]
    fn nul_inside_a_command_is_refused() {
        assert_eq!(
            refused("NO\0OP\r\n"),
            "500 5.5.2 invalid characters in command"
        );
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert_eq!(
            Command::parse(b"MAIL FROM:<\xff@example.org>\r\n")
                .unwrap_err()
                .to_string(),
            "500 5.5.2 invalid characters in command"
        );
    }

    #[test]
    fn unknown_command_is_500_5_5_1() {
        assert_eq!(refused("FOO bar\r\n"), "500 5.5.1 unknown command");
    }

    #[test]
    fn empty_line_is_an_unknown_command() {
        assert_eq!(refused("\r\n"), "500 5.5.1 unknown command");
    }

    #[test]
    fn auth_is_not_implemented() {
        assert_eq!(
            parse("AUTH PLAIN AGFAAGI=\r\n").unwrap(),
            Command::NotImplemented("AUTH")
        );
    }

    #[test]
    fn bdat_is_not_implemented() {
        assert_eq!(
            parse("BDAT 100 LAST\r\n").unwrap(),
            Command::NotImplemented("BDAT")
        );
    }

    #[test]
    fn simple_commands_are_case_insensitive() {
        for (line, command) in [
            ("data\r\n", Command::Data),
            ("Rset\r\n", Command::Rset),
            ("noop\r\n", Command::Noop),
            ("NOOP hello\r\n", Command::Noop),
            ("VRFY bob\r\n", Command::Vrfy),
            ("help\r\n", Command::Help),
            ("quit\r\n", Command::Quit),
            ("starttls\r\n", Command::StartTls),
        ] {
            assert_eq!(parse(line).unwrap(), command, "{line:?}");
        }
    }
}
