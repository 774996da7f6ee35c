//! What the caller decides at end of message: modifications and a verdict.
//!
//! A [`Decision`] is a list of [`Modification`]s and one [`Verdict`]. Every field is
//! checked before anything is sent (header names are RFC 5322 `ftext`, values carry no
//! control characters except folds, envelope fields no line breaks), so a bad decision is a
//! [`DecisionError`] for the caller, not a header injection or a desynchronised MTA. The
//! order of frames is `plan.rs`'s business.

use crate::flags::Actions;
use crate::reply::Reply;
use crate::wire::EncodeError;

/// The caller's answer to [`crate::Event::MessageComplete`].
///
/// Modifications are only sent with a delivering verdict (`Accept`, `Continue`,
/// `Quarantine`); with `Reject`, `Tempfail` or `Discard` they are checked, then ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Changes to the message, applied in this order (the body replacement last).
    pub modifications: Vec<Modification>,
    /// The final word on the message.
    pub verdict: Verdict,
}

impl Decision {
    /// A decision with no modifications.
    pub fn new(verdict: Verdict) -> Self {
        Self {
            modifications: Vec::new(),
            verdict,
        }
    }

    /// Adds one modification.
    pub fn with(mut self, modification: Modification) -> Self {
        self.modifications.push(modification);
        self
    }
}

/// The final reply for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Deliver (`SMFIR_ACCEPT`).
    Accept,
    /// Deliver (`SMFIR_CONTINUE`; same effect as `Accept` at end of message).
    Continue,
    /// Refuse permanently, with this 5xx reply or the MTA's default.
    Reject(Option<Reply>),
    /// Refuse temporarily, with this 4xx reply or the MTA's default.
    Tempfail(Option<Reply>),
    /// Accept, then drop silently.
    Discard,
    /// Hold the message in the MTA (Postfix's hold queue), then continue.
    Quarantine {
        /// Why, as Postfix logs it.
        reason: String,
    },
}

/// One change to the message or its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modification {
    /// Append a header (needs `ADD_HEADERS`).
    AddHeader {
        /// Field name.
        name: String,
        /// Field value; folds are `\n` followed by a space or tab.
        value: String,
    },
    /// Insert a header at `index`, 0 being the top (needs `ADD_HEADERS`).
    InsertHeader {
        /// Position among all headers.
        index: u32,
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
    /// Replace the value of the `index`-th header called `name`, from 1 (needs `CHANGE_HEADERS`).
    ChangeHeader {
        /// Field name.
        name: String,
        /// Occurrence, from 1.
        index: u32,
        /// New, non-empty value.
        value: String,
    },
    /// Delete the `index`-th header called `name`, from 1 (needs `CHANGE_HEADERS`).
    DeleteHeader {
        /// Field name.
        name: String,
        /// Occurrence, from 1.
        index: u32,
    },
    /// Replace the whole body, CRLF line endings (needs `CHANGE_BODY`).
    ReplaceBody(Vec<u8>),
    /// Add a recipient (needs `ADD_RECIPIENT`, or `ADD_RECIPIENT_WITH_PARAMS` with params).
    AddRecipient {
        /// The forward-path, e.g. `<soc@example.org>`.
        address: String,
        /// ESMTP parameters.
        params: Option<String>,
    },
    /// Remove a recipient (needs `DELETE_RECIPIENT`).
    DeleteRecipient {
        /// The address as given in RCPT.
        address: String,
    },
    /// Replace the envelope sender (needs `CHANGE_SENDER`).
    ChangeSender {
        /// The new reverse-path.
        address: String,
        /// ESMTP parameters.
        params: Option<String>,
    },
}

impl Modification {
    /// The action the MTA must have granted for this change.
    pub fn required_action(&self) -> Actions {
        match self {
            Self::AddHeader { .. } | Self::InsertHeader { .. } => Actions::ADD_HEADERS,
            Self::ChangeHeader { .. } | Self::DeleteHeader { .. } => Actions::CHANGE_HEADERS,
            Self::ReplaceBody(_) => Actions::CHANGE_BODY,
            Self::AddRecipient { params: None, .. } => Actions::ADD_RECIPIENT,
            Self::AddRecipient {
                params: Some(_), ..
            } => Actions::ADD_RECIPIENT_WITH_PARAMS,
            Self::DeleteRecipient { .. } => Actions::DELETE_RECIPIENT,
            Self::ChangeSender { .. } => Actions::CHANGE_SENDER,
        }
    }

    /// Checks the fields, so nothing malformed reaches the MTA.
    pub(crate) fn validate(&self) -> Result<(), DecisionError> {
        match self {
            Self::AddHeader { name, value } | Self::InsertHeader { name, value, .. } => {
                header(name, value)
            }
            Self::ChangeHeader { name, index, value } => {
                header_index(name, *index)?;
                if value.is_empty() {
                    return Err(DecisionError::EmptyHeaderValue { name: name.clone() });
                }
                header(name, value)
            }
            Self::DeleteHeader { name, index } => {
                header_index(name, *index).and_then(|()| header(name, ""))
            }
            Self::ReplaceBody(_) => Ok(()),
            Self::AddRecipient { address, params } | Self::ChangeSender { address, params } => {
                line("address", address)?;
                params
                    .as_deref()
                    .map_or(Ok(()), |p| line("esmtp parameters", p))
            }
            Self::DeleteRecipient { address } => line("address", address),
        }
    }
}

/// What the session did with a decision beyond the obvious.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Modifications not sent because the MTA did not grant their action.
    pub dropped: Vec<Modification>,
    /// `Quarantine` was asked for but not granted, so the fallback verdict was sent instead.
    pub quarantine_fallback: bool,
}

/// Why a decision cannot be sent; the session still waits for a valid one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// A reject carries a 4xx reply, or a tempfail a 5xx one.
    #[error("{verdict} verdict cannot carry reply code {code}")]
    ReplyClass {
        /// `reject` or `tempfail`.
        verdict: &'static str,
        /// The mismatched code.
        code: u16,
    },
    /// A header name is empty or has a byte outside RFC 5322 `ftext`.
    #[error("invalid header name {name:?}")]
    HeaderName {
        /// The name given.
        name: String,
    },
    /// A header value has a control byte or a line break not followed by whitespace.
    #[error("header {name:?} has a control character or bare line break at byte {offset}")]
    HeaderValue {
        /// The header.
        name: String,
        /// Offset of the offending byte in the value.
        offset: usize,
    },
    /// A header change has an empty value (use `DeleteHeader`).
    #[error("change of header {name:?} has an empty value")]
    EmptyHeaderValue {
        /// The header.
        name: String,
    },
    /// A header change or delete has index 0 (occurrences count from 1).
    #[error("header {name:?} index 0 is invalid, occurrences count from 1")]
    HeaderIndex {
        /// The header.
        name: String,
    },
    /// An envelope field or quarantine reason has a control byte.
    #[error("{field} {value:?} contains a control character")]
    Line {
        /// Which field.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// More than one `ReplaceBody`.
    #[error("decision replaces the body {0} times, at most once is possible")]
    SeveralBodies(usize),
    /// A frame could not be encoded.
    #[error("cannot encode the decision")]
    Encode(#[from] EncodeError),
}

fn header(name: &str, value: &str) -> Result<(), DecisionError> {
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        return Err(DecisionError::HeaderName {
            name: name.to_owned(),
        });
    }
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let fold = b == b'\n' && matches!(bytes.get(i + 1), Some(b' ' | b'\t'));
        if (b < 0x20 && b != b'\t' && !fold) || b == 0x7f {
            return Err(DecisionError::HeaderValue {
                name: name.to_owned(),
                offset: i,
            });
        }
    }
    Ok(())
}

fn header_index(name: &str, index: u32) -> Result<(), DecisionError> {
    if index == 0 {
        Err(DecisionError::HeaderIndex {
            name: name.to_owned(),
        })
    } else {
        Ok(())
    }
}

pub(crate) fn line(field: &'static str, value: &str) -> Result<(), DecisionError> {
    if value.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(DecisionError::Line {
            field,
            value: value.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(name: &str, value: &str) -> Modification {
        Modification::AddHeader {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn header_injection_is_refused_but_folding_is_allowed() {
        assert!(matches!(
            add("X-A", "1\r\nBcc: x@example.org").validate(),
            Err(DecisionError::HeaderValue { offset: 1, .. })
        ));
        assert!(matches!(
            add("X-A", "1\nBcc: x@example.org").validate(),
            Err(DecisionError::HeaderValue { offset: 1, .. })
        ));
        assert_eq!(add("X-A", "1\n\t2").validate(), Ok(()));
    }

    #[test]
    fn header_name_outside_ftext_is_refused() {
        for name in ["", "X:A", "X A", "Caf\u{e9}"] {
            assert!(
                matches!(
                    add(name, "1").validate(),
                    Err(DecisionError::HeaderName { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn header_change_needs_an_index_from_1_and_a_value() {
        let zero = Modification::DeleteHeader {
            name: "X".into(),
            index: 0,
        };
        assert!(matches!(
            zero.validate(),
            Err(DecisionError::HeaderIndex { .. })
        ));
        let empty = Modification::ChangeHeader {
            name: "X".into(),
            index: 1,
            value: String::new(),
        };
        assert!(matches!(
            empty.validate(),
            Err(DecisionError::EmptyHeaderValue { .. })
        ));
    }

    #[test]
    fn line_break_in_an_address_is_refused() {
        let m = Modification::AddRecipient {
            address: "<a@example.org>\r\nRCPT".into(),
            params: None,
        };
        assert!(matches!(
            m.validate(),
            Err(DecisionError::Line {
                field: "address",
                ..
            })
        ));
    }

    #[test]
    fn recipient_with_params_needs_the_params_action() {
        let m = Modification::AddRecipient {
            address: "<a@example.org>".into(),
            params: Some("NOTIFY=NEVER".into()),
        };
        assert_eq!(m.required_action(), Actions::ADD_RECIPIENT_WITH_PARAMS);
    }
}
