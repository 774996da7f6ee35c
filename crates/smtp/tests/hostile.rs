//! Hostile input: random bytes and half-valid conversations in random pieces must never
//! panic, every reply must be a well-formed line, and the memory a session holds must stay
//! within one command line plus one message.

use sg_smtp::{BareNewlines, Config, Connection, Event, Phase, Session, ValidConfig};

use sg_testkit::Rng;

fn connection(tls_available: bool) -> Connection {
    Connection {
        peer: "192.0.2.7:2525".parse().expect("valid socket address"),
        tls_available,
        tls_active: false,
        tls_required: false,
    }
}

fn config(max_errors: usize, bare_newlines: BareNewlines) -> ValidConfig {
    Config {
        max_message_size: 4096,
        max_line_length: 512,
        max_recipients: 5,
        max_errors,
        bare_newlines,
        ..Config::default()
    }
    .validate()
    .expect("test config is valid")
}

/// Bytes a fuzzer would try: fragments of valid commands, line-ending tricks, and noise.
fn fragment(rng: &mut Rng) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"EHLO client.example.org\r\n",
        b"HELO x\r\n",
        b"MAIL FROM:<a@example.org>\r\n",
        b"MAIL FROM:<a@example.org> SIZE=100000 SMTPUTF8\r\n",
        b"RCPT TO:<b@example.net>\r\n",
        b"DATA\r\n",
        b"\r\n.\r\n",
        b"\n.\n",
        b"\r.\r",
        b".",
        b"..",
        b"\r\n",
        b"\n",
        b"\r",
        b"STARTTLS\r\n",
        b"RSET\r\n",
        b"NOOP\r\n",
        b"QUIT\r\n",
        b"BDAT 5 LAST\r\n",
        b"\0",
        b"\xff\xfe",
    ];
    match rng.below(6) {
        0 => (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect(),
        1 => vec![b'x'; rng.below(1500)],
        // A whole transaction, so DATA, decisions and pipelining behind them are reached.
        2 => {
            b"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nhi\r\n.\r\n"
                .to_vec()
        }
        _ => PIECES[rng.below(PIECES.len())].to_vec(),
    }
}

/// How deep the random conversations got, so the test proves it reached DATA and TLS.
#[derive(Default, Debug)]
struct Reached {
    messages: usize,
    handshakes: usize,
    refused_data: usize,
}

/// Drains replies and events, answering events as a driver would; returns false once closed.
fn drive(session: &mut Session, rng: &mut Rng, reached: &mut Reached) -> bool {
    let output = session.take_output();
    let text = String::from_utf8(output).expect("replies are ASCII/UTF-8");
    assert!(text.is_empty() || text.ends_with("\r\n"), "{text:?}");
    for line in text.split_terminator("\r\n") {
        assert!(line.len() <= 510, "reply too long: {}", line.len());
        assert!(!line.contains(['\r', '\n']), "broken reply {line:?}");
        let code: u16 = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .expect("reply code");
        assert!((200..600).contains(&code), "{line:?}");
        if line.starts_with("552 5.3.4") || line.starts_with("550 5.6.0") {
            reached.refused_data += 1;
        }
    }
    while let Some(event) = session.poll_event() {
        match event {
            Event::MessageReady { data, envelope } => {
                reached.messages += 1;
                assert!(data.len() <= 4096);
                assert!(!envelope.rcpt_to.is_empty());
                let result = match rng.below(4) {
                    0 => session.message_stored("Q1"),
                    1 => session.message_rejected("no\r\nthanks"),
                    2 => session.message_tempfailed(""),
                    _ => session.message_not_stored(),
                };
                result.expect("a message was pending");
            }
            Event::StartTls { .. } => {
                reached.handshakes += 1;
                session.tls_started().expect("TLS was pending");
            }
            Event::Close => {}
        }
    }
    // A decision with no message pending is a driver error, never a panic.
    if session.phase() == Phase::Command {
        assert!(session.message_stored("Q2").is_err());
        assert!(session.tls_started().is_err());
    }
    !session.is_closed()
}

fn fuzz(seed: u64, max_errors: usize, bare_newlines: BareNewlines, reached: &mut Reached) {
    let mut rng = Rng::new(seed);
    let config = config(max_errors, bare_newlines);
    let bound = config.max_line_length.max(4096) + config.max_message_size;
    let mut session = Session::new(config, connection(seed.is_multiple_of(2)));
    let mut stream = Vec::new();
    for _ in 0..200 {
        stream.extend(fragment(&mut rng));
    }
    let mut rest = stream.as_slice();
    while !rest.is_empty() {
        let n = (1 + rng.below(700)).min(rest.len());
        session.receive(&rest[..n]);
        rest = &rest[n..];
        if matches!(session.phase(), Phase::Command | Phase::Data) {
            assert!(
                session.buffered_bytes() <= bound,
                "seed {seed}: {} > {bound}",
                session.buffered_bytes()
            );
        }
        if !drive(&mut session, &mut rng, reached) {
            break;
        }
    }
}

#[test]
fn random_input_never_panics_and_memory_stays_bounded() {
    let mut reached = Reached::default();
    for seed in 1..=300 {
        fuzz(seed * 0x9E37_79B9, 20, BareNewlines::Reject, &mut reached);
    }
    println!("{reached:?}");
    assert!(
        reached.messages > 0 && reached.handshakes > 0,
        "{reached:?}"
    );
}

#[test]
fn random_input_with_many_errors_allowed_stays_bounded() {
    let mut reached = Reached::default();
    for seed in 1..=150 {
        fuzz(
            seed * 0x2545_F491,
            100_000,
            BareNewlines::Normalize,
            &mut reached,
        );
    }
    println!("{reached:?}");
    assert!(
        reached.messages > 10 && reached.refused_data > 0,
        "{reached:?}"
    );
}

fn replies(session: &mut Session) -> Vec<String> {
    String::from_utf8(session.take_output())
        .expect("replies are UTF-8")
        .split_terminator("\r\n")
        .map(str::to_string)
        .collect()
}

#[test]
fn ten_megabyte_line_gets_one_reply_and_bounded_memory() {
    let mut session = Session::new(ValidConfig::default(), connection(false));
    replies(&mut session);
    let chunk = vec![b'A'; 64 * 1024];
    for _ in 0..160 {
        session.receive(&chunk);
        assert!(
            session.buffered_bytes() <= 4096,
            "{}",
            session.buffered_bytes()
        );
    }
    assert_eq!(replies(&mut session), ["500 5.5.2 line too long"]);
    session.receive(b"\r\nNOOP\r\n");
    assert_eq!(replies(&mut session), ["250 2.0.0 ok"]);
}

#[test]
fn recipient_flood_is_cut_off() {
    let mut session = Session::new(ValidConfig::default(), connection(false));
    let mut input = b"EHLO x\r\nMAIL FROM:<a@example.org>\r\n".to_vec();
    for i in 0..100_000 {
        input.extend(format!("RCPT TO:<r{i}@example.net>\r\n").bytes());
    }
    session.receive(&input);
    let replies = replies(&mut session);
    let count = |code: &str| replies.iter().filter(|r| r.starts_with(code)).count();
    // 100 accepted, 100 refused as a normal overshoot, then 20 counted errors.
    assert_eq!(count("250 2.1.5"), 100);
    assert_eq!(count("452 4.5.3"), 120);
    assert_eq!(
        replies.last().map(String::as_str),
        Some("421 4.7.0 localhost too many errors, closing")
    );
    assert!(session.is_closed());
}

#[test]
fn huge_message_is_read_to_the_end_in_bounded_memory() {
    let mut session = Session::new(ValidConfig::default(), connection(false));
    session.receive(b"EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
    replies(&mut session);
    let line = [b"0123456789".repeat(99).as_slice(), b"\r\n"].concat();
    let limit = 25 * 1024 * 1024;
    for _ in 0..(30 * 1024 * 1024 / line.len()) {
        session.receive(&line);
        assert!(session.buffered_bytes() <= limit + 4096);
    }
    session.receive(b".\r\nNOOP\r\n");
    assert_eq!(
        replies(&mut session),
        [
            "552 5.3.4 message exceeds fixed maximum size",
            "250 2.0.0 ok"
        ]
    );
    assert_eq!(session.poll_event(), None);
}

#[test]
fn command_parser_never_panics_on_grammar_noise() {
    // Valid UTF-8 made of keywords and the characters the grammar cares about, so the
    // lines get past the UTF-8 check and into smtp-proto's address and parameter code.
    const TOKENS: &[&str] = &[
        "MAIL",
        "RCPT",
        "FROM:",
        "TO:",
        "EHLO",
        "HELO",
        "DATA",
        "BDAT",
        "AUTH",
        "SIZE=",
        "BODY=",
        "8BITMIME",
        "SMTPUTF8",
        "NOTIFY=",
        "ORCPT=",
        "rfc822;",
        "RET=",
        "ENVID=",
        "HOLDFOR=",
        "MT-PRIORITY=",
        "<",
        ">",
        "@",
        ":",
        ",",
        ".",
        "\"",
        "\\",
        " ",
        "=",
        "+",
        "-",
        "x",
        "1",
        "99999999999999999999999",
        "postmaster",
        "山",
        "\t",
    ];
    let mut rng = Rng::new(0x0123_4567_89AB_CDEF);
    for _ in 0..200_000 {
        let mut line = String::new();
        for _ in 0..rng.below(24) {
            line.push_str(TOKENS[rng.below(TOKENS.len())]);
        }
        line.push_str(if rng.below(2) == 0 { "\r\n" } else { "\n" });
        if let Err(reply) = sg_smtp::Command::parse(line.as_bytes()) {
            assert!(reply.is_negative(), "{line:?} -> {reply}");
        }
    }
}
