//! Commands the MTA sends to the filter (`SMFIC_*` in Sendmail's `mfdef.h`).
//!
//! [`Command`] is a closed enum: decoding a frame yields one variant with its fields
//! parsed, and every `match` on it lists all fifteen, so a new command cannot be half
//! handled. Encoding exists for the round-trip tests and for a test MTA; the session
//! only decodes. Field layouts follow `milter8.c`: CONNECT is
//! `hostname\0 family [port(u16) address\0]`, MACRO is `stage name\0value\0…`, MAIL and
//! RCPT are lists of NUL-terminated arguments (address first, then ESMTP parameters).

use std::net::IpAddr;

use crate::codec::Frame;
use crate::flags::{Actions, ProtocolFlags};
use crate::wire::{DecodeError, EncodeError, Reader, encode_frame_with, put_z};

/// `SMFIC_OPTNEG`.
pub(crate) const OPTNEG: u8 = b'O';
/// `SMFIC_MACRO`.
pub(crate) const MACRO: u8 = b'D';
/// `SMFIC_CONNECT`.
pub(crate) const CONNECT: u8 = b'C';
/// `SMFIC_HELO`.
pub(crate) const HELO: u8 = b'H';
/// `SMFIC_MAIL`.
pub(crate) const MAIL: u8 = b'M';
/// `SMFIC_RCPT`.
pub(crate) const RCPT: u8 = b'R';
/// `SMFIC_DATA`.
pub(crate) const DATA: u8 = b'T';
/// `SMFIC_HEADER`.
pub(crate) const HEADER: u8 = b'L';
/// `SMFIC_EOH`.
pub(crate) const EOH: u8 = b'N';
/// `SMFIC_BODY`.
pub(crate) const BODY: u8 = b'B';
/// `SMFIC_BODYEOB`.
pub(crate) const BODYEOB: u8 = b'E';
/// `SMFIC_ABORT`.
pub(crate) const ABORT: u8 = b'A';
/// `SMFIC_QUIT`.
pub(crate) const QUIT: u8 = b'Q';
/// `SMFIC_QUIT_NC`.
pub(crate) const QUIT_NC: u8 = b'K';
/// `SMFIC_UNKNOWN`.
pub(crate) const UNKNOWN: u8 = b'U';

/// One command from the MTA, fields parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `O`: the MTA's protocol version and what it offers.
    OptionNegotiation(Options),
    /// `D`: macros for the command `stage` (a command byte such as `b'C'`) that follows.
    Macro {
        /// The command these macros belong to.
        stage: u8,
        /// Name/value pairs; names as sent (`j`, `{client_addr}`).
        macros: Vec<(String, String)>,
    },
    /// `C`: the SMTP client connected.
    Connect(ConnectInfo),
    /// `H`: the HELO/EHLO name.
    Helo(String),
    /// `M`: MAIL FROM arguments, the reverse-path (`<a@example.org>`) first.
    Mail(Vec<String>),
    /// `R`: RCPT TO arguments, the forward-path first.
    Rcpt(Vec<String>),
    /// `T`: the DATA command.
    Data,
    /// `L`: one message header; the value may hold 8-bit bytes and line folds.
    Header {
        /// Field name, without the colon.
        name: String,
        /// Field value as sent.
        value: Vec<u8>,
    },
    /// `N`: end of headers.
    EndOfHeaders,
    /// `B`: a chunk of body bytes, CRLF line endings.
    Body(Vec<u8>),
    /// `E`: end of message, optionally with a last body chunk; the filter now decides.
    EndOfBody(Vec<u8>),
    /// `A`: forget the current message, keep the connection.
    Abort,
    /// `Q`: the connection is over.
    Quit,
    /// `K`: this SMTP connection is over, another one follows on the same socket.
    QuitNewConnection,
    /// `U`: an SMTP command the MTA did not recognise.
    Unknown(String),
}

/// The three numbers of option negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Protocol version (Postfix: 6 unless `milter_protocol` says otherwise).
    pub version: u32,
    /// `SMFIF_*` bits.
    pub actions: Actions,
    /// `SMFIP_*` bits.
    pub protocol: ProtocolFlags,
}

/// The SMTP client as the MTA describes it in CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectInfo {
    /// Reverse-DNS name, or `[192.0.2.1]` when it has none (Postfix's form).
    pub hostname: String,
    /// Kind of address.
    pub family: Family,
    /// Client port; 0 for Unix sockets and unknown families.
    pub port: u16,
    /// Address text (IP literal or socket path); empty for an unknown family.
    pub address: String,
}

/// `SMFIA_*`: the CONNECT family byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `4`: IPv4.
    Inet,
    /// `6`: IPv6.
    Inet6,
    /// `L`: a Unix-domain socket.
    Unix,
    /// `U`: unknown; no port or address follows.
    Unknown,
}

impl Family {
    const fn code(self) -> u8 {
        match self {
            Self::Inet => b'4',
            Self::Inet6 => b'6',
            Self::Unix => b'L',
            Self::Unknown => b'U',
        }
    }
}

impl ConnectInfo {
    /// The client's IP address, when the family is IPv4/IPv6 and the text parses.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.family {
            Family::Inet | Family::Inet6 => {
                // Sendmail writes IPv6 clients as `IPv6:2001:db8::1`.
                let text = self.address.strip_prefix("IPv6:").unwrap_or(&self.address);
                text.parse().ok()
            }
            Family::Unix | Family::Unknown => None,
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let hostname = r.string_z("connect hostname")?;
        let family = match r.u8("connect family")? {
            b'4' => Family::Inet,
            b'6' => Family::Inet6,
            b'L' => Family::Unix,
            b'U' => Family::Unknown,
            other => return Err(DecodeError::UnknownFamily(other)),
        };
        let (port, address) = match family {
            Family::Unknown => (0, String::new()),
            _ => (r.u16("connect port")?, r.string_z("connect address")?),
        };
        Ok(Self {
            hostname,
            family,
            port,
            address,
        })
    }
}

impl Command {
    /// The command byte.
    pub fn code(&self) -> u8 {
        match self {
            Self::OptionNegotiation(_) => OPTNEG,
            Self::Macro { .. } => MACRO,
            Self::Connect(_) => CONNECT,
            Self::Helo(_) => HELO,
            Self::Mail(_) => MAIL,
            Self::Rcpt(_) => RCPT,
            Self::Data => DATA,
            Self::Header { .. } => HEADER,
            Self::EndOfHeaders => EOH,
            Self::Body(_) => BODY,
            Self::EndOfBody(_) => BODYEOB,
            Self::Abort => ABORT,
            Self::Quit => QUIT,
            Self::QuitNewConnection => QUIT_NC,
            Self::Unknown(_) => UNKNOWN,
        }
    }

    /// Whether `code` is the byte of a command the MTA sends.
    pub fn is_code(code: u8) -> bool {
        matches!(
            code,
            OPTNEG
                | MACRO
                | CONNECT
                | HELO
                | MAIL
                | RCPT
                | DATA
                | HEADER
                | EOH
                | BODY
                | BODYEOB
                | ABORT
                | QUIT
                | QUIT_NC
                | UNKNOWN
        )
    }

    /// Parses one frame from the MTA.
    pub fn decode(frame: Frame<'_>) -> Result<Self, DecodeError> {
        let mut r = Reader::new(frame.data);
        let command = match frame.code {
            OPTNEG => {
                let version = r.u32("optneg version")?;
                let actions = Actions::from_bits(r.u32("optneg actions")?);
                let protocol = ProtocolFlags::from_bits(r.u32("optneg protocol")?);
                // libmilter reads the first 12 bytes and ignores the rest; so do we.
                r.rest();
                Self::OptionNegotiation(Options {
                    version,
                    actions,
                    protocol,
                })
            }
            MACRO => {
                let stage = r.u8("macro stage")?;
                let mut values = r.strings_z("macro")?.into_iter();
                let mut macros = Vec::new();
                while let Some(name) = values.next() {
                    let value = values
                        .next()
                        .ok_or_else(|| DecodeError::MacroWithoutValue { name: name.clone() })?;
                    macros.push((name, value));
                }
                Self::Macro { stage, macros }
            }
            CONNECT => Self::Connect(ConnectInfo::decode(&mut r)?),
            HELO => Self::Helo(r.string_z("helo name")?),
            MAIL => Self::Mail(non_empty(r.strings_z("mail argument")?, "MAIL")?),
            RCPT => Self::Rcpt(non_empty(r.strings_z("rcpt argument")?, "RCPT")?),
            DATA => Self::Data,
            HEADER => {
                let name = r.string_z("header name")?;
                let value = r.bytes_z("header value")?.to_vec();
                Self::Header { name, value }
            }
            EOH => Self::EndOfHeaders,
            BODY => Self::Body(r.rest().to_vec()),
            BODYEOB => Self::EndOfBody(r.rest().to_vec()),
            ABORT => Self::Abort,
            QUIT => Self::Quit,
            QUIT_NC => Self::QuitNewConnection,
            UNKNOWN => Self::Unknown(r.string_z("unknown command")?),
            other => return Err(DecodeError::UnknownCommand(other)),
        };
        r.finish(command.name())?;
        Ok(command)
    }

    /// Appends this command as one frame.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_frame_with(out, self.code(), |out| self.encode_data(out))
    }

    fn encode_data(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::OptionNegotiation(o) => {
                for n in [o.version, o.actions.bits(), o.protocol.bits()] {
                    out.extend_from_slice(&n.to_be_bytes());
                }
            }
            Self::Macro { stage, macros } => {
                out.push(*stage);
                for (name, value) in macros {
                    put_z(out, "macro name", name.as_bytes())?;
                    put_z(out, "macro value", value.as_bytes())?;
                }
            }
            Self::Connect(c) => {
                put_z(out, "connect hostname", c.hostname.as_bytes())?;
                out.push(c.family.code());
                if c.family != Family::Unknown {
                    out.extend_from_slice(&c.port.to_be_bytes());
                    put_z(out, "connect address", c.address.as_bytes())?;
                }
            }
            Self::Helo(name) => put_z(out, "helo name", name.as_bytes())?,
            Self::Mail(args) | Self::Rcpt(args) => {
                for arg in args {
                    put_z(out, "envelope argument", arg.as_bytes())?;
                }
            }
            Self::Header { name, value } => {
                put_z(out, "header name", name.as_bytes())?;
                put_z(out, "header value", value)?;
            }
            Self::Body(bytes) | Self::EndOfBody(bytes) => out.extend_from_slice(bytes),
            Self::Unknown(line) => put_z(out, "unknown command", line.as_bytes())?,
            Self::Data
            | Self::EndOfHeaders
            | Self::Abort
            | Self::Quit
            | Self::QuitNewConnection => {}
        }
        Ok(())
    }

    /// The `SMFIC_*` name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OptionNegotiation(_) => "OPTNEG",
            Self::Macro { .. } => "MACRO",
            Self::Connect(_) => "CONNECT",
            Self::Helo(_) => "HELO",
            Self::Mail(_) => "MAIL",
            Self::Rcpt(_) => "RCPT",
            Self::Data => "DATA",
            Self::Header { .. } => "HEADER",
            Self::EndOfHeaders => "EOH",
            Self::Body(_) => "BODY",
            Self::EndOfBody(_) => "BODYEOB",
            Self::Abort => "ABORT",
            Self::Quit => "QUIT",
            Self::QuitNewConnection => "QUIT_NC",
            Self::Unknown(_) => "UNKNOWN",
        }
    }
}

fn non_empty(args: Vec<String>, what: &'static str) -> Result<Vec<String>, DecodeError> {
    if args.is_empty() {
        Err(DecodeError::MissingArgument { what })
    } else {
        Ok(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(code: u8, data: &[u8]) -> Result<Command, DecodeError> {
        Command::decode(Frame { code, data })
    }

    #[test]
    fn connect_ipv4_parses_every_field() {
        let c = decode(b'C', b"mx.example.net\x004\x1f\x90192.0.2.1\0").unwrap();
        let Command::Connect(info) = c else {
            panic!("not a connect: {c:?}")
        };
        assert_eq!(info.hostname, "mx.example.net");
        assert_eq!(info.family, Family::Inet);
        assert_eq!(info.port, 8080);
        assert_eq!(info.ip(), Some("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn connect_ipv6_with_sendmail_prefix_parses() {
        let c = decode(b'C', b"[2001:db8::1]\x006\0\x19IPv6:2001:db8::1\0").unwrap();
        let Command::Connect(info) = c else {
            panic!("not a connect: {c:?}")
        };
        assert_eq!(info.ip(), Some("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn connect_unknown_family_has_no_address() {
        let c = decode(b'C', b"localhost\0U").unwrap();
        let Command::Connect(info) = c else {
            panic!("not a connect: {c:?}")
        };
        assert_eq!(
            (info.family, info.port, info.ip()),
            (Family::Unknown, 0, None)
        );
    }

    #[test]
    fn connect_with_bad_family_is_an_error() {
        assert_eq!(decode(b'C', b"h\0X"), Err(DecodeError::UnknownFamily(b'X')));
    }

    #[test]
    fn macro_pairs_are_split() {
        let c = decode(b'D', b"Cj\0mx.example.org\0{daemon_name}\0smtpd\0").unwrap();
        assert_eq!(
            c,
            Command::Macro {
                stage: b'C',
                macros: vec![
                    ("j".into(), "mx.example.org".into()),
                    ("{daemon_name}".into(), "smtpd".into())
                ],
            }
        );
    }

    #[test]
    fn macro_name_without_value_is_an_error() {
        assert!(matches!(
            decode(b'D', b"Cj\0"),
            Err(DecodeError::MacroWithoutValue { .. })
        ));
        assert!(matches!(
            decode(b'D', b""),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn mail_without_arguments_is_an_error() {
        assert_eq!(
            decode(b'M', b""),
            Err(DecodeError::MissingArgument { what: "MAIL" })
        );
    }

    #[test]
    fn data_with_payload_is_an_error() {
        assert_eq!(
            decode(b'T', b"x"),
            Err(DecodeError::TrailingData {
                what: "DATA",
                count: 1
            })
        );
    }

    #[test]
    fn header_value_keeps_8bit_bytes() {
        let c = decode(b'L', b"Subject\0\x82\xa0\0").unwrap();
        assert_eq!(
            c,
            Command::Header {
                name: "Subject".into(),
                value: b"\x82\xa0".to_vec()
            }
        );
    }

    #[test]
    fn unknown_code_is_an_error() {
        assert_eq!(decode(b'z', b""), Err(DecodeError::UnknownCommand(b'z')));
    }

    #[test]
    fn encode_refuses_nul_in_helo_and_leaves_output_untouched() {
        let mut out = b"keep".to_vec();
        let err = Command::Helo("a\0b".into()).encode(&mut out);
        assert!(matches!(err, Err(EncodeError::NulInString { .. })));
        assert_eq!(out, b"keep");
    }
}
