//! Random and mutated input: the session returns errors, never panics, and stays bounded.

use sg_milter::{Command, Decision, Event, Modification, Session, SessionConfig, Verdict};

use sg_testkit::Rng;

fn frames(commands: &[Command]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in commands {
        c.encode(&mut out).expect("test commands are valid");
    }
    out
}

/// A valid Postfix-like conversation with two messages.
fn conversation() -> Vec<u8> {
    let optneg = [
        0, 0, 0, 13, b'O', 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff,
    ];
    let mut out = optneg.to_vec();
    let message = [
        Command::Macro {
            stage: b'M',
            macros: vec![("{mail_addr}".into(), "a@example.org".into())],
        },
        Command::Mail(vec!["<a@example.org>".into()]),
        Command::Rcpt(vec!["<b@example.com>".into()]),
        Command::Data,
        Command::Header {
            name: "Subject".into(),
            value: b" hi".to_vec(),
        },
        Command::EndOfHeaders,
        Command::Body(b"hello\r\n".to_vec()),
        Command::EndOfBody(Vec::new()),
    ];
    out.extend(frames(&[Command::Connect(sg_milter::ConnectInfo {
        hostname: "mx".into(),
        family: sg_milter::Family::Inet,
        port: 25,
        address: "192.0.2.1".into(),
    })]));
    out.extend(frames(&message));
    out.extend(frames(&message));
    out.extend(frames(&[Command::Quit]));
    out
}

/// Feeds `input` in chunks, deciding every message; returns how many messages completed.
fn drive(input: &[u8], chunk: usize, config: SessionConfig) -> usize {
    let mut session = Session::new(config);
    let mut messages = 0;
    for piece in input.chunks(chunk.max(1)) {
        if session.feed(piece).is_err() {
            return messages;
        }
        loop {
            match session.poll_event() {
                Ok(Some(Event::MessageComplete(_))) => {
                    messages += 1;
                    let decision = Decision::new(Verdict::Accept).with(Modification::AddHeader {
                        name: "X-A".into(),
                        value: "1".into(),
                    });
                    session
                        .decide(decision)
                        .expect("a valid decision is always accepted");
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return messages,
            }
        }
        let _ = session.take_output();
    }
    messages
}

#[test]
fn valid_conversation_completes_two_messages() {
    assert_eq!(drive(&conversation(), 1024, SessionConfig::default()), 2);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(0x5eed_0001);
    for _ in 0..3000 {
        let len = rng.below(300);
        let input = rng.bytes(len);
        let chunk = rng.below(40) + 1;
        drive(&input, chunk, SessionConfig::default());
    }
}

#[test]
fn random_frames_after_negotiation_never_panic() {
    // Well-framed garbage reaches the command decoders instead of stopping at the length.
    let mut rng = Rng::new(0x5eed_0002);
    let codes = b"ODCHMRTLNBEAQKUz\0";
    let prefix = &conversation()[..17];
    for _ in 0..5000 {
        let mut input = prefix.to_vec();
        for _ in 0..rng.below(8) + 1 {
            let len = rng.below(40);
            let data = rng.bytes(len);
            let code = codes[rng.below(codes.len())];
            input.extend_from_slice(&(data.len() as u32 + 1).to_be_bytes());
            input.push(code);
            input.extend(data);
        }
        drive(&input, rng.below(16) + 1, SessionConfig::default());
    }
}

#[test]
fn mutated_conversations_never_panic() {
    let original = conversation();
    let mut rng = Rng::new(0x5eed_0003);
    for _ in 0..3000 {
        let mut input = original.clone();
        for _ in 0..rng.below(4) + 1 {
            let at = rng.below(input.len());
            input[at] = rng.next_u64() as u8;
        }
        if rng.below(4) == 0 {
            input.truncate(rng.below(input.len()));
        }
        let config = SessionConfig {
            skip_replies: rng.below(2) == 0,
            max_message_size: 64,
            ..SessionConfig::default()
        };
        drive(&input, rng.below(64) + 1, config);
    }
}

#[test]
fn huge_length_prefix_fails_without_allocating() {
    let mut session = Session::new(SessionConfig::default());
    session.feed(&[0xff, 0xff, 0xff, 0xff, b'B']).unwrap();
    assert!(session.poll_event().is_err());
}

#[test]
fn unprocessed_input_beyond_the_limit_is_an_error() {
    let config = SessionConfig {
        max_frame_len: 64,
        max_buffered: 100,
        ..SessionConfig::default()
    };
    let mut session = Session::new(config);
    session.feed(&[0; 60]).unwrap();
    let err = session.feed(&[0; 60]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "120 bytes of unprocessed input exceed the limit of 100"
    );
    // The session is finished: the same error again.
    assert_eq!(session.poll_event().unwrap_err(), err);
}
