//! How a decision becomes response frames, in the order Postfix needs.
//!
//! Postfix's `milter8.c` reads end-of-message replies in a loop: any number of change
//! requests, then one final reply. Body replacement chunks must be consecutive (a `REPLBODY`
//! after another request is refused), so the order is fixed here: header and envelope
//! changes as given, then the body in chunks of at most [`BODY_CHUNK_LEN`] bytes, then
//! `QUARANTINE`, then the final reply. A change needing an action the MTA did not grant is
//! left out and reported in [`Outcome::dropped`]: libmilter MTAs drop the connection on an
//! ungranted request.

use crate::decision::{Decision, DecisionError, Modification, Outcome, Verdict, line};
use crate::flags::Actions;
use crate::response::Response;

/// Largest `REPLBODY` chunk: Postfix's and libmilter's `MILTER_CHUNK_SIZE`.
pub const BODY_CHUNK_LEN: usize = 65_535;

/// The frames for `decision`, given the granted actions; also what had to be left out.
pub(crate) fn plan(
    decision: Decision,
    granted: Actions,
    leading_space: bool,
    quarantine_fallback: &Verdict,
) -> Result<(Vec<Response>, Outcome), DecisionError> {
    for m in &decision.modifications {
        m.validate()?;
    }
    let bodies = decision
        .modifications
        .iter()
        .filter(|m| matches!(m, Modification::ReplaceBody(_)))
        .count();
    if bodies > 1 {
        return Err(DecisionError::SeveralBodies(bodies));
    }
    if let Verdict::Quarantine { reason } = &decision.verdict {
        line("quarantine reason", reason)?;
    }
    let mut outcome = Outcome::default();
    let mut verdict = decision.verdict;
    if matches!(verdict, Verdict::Quarantine { .. }) && !granted.contains(Actions::QUARANTINE) {
        outcome.quarantine_fallback = true;
        verdict = match quarantine_fallback {
            Verdict::Quarantine { .. } => Verdict::Tempfail(None),
            other => other.clone(),
        };
    }
    let final_reply = final_response(&verdict)?;
    let mut responses = Vec::new();
    if matches!(
        verdict,
        Verdict::Accept | Verdict::Continue | Verdict::Quarantine { .. }
    ) {
        let mut body = None;
        for m in decision.modifications {
            if !granted.contains(m.required_action()) {
                outcome.dropped.push(m);
            } else if let Modification::ReplaceBody(bytes) = m {
                body = Some(bytes);
            } else {
                responses.push(modification_response(m, leading_space));
            }
        }
        if let Some(bytes) = body {
            // An empty replacement is one empty chunk: Postfix then writes an empty body.
            let mut chunks = bytes.chunks(BODY_CHUNK_LEN).peekable();
            if chunks.peek().is_none() {
                responses.push(Response::ReplaceBody(Vec::new()));
            }
            responses.extend(chunks.map(|c| Response::ReplaceBody(c.to_vec())));
        }
    }
    if let Verdict::Quarantine { reason } = verdict {
        responses.push(Response::Quarantine(reason));
    }
    responses.push(final_reply);
    Ok((responses, outcome))
}

fn final_response(verdict: &Verdict) -> Result<Response, DecisionError> {
    Ok(match verdict {
        Verdict::Accept => Response::Accept,
        Verdict::Continue | Verdict::Quarantine { .. } => Response::Continue,
        Verdict::Discard => Response::Discard,
        Verdict::Reject(None) => Response::Reject,
        Verdict::Tempfail(None) => Response::Tempfail,
        Verdict::Reject(Some(reply)) | Verdict::Tempfail(Some(reply)) => {
            let reject = matches!(verdict, Verdict::Reject(_));
            if reject != reply.is_permanent() {
                let name = if reject { "reject" } else { "tempfail" };
                return Err(DecisionError::ReplyClass {
                    verdict: name,
                    code: reply.code(),
                });
            }
            Response::ReplyCode(reply.clone())
        }
    })
}

fn modification_response(m: Modification, leading_space: bool) -> Response {
    // With SMFIP_HDR_LEADSPC Postfix writes `Name:` + value verbatim, so we supply the space.
    let spaced = |value: String| {
        if leading_space && !value.starts_with([' ', '\t']) {
            format!(" {value}")
        } else {
            value
        }
    };
    match m {
        Modification::AddHeader { name, value } => Response::AddHeader {
            name,
            value: spaced(value),
        },
        Modification::InsertHeader { index, name, value } => Response::InsertHeader {
            index,
            name,
            value: spaced(value),
        },
        Modification::ChangeHeader { name, index, value } => Response::ChangeHeader {
            index,
            name,
            value: spaced(value),
        },
        Modification::DeleteHeader { name, index } => Response::ChangeHeader {
            index,
            name,
            value: String::new(),
        },
        Modification::AddRecipient {
            address,
            params: None,
        } => Response::AddRecipient(address),
        Modification::AddRecipient { address, params } => {
            Response::AddRecipientWithParams { address, params }
        }
        Modification::DeleteRecipient { address } => Response::DeleteRecipient(address),
        Modification::ChangeSender { address, params } => {
            Response::ChangeSender { address, params }
        }
        // Unreachable from plan(), which chunks the body itself; kept so the match is total.
        Modification::ReplaceBody(bytes) => Response::ReplaceBody(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Reply;

    const ALL: Actions = Actions::from_bits(0x1ff);

    fn add(name: &str, value: &str) -> Modification {
        Modification::AddHeader {
            name: name.into(),
            value: value.into(),
        }
    }

    fn codes(responses: &[Response]) -> String {
        responses.iter().map(|r| char::from(r.code())).collect()
    }

    fn planned(decision: Decision, granted: Actions) -> (Vec<Response>, Outcome) {
        plan(decision, granted, false, &Verdict::Tempfail(None)).expect("valid decision")
    }

    #[test]
    fn modifications_come_before_quarantine_and_the_final_reply() {
        let d = Decision::new(Verdict::Quarantine {
            reason: "phish".into(),
        })
        .with(Modification::ReplaceBody(b"new\r\n".to_vec()))
        .with(add("X-Spearguard-Verdict", "quarantine"));
        let (responses, outcome) = planned(d, ALL);
        assert_eq!(codes(&responses), "hbqc");
        assert_eq!(outcome, Outcome::default());
    }

    #[test]
    fn large_body_is_cut_into_chunks_of_at_most_65535_bytes() {
        let d = Decision::new(Verdict::Continue).with(Modification::ReplaceBody(vec![
            b'x';
            2 * BODY_CHUNK_LEN
                + 1
        ]));
        let (responses, _) = planned(d, ALL);
        let sizes: Vec<usize> = responses
            .iter()
            .filter_map(|r| {
                if let Response::ReplaceBody(b) = r {
                    Some(b.len())
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(sizes, [BODY_CHUNK_LEN, BODY_CHUNK_LEN, 1]);
    }

    #[test]
    fn ungranted_modification_is_dropped_and_reported() {
        let body = Modification::ReplaceBody(b"x".to_vec());
        let d = Decision::new(Verdict::Accept)
            .with(add("X-A", "1"))
            .with(body.clone());
        let (responses, outcome) = planned(d, Actions::ADD_HEADERS);
        assert_eq!(codes(&responses), "ha");
        assert_eq!(outcome.dropped, [body]);
    }

    #[test]
    fn ungranted_quarantine_falls_back() {
        let d = Decision::new(Verdict::Quarantine {
            reason: "phish".into(),
        });
        let (responses, outcome) = planned(d, Actions::ADD_HEADERS);
        assert_eq!(responses, [Response::Tempfail]);
        assert!(outcome.quarantine_fallback);
    }

    #[test]
    fn reject_sends_no_modifications() {
        let reply = Reply::new(550, "5.7.1", "phishing").expect("valid reply");
        let d = Decision::new(Verdict::Reject(Some(reply.clone()))).with(add("X-A", "1"));
        let (responses, _) = planned(d, ALL);
        assert_eq!(responses, [Response::ReplyCode(reply)]);
    }

    #[test]
    fn reject_with_a_4xx_reply_is_refused() {
        let reply = Reply::new(451, "4.7.1", "later").expect("valid reply");
        let err = plan(
            Decision::new(Verdict::Reject(Some(reply))),
            ALL,
            false,
            &Verdict::Tempfail(None),
        );
        assert_eq!(
            err.unwrap_err(),
            DecisionError::ReplyClass {
                verdict: "reject",
                code: 451
            }
        );
    }

    #[test]
    fn invalid_modification_is_refused_before_anything_is_planned() {
        let bad = Decision::new(Verdict::Accept).with(add("X-A", "1\r\nBcc: x@example.org"));
        assert!(matches!(
            plan(bad, ALL, false, &Verdict::Accept),
            Err(DecisionError::HeaderValue { offset: 1, .. })
        ));
    }

    #[test]
    fn leading_space_is_added_when_negotiated() {
        let d =
            Decision::new(Verdict::Accept)
                .with(add("X-A", "1"))
                .with(Modification::DeleteHeader {
                    name: "X-B".into(),
                    index: 1,
                });
        let (responses, _) = plan(d, ALL, true, &Verdict::Accept).expect("valid decision");
        assert_eq!(
            responses[0],
            Response::AddHeader {
                name: "X-A".into(),
                value: " 1".into()
            }
        );
        assert_eq!(
            responses[1],
            Response::ChangeHeader {
                index: 1,
                name: "X-B".into(),
                value: String::new()
            }
        );
    }

    #[test]
    fn two_body_replacements_are_refused() {
        let d = Decision::new(Verdict::Accept)
            .with(Modification::ReplaceBody(Vec::new()))
            .with(Modification::ReplaceBody(Vec::new()));
        assert_eq!(
            plan(d, ALL, false, &Verdict::Accept).unwrap_err(),
            DecisionError::SeveralBodies(2)
        );
    }
}
