//! Session behaviour around decisions, seen through the public API.

use sg_milter::codec::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
use sg_milter::{
    BODY_CHUNK_LEN, Command, Decision, DecisionError, Event, Modification, Reply, Response,
    Session, SessionConfig, SessionError, Verdict,
};

const POSTFIX_OPTNEG: [u8; 17] = [
    0, 0, 0, 13, b'O', 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff,
];

fn frames(commands: &[Command]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in commands {
        c.encode(&mut out).expect("test commands are valid");
    }
    out
}

fn responses(bytes: &[u8]) -> Vec<Response> {
    let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_LEN);
    decoder.extend(bytes);
    let mut out = Vec::new();
    while let Some(frame) = decoder.next_frame().expect("session output is well framed") {
        out.push(Response::decode(frame).expect("session output decodes"));
    }
    out
}

/// A negotiated session, its OPTNEG reply already taken.
fn negotiated() -> Session {
    let mut session = Session::new(SessionConfig::default());
    session.feed(&POSTFIX_OPTNEG).expect("optneg fits");
    assert!(matches!(
        session.poll_event(),
        Ok(Some(Event::Negotiated(_)))
    ));
    session.take_output();
    session
}

/// A session with a message waiting for its decision.
fn deciding(body_chunks: &[&[u8]]) -> Session {
    let mut session = negotiated();
    let mut commands = vec![Command::Mail(vec!["<a@example.org>".into()])];
    commands.extend(body_chunks.iter().map(|c| Command::Body(c.to_vec())));
    commands.push(Command::EndOfBody(Vec::new()));
    session.feed(&frames(&commands)).expect("message fits");
    loop {
        match session.poll_event().expect("valid input") {
            Some(Event::MessageComplete(_)) => break,
            Some(_) => {}
            None => panic!("message did not complete"),
        }
    }
    session.take_output();
    session
}

#[test]
fn input_waits_while_a_decision_is_pending() {
    let mut session = deciding(&[]);
    session.feed(&frames(&[Command::Quit])).unwrap();
    assert_eq!(session.poll_event().unwrap(), None);
    assert!(!session.is_closed());
    session.decide(Decision::new(Verdict::Accept)).unwrap();
    assert_eq!(session.poll_event().unwrap(), Some(Event::Closed));
    assert_eq!(responses(&session.take_output()), [Response::Accept]);
}

#[test]
fn decide_without_a_pending_message_is_refused() {
    let mut session = negotiated();
    assert_eq!(
        session.decide(Decision::new(Verdict::Accept)),
        Err(SessionError::NoPendingDecision)
    );
    assert_eq!(session.progress(), Err(SessionError::NoPendingDecision));
    // The session is still usable.
    session.feed(&frames(&[Command::Quit])).unwrap();
    assert_eq!(session.poll_event().unwrap(), Some(Event::Closed));
}

#[test]
fn invalid_decision_sends_nothing_and_keeps_the_message_pending() {
    let mut session = deciding(&[]);
    let temporary = Reply::new(451, "4.7.1", "later").unwrap();
    let bad = Decision::new(Verdict::Reject(Some(temporary)));
    let err = session.decide(bad).unwrap_err();
    assert_eq!(
        err,
        SessionError::Decision(DecisionError::ReplyClass {
            verdict: "reject",
            code: 451
        })
    );
    assert!(session.take_output().is_empty());
    session
        .decide(Decision::new(Verdict::Tempfail(None)))
        .unwrap();
    assert_eq!(responses(&session.take_output()), [Response::Tempfail]);
}

#[test]
fn progress_is_sent_only_while_deciding() {
    let mut session = deciding(&[]);
    session.progress().unwrap();
    session.decide(Decision::new(Verdict::Continue)).unwrap();
    assert_eq!(
        responses(&session.take_output()),
        [Response::Progress, Response::Continue]
    );
}

#[test]
fn body_chunks_are_joined_in_order() {
    let first = vec![b'a'; BODY_CHUNK_LEN];
    let mut session = negotiated();
    let commands = [
        Command::Mail(vec!["<a@example.org>".into()]),
        Command::Body(first.clone()),
        Command::Body(b"tail\r\n".to_vec()),
        Command::EndOfBody(b"eob\r\n".to_vec()),
    ];
    session.feed(&frames(&commands)).unwrap();
    let Some(Event::MessageComplete(message)) = session.poll_event().unwrap() else {
        panic!("no message")
    };
    assert_eq!(message.body.len(), BODY_CHUNK_LEN + 11);
    assert!(message.body.ends_with(b"atail\r\neob\r\n"));
}

#[test]
fn replacement_body_goes_out_in_contiguous_chunks_before_the_verdict() {
    let mut session = deciding(&[b"old\r\n"]);
    let body: Vec<u8> = (0..150_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let decision = Decision::new(Verdict::Quarantine {
        reason: "phish".into(),
    })
    .with(Modification::ReplaceBody(body.clone()))
    .with(Modification::AddHeader {
        name: "X-A".into(),
        value: "1".into(),
    });
    session.decide(decision).unwrap();
    let sent = responses(&session.take_output());
    let codes: String = sent.iter().map(|r| char::from(r.code())).collect();
    assert_eq!(codes, "hbbbqc");
    let mut rebuilt: Vec<u8> = Vec::new();
    for r in &sent {
        if let Response::ReplaceBody(chunk) = r {
            assert!(chunk.len() <= BODY_CHUNK_LEN);
            rebuilt.extend(chunk);
        }
    }
    assert_eq!(rebuilt, body);
}

#[test]
fn abort_keeps_the_connection_and_forgets_the_message() {
    let mut session = negotiated();
    let connect = Command::Connect(sg_milter::ConnectInfo {
        hostname: "mx.example.net".into(),
        family: sg_milter::Family::Inet,
        port: 25,
        address: "192.0.2.1".into(),
    });
    let commands = [
        connect,
        Command::Helo("mx.example.net".into()),
        Command::Mail(vec!["<first@example.org>".into()]),
        Command::Header {
            name: "Subject".into(),
            value: b" one".to_vec(),
        },
        Command::Abort,
        Command::Mail(vec!["<second@example.org>".into()]),
        Command::EndOfBody(Vec::new()),
    ];
    session.feed(&frames(&commands)).unwrap();
    assert_eq!(session.poll_event().unwrap(), Some(Event::Aborted));
    let Some(Event::MessageComplete(message)) = session.poll_event().unwrap() else {
        panic!("no message")
    };
    assert_eq!(
        message.envelope.mail_from.as_deref(),
        Some("<second@example.org>")
    );
    assert!(message.headers.is_empty());
    assert_eq!(message.helo.as_deref(), Some("mx.example.net"));
    assert_eq!(
        message.connection.and_then(|c| c.ip()),
        Some("192.0.2.1".parse().unwrap())
    );
}

#[test]
fn abort_outside_a_message_is_silent() {
    let mut session = negotiated();
    session
        .feed(&frames(&[Command::Abort, Command::Quit]))
        .unwrap();
    assert_eq!(session.poll_event().unwrap(), Some(Event::Closed));
    assert!(session.take_output().is_empty());
}

#[test]
fn mail_macros_survive_their_own_mail_command_but_not_the_next_message() {
    let mut session = negotiated();
    let commands = [
        Command::Macro {
            stage: b'M',
            macros: vec![("{auth_authen}".into(), "alice".into())],
        },
        Command::Mail(vec!["<a@example.org>".into()]),
        Command::EndOfBody(Vec::new()),
    ];
    session.feed(&frames(&commands)).unwrap();
    let Some(Event::MessageComplete(message)) = session.poll_event().unwrap() else {
        panic!("no message")
    };
    assert_eq!(message.macros.get("auth_authen"), Some("alice"));
    session.decide(Decision::new(Verdict::Accept)).unwrap();
    session
        .feed(&frames(&[
            Command::Mail(vec!["<b@example.org>".into()]),
            Command::EndOfBody(Vec::new()),
        ]))
        .unwrap();
    let Some(Event::MessageComplete(message)) = session.poll_event().unwrap() else {
        panic!("no message")
    };
    assert_eq!(message.macros.get("auth_authen"), None);
}

#[test]
fn in_message_from_mail_until_the_decision_or_abort() {
    let mut session = negotiated();
    assert!(!session.in_message());
    session
        .feed(&frames(&[Command::Mail(vec!["<a@example.org>".into()])]))
        .unwrap();
    assert_eq!(session.poll_event().unwrap(), None);
    assert!(session.in_message());
    session.feed(&frames(&[Command::Abort])).unwrap();
    assert_eq!(session.poll_event().unwrap(), Some(Event::Aborted));
    assert!(!session.in_message());
    let mut session = deciding(&[]);
    assert!(session.in_message());
    session.decide(Decision::new(Verdict::Accept)).unwrap();
    assert!(!session.in_message());
}
