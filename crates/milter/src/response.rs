//! Responses the filter sends to the MTA (`SMFIR_*` in Sendmail's `mfdef.h`).
//!
//! The session builds these and encodes them; decoding exists so tests (and a future test
//! MTA) can read back what was sent. Layouts follow what Postfix's `milter8.c` reads:
//! header changes carry a big-endian index before `name\0value\0`, the sender and
//! recipient changes take an optional second string of ESMTP parameters, `REPLBODY` is raw
//! bytes, and the final decisions (`c`, `a`, `r`, `t`, `d`) carry no data at all — Postfix
//! treats any data after them as a protocol error.

use crate::codec::Frame;
use crate::command::Options;
use crate::flags::{Actions, MacroStage, ProtocolFlags};
use crate::reply::Reply;
use crate::wire::{DecodeError, EncodeError, Reader, encode_frame_with, put_z};

/// One response to the MTA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `O`: the filter's side of option negotiation, with optional per-stage macro lists.
    OptionNegotiation {
        /// Version, actions and protocol flags the filter settles on.
        options: Options,
        /// Space-separated macro names to send at each stage (`SMFIF_SETSYMLIST`).
        macros: Vec<(MacroStage, String)>,
    },
    /// `c`: go on.
    Continue,
    /// `a`: accept; at end of message, deliver it.
    Accept,
    /// `r`: reject with the MTA's default 5xx text.
    Reject,
    /// `t`: temporary failure with the MTA's default 4xx text.
    Tempfail,
    /// `d`: accept, then silently drop the message.
    Discard,
    /// `y`: reject or tempfail with this reply.
    ReplyCode(Reply),
    /// `h`: append a header.
    AddHeader {
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
    /// `i`: insert a header at `index` (0 = top).
    InsertHeader {
        /// Position among all headers.
        index: u32,
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
    /// `m`: change the `index`-th (1-based) header called `name`; an empty value deletes it.
    ChangeHeader {
        /// Occurrence of `name`, from 1.
        index: u32,
        /// Field name.
        name: String,
        /// New value, or empty to delete.
        value: String,
    },
    /// `b`: one chunk of the replacement body; consecutive chunks are concatenated.
    ReplaceBody(Vec<u8>),
    /// `q`: hold the message (Postfix: hold queue) for this reason.
    Quarantine(String),
    /// `+`: add a recipient.
    AddRecipient(String),
    /// `2`: add a recipient with ESMTP parameters.
    AddRecipientWithParams {
        /// The forward-path.
        address: String,
        /// ESMTP parameters, if any.
        params: Option<String>,
    },
    /// `-`: remove a recipient.
    DeleteRecipient(String),
    /// `e`: replace the envelope sender.
    ChangeSender {
        /// The new reverse-path.
        address: String,
        /// ESMTP parameters, if any.
        params: Option<String>,
    },
    /// `p`: still working; resets the MTA's timeout.
    Progress,
    /// `s`: skip the rest of this kind of event (body chunks).
    Skip,
}

impl Response {
    /// The response byte.
    pub fn code(&self) -> u8 {
        match self {
            Self::OptionNegotiation { .. } => b'O',
            Self::Continue => b'c',
            Self::Accept => b'a',
            Self::Reject => b'r',
            Self::Tempfail => b't',
            Self::Discard => b'd',
            Self::ReplyCode(_) => b'y',
            Self::AddHeader { .. } => b'h',
            Self::InsertHeader { .. } => b'i',
            Self::ChangeHeader { .. } => b'm',
            Self::ReplaceBody(_) => b'b',
            Self::Quarantine(_) => b'q',
            Self::AddRecipient(_) => b'+',
            Self::AddRecipientWithParams { .. } => b'2',
            Self::DeleteRecipient(_) => b'-',
            Self::ChangeSender { .. } => b'e',
            Self::Progress => b'p',
            Self::Skip => b's',
        }
    }

    /// The `SMFIR_*` name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OptionNegotiation { .. } => "OPTNEG",
            Self::Continue => "CONTINUE",
            Self::Accept => "ACCEPT",
            Self::Reject => "REJECT",
            Self::Tempfail => "TEMPFAIL",
            Self::Discard => "DISCARD",
            Self::ReplyCode(_) => "REPLYCODE",
            Self::AddHeader { .. } => "ADDHEADER",
            Self::InsertHeader { .. } => "INSHEADER",
            Self::ChangeHeader { .. } => "CHGHEADER",
            Self::ReplaceBody(_) => "REPLBODY",
            Self::Quarantine(_) => "QUARANTINE",
            Self::AddRecipient(_) => "ADDRCPT",
            Self::AddRecipientWithParams { .. } => "ADDRCPT_PAR",
            Self::DeleteRecipient(_) => "DELRCPT",
            Self::ChangeSender { .. } => "CHGFROM",
            Self::Progress => "PROGRESS",
            Self::Skip => "SKIP",
        }
    }

    /// Appends this response as one frame; on error `out` is left as it was.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_frame_with(out, self.code(), |out| self.encode_data(out))
    }

    fn encode_data(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::OptionNegotiation { options, macros } => {
                for n in [
                    options.version,
                    options.actions.bits(),
                    options.protocol.bits(),
                ] {
                    out.extend_from_slice(&n.to_be_bytes());
                }
                for (stage, names) in macros {
                    out.extend_from_slice(&stage.code().to_be_bytes());
                    put_z(out, "macro list", names.as_bytes())?;
                }
            }
            Self::ReplyCode(reply) => put_z(out, "reply", reply.to_wire().as_bytes())?,
            Self::AddHeader { name, value } => put_header(out, name, value)?,
            Self::InsertHeader { index, name, value }
            | Self::ChangeHeader { index, name, value } => {
                out.extend_from_slice(&index.to_be_bytes());
                put_header(out, name, value)?;
            }
            Self::ReplaceBody(bytes) => out.extend_from_slice(bytes),
            Self::Quarantine(reason) => put_z(out, "quarantine reason", reason.as_bytes())?,
            Self::AddRecipient(address) | Self::DeleteRecipient(address) => {
                put_z(out, "recipient", address.as_bytes())?;
            }
            Self::AddRecipientWithParams { address, params }
            | Self::ChangeSender { address, params } => {
                put_z(out, "address", address.as_bytes())?;
                if let Some(params) = params {
                    put_z(out, "esmtp parameters", params.as_bytes())?;
                }
            }
            Self::Continue
            | Self::Accept
            | Self::Reject
            | Self::Tempfail
            | Self::Discard
            | Self::Progress
            | Self::Skip => {}
        }
        Ok(())
    }

    /// Parses one frame from a filter.
    pub fn decode(frame: Frame<'_>) -> Result<Self, DecodeError> {
        let mut r = Reader::new(frame.data);
        let response = match frame.code {
            b'O' => {
                let version = r.u32("optneg version")?;
                let actions = Actions::from_bits(r.u32("optneg actions")?);
                let protocol = ProtocolFlags::from_bits(r.u32("optneg protocol")?);
                let mut macros = Vec::new();
                while !r.is_empty() {
                    let code = r.u32("macro stage")?;
                    let stage =
                        MacroStage::from_code(code).ok_or(DecodeError::UnknownMacroStage(code))?;
                    macros.push((stage, r.string_z("macro list")?));
                }
                Self::OptionNegotiation {
                    options: Options {
                        version,
                        actions,
                        protocol,
                    },
                    macros,
                }
            }
            b'c' => Self::Continue,
            b'a' => Self::Accept,
            b'r' => Self::Reject,
            b't' => Self::Tempfail,
            b'd' => Self::Discard,
            b'y' => Self::ReplyCode(Reply::parse(&r.string_z("reply")?)?),
            b'h' => {
                let (name, value) = (r.string_z("header name")?, r.string_z("header value")?);
                Self::AddHeader { name, value }
            }
            b'i' | b'm' => {
                let index = r.u32("header index")?;
                let (name, value) = (r.string_z("header name")?, r.string_z("header value")?);
                if frame.code == b'i' {
                    Self::InsertHeader { index, name, value }
                } else {
                    Self::ChangeHeader { index, name, value }
                }
            }
            b'b' => Self::ReplaceBody(r.rest().to_vec()),
            b'q' => Self::Quarantine(r.string_z("quarantine reason")?),
            b'+' => Self::AddRecipient(r.string_z("recipient")?),
            b'-' => Self::DeleteRecipient(r.string_z("recipient")?),
            b'2' | b'e' => {
                let address = r.string_z("address")?;
                let params = if r.is_empty() {
                    None
                } else {
                    Some(r.string_z("esmtp parameters")?)
                };
                if frame.code == b'2' {
                    Self::AddRecipientWithParams { address, params }
                } else {
                    Self::ChangeSender { address, params }
                }
            }
            b'p' => Self::Progress,
            b's' => Self::Skip,
            other => return Err(DecodeError::UnknownResponse(other)),
        };
        r.finish(response.name())?;
        Ok(response)
    }
}

fn put_header(out: &mut Vec<u8>, name: &str, value: &str) -> Result<(), EncodeError> {
    put_z(out, "header name", name.as_bytes())?;
    put_z(out, "header value", value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(r: &Response) -> Vec<u8> {
        let mut out = Vec::new();
        r.encode(&mut out).expect("test responses are valid");
        out
    }

    #[test]
    fn final_decisions_carry_no_data() {
        for (r, code) in [
            (Response::Continue, b'c'),
            (Response::Accept, b'a'),
            (Response::Discard, b'd'),
        ] {
            assert_eq!(encoded(&r), [0, 0, 0, 1, code]);
        }
    }

    #[test]
    fn add_header_is_name_nul_value_nul() {
        let r = Response::AddHeader {
            name: "X-A".into(),
            value: "1".into(),
        };
        assert_eq!(encoded(&r), b"\0\0\0\x07hX-A\x001\0");
    }

    #[test]
    fn change_header_puts_the_index_first() {
        let r = Response::ChangeHeader {
            index: 2,
            name: "Subject".into(),
            value: String::new(),
        };
        assert_eq!(encoded(&r), b"\0\0\0\x0em\0\0\0\x02Subject\0\0");
    }

    #[test]
    fn reply_code_is_nul_terminated_with_percent_doubled() {
        let reply = Reply::new(550, "5.7.1", "50% off").expect("valid reply");
        assert_eq!(
            encoded(&Response::ReplyCode(reply)),
            b"\0\0\0\x14y550 5.7.1 50%% off\0"
        );
    }

    #[test]
    fn continue_with_data_does_not_decode() {
        let err = Response::decode(Frame {
            code: b'c',
            data: b"x",
        });
        assert_eq!(
            err,
            Err(DecodeError::TrailingData {
                what: "CONTINUE",
                count: 1
            })
        );
    }

    #[test]
    fn unknown_macro_stage_does_not_decode() {
        let data = [0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, b'i', 0];
        let err = Response::decode(Frame {
            code: b'O',
            data: &data,
        });
        assert_eq!(err, Err(DecodeError::UnknownMacroStage(9)));
    }
}
