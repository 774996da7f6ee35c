//! Runs the hand-written conversations in `tests/frames/*.frames` (format: its README.md).

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;

use sg_milter::{
    Actions, CompletedMessage, Decision, Event, Limit, MacroStage, Modification, Outcome, Reply,
    Session, SessionConfig, Verdict,
};

/// One `=== title` section of a fixture file.
#[derive(Debug, Default)]
struct Case {
    title: String,
    config: SessionConfig,
    /// Each `>` frame with the `<` bytes expected right after it.
    steps: Vec<(Vec<u8>, Vec<u8>)>,
    expected_events: Vec<String>,
    decisions: Vec<Decision>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Bytes(Vec<u8>),
}

fn tokenize(line: &str, at: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            break;
        } else if c == '"' {
            chars.next();
            let mut bytes = Vec::new();
            loop {
                let c = chars
                    .next()
                    .unwrap_or_else(|| panic!("{at}: unterminated string"));
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('0') => bytes.push(0),
                        Some('r') => bytes.push(b'\r'),
                        Some('n') => bytes.push(b'\n'),
                        Some('t') => bytes.push(b'\t'),
                        Some('x') => {
                            let hex: String =
                                [chars.next(), chars.next()].into_iter().flatten().collect();
                            bytes.push(
                                u8::from_str_radix(&hex, 16)
                                    .unwrap_or_else(|_| panic!("{at}: bad \\x{hex}")),
                            );
                        }
                        Some(other) => bytes.extend(other.to_string().as_bytes()),
                        None => panic!("{at}: dangling backslash"),
                    },
                    other => bytes.extend(other.to_string().as_bytes()),
                }
            }
            tokens.push(Token::Bytes(bytes));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    tokens
}

/// Hex words and quoted strings, concatenated.
fn bytes_of(tokens: &[Token], at: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for t in tokens {
        match t {
            Token::Bytes(b) => out.extend(b),
            Token::Word(w) => {
                assert!(w.len() % 2 == 0, "{at}: odd-length hex {w}");
                for i in (0..w.len()).step_by(2) {
                    out.push(
                        u8::from_str_radix(&w[i..i + 2], 16)
                            .unwrap_or_else(|_| panic!("{at}: bad hex {w}")),
                    );
                }
            }
        }
    }
    out
}

/// A `>` or `<` line must be exactly one frame whose length field is right.
fn checked_frame(tokens: &[Token], at: &str) -> Vec<u8> {
    let bytes = bytes_of(tokens, at);
    let len = u32::from_be_bytes(
        bytes[..4]
            .try_into()
            .expect("a frame line starts with 4 length bytes"),
    );
    assert_eq!(
        len as usize,
        bytes.len() - 4,
        "{at}: length field {len:#x} but {} bytes follow",
        bytes.len() - 4
    );
    bytes
}

fn word<'a>(tokens: &'a [Token], i: usize, at: &str) -> &'a str {
    match tokens.get(i) {
        Some(Token::Word(w)) => w,
        other => panic!("{at}: expected a word at position {i}, got {other:?}"),
    }
}

fn text(tokens: &[Token], i: usize, at: &str) -> String {
    match tokens.get(i) {
        Some(Token::Bytes(b)) => String::from_utf8(b.clone()).expect("fixture strings are UTF-8"),
        other => panic!("{at}: expected a quoted string at position {i}, got {other:?}"),
    }
}

fn number<T: std::str::FromStr>(tokens: &[Token], i: usize, at: &str) -> T {
    word(tokens, i, at)
        .parse()
        .unwrap_or_else(|_| panic!("{at}: expected a number at position {i}"))
}

fn actions_named(names: &str, at: &str) -> Actions {
    names.split('|').fold(Actions::empty(), |acc, name| {
        let bit = (0..32)
            .map(|i| Actions::from_bits(1 << i))
            .find(|a| a.to_string() == name)
            .unwrap_or_else(|| panic!("{at}: unknown action {name}"));
        acc | bit
    })
}

fn apply_config(config: &mut SessionConfig, t: &[Token], at: &str) {
    match word(t, 1, at) {
        "skip-replies" => config.skip_replies = word(t, 2, at) == "on",
        "max-message-size" => config.max_message_size = number(t, 2, at),
        "max-recipients" => config.max_recipients = number(t, 2, at),
        "max-frame-len" => config.max_frame_len = number(t, 2, at),
        "actions" => config.actions = actions_named(word(t, 2, at), at),
        "oversize-reply" => {
            config.oversize_reply =
                Reply::new(number(t, 2, at), word(t, 3, at), &text(t, 4, at)).expect("valid reply");
        }
        "macro" => {
            let stage = (0..7)
                .filter_map(MacroStage::from_code)
                .find(|s| format!("{s:?}") == word(t, 2, at))
                .unwrap_or_else(|| panic!("{at}: unknown macro stage"));
            config.macros.push((stage, text(t, 3, at)));
        }
        other => panic!("{at}: unknown config {other}"),
    }
}

fn verdict(t: &[Token], at: &str) -> Verdict {
    let reply = || {
        (t.len() > 2)
            .then(|| Reply::new(number(t, 2, at), word(t, 3, at), &text(t, 4, at)).expect("valid"))
    };
    match word(t, 1, at) {
        "accept" => Verdict::Accept,
        "continue" => Verdict::Continue,
        "discard" => Verdict::Discard,
        "reject" => Verdict::Reject(reply()),
        "tempfail" => Verdict::Tempfail(reply()),
        "quarantine" => Verdict::Quarantine {
            reason: text(t, 2, at),
        },
        other => panic!("{at}: unknown verdict {other}"),
    }
}

fn modification(t: &[Token], at: &str) -> Modification {
    match word(t, 0, at) {
        "add-header" => Modification::AddHeader {
            name: word(t, 1, at).into(),
            value: text(t, 2, at),
        },
        "insert-header" => Modification::InsertHeader {
            index: number(t, 1, at),
            name: word(t, 2, at).into(),
            value: text(t, 3, at),
        },
        "change-header" => Modification::ChangeHeader {
            name: word(t, 1, at).into(),
            index: number(t, 2, at),
            value: text(t, 3, at),
        },
        "delete-header" => Modification::DeleteHeader {
            name: word(t, 1, at).into(),
            index: number(t, 2, at),
        },
        "replace-body" => Modification::ReplaceBody(bytes_of(&t[1..], at)),
        "add-rcpt" => Modification::AddRecipient {
            address: text(t, 1, at),
            params: (t.len() > 2).then(|| text(t, 2, at)),
        },
        "del-rcpt" => Modification::DeleteRecipient {
            address: text(t, 1, at),
        },
        "chg-from" => Modification::ChangeSender {
            address: text(t, 1, at),
            params: (t.len() > 2).then(|| text(t, 2, at)),
        },
        other => panic!("{at}: unknown modification {other}"),
    }
}

fn parse(path: &Path) -> Vec<Case> {
    let source = std::fs::read_to_string(path).expect("fixture is readable UTF-8");
    let name = path
        .file_name()
        .expect("fixture has a name")
        .to_string_lossy()
        .into_owned();
    let mut cases: Vec<Case> = Vec::new();
    let mut pending = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let at = format!("{name}:{}", n + 1);
        if let Some(title) = line.strip_prefix("=== ") {
            cases.push(Case {
                title: format!("{name}: {title}"),
                ..Case::default()
            });
            continue;
        }
        let Some((kind, rest)) = line.split_once(' ').or(Some((line, ""))) else {
            continue;
        };
        if kind.is_empty() || kind.starts_with('#') {
            continue;
        }
        let case = cases
            .last_mut()
            .unwrap_or_else(|| panic!("{at}: line before the first === case"));
        let t = tokenize(rest, &at);
        match kind {
            "config" => apply_config(&mut case.config, &tokenize(line, &at), &at),
            ">" => case.steps.push((checked_frame(&t, &at), Vec::new())),
            ">!" => case.steps.push((bytes_of(&t, &at), Vec::new())),
            "<" => {
                let step = case
                    .steps
                    .last_mut()
                    .unwrap_or_else(|| panic!("{at}: output before any input"));
                step.1.extend(checked_frame(&t, &at));
            }
            "=" => case.expected_events.push(rest.trim().to_owned()),
            "!" if word(&t, 0, &at) == "verdict" => {
                let decision = Decision {
                    modifications: std::mem::take(&mut pending),
                    verdict: verdict(&t, &at),
                };
                case.decisions.push(decision);
            }
            "!" => pending.push(modification(&t, &at)),
            other => panic!("{at}: unknown line kind {other:?}"),
        }
    }
    cases
}

fn or_dash(s: Option<&str>) -> String {
    s.map_or_else(|| "-".to_owned(), str::to_owned)
}

fn describe_message(m: &CompletedMessage) -> Vec<String> {
    let client = m
        .connection
        .as_ref()
        .map(|c| format!("{}[{}]:{}", c.hostname, c.address, c.port));
    let params = m.envelope.mail_params.join(",");
    let rcpts: Vec<String> = m
        .envelope
        .recipients
        .iter()
        .map(|r| {
            if r.params.is_empty() {
                r.address.clone()
            } else {
                format!("{}({})", r.address, r.params.join(","))
            }
        })
        .collect();
    let headers: Vec<&str> = m.headers.iter().map(|h| h.name.as_str()).collect();
    let mut line = format!(
        "message queue={} client={}",
        or_dash(m.queue_id()),
        or_dash(client.as_deref())
    );
    let _ = write!(
        line,
        " helo={} from={}",
        or_dash(m.helo.as_deref()),
        or_dash(m.envelope.mail_from.as_deref())
    );
    let _ = write!(
        line,
        " params={} rcpts={}",
        or_dash(Some(&params).filter(|p| !p.is_empty()).map(|p| p.as_str())),
        rcpts.join(",")
    );
    let _ = write!(line, " headers={} body={}", headers.join(","), m.body.len());
    vec![line, format!("rfc5322 \"{}\"", escape(&m.to_rfc5322()))]
}

fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            0 => out.push_str("\\x00"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

fn error_chain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    format!("error {text}")
}

/// Feeds `chunks` into a fresh session, answering messages with the case's decisions.
/// Returns the event lines and every byte the session wrote.
fn run(
    case: &Case,
    chunks: &[&[u8]],
    mut after_chunk: impl FnMut(usize, &[u8]),
) -> (Vec<String>, Vec<u8>) {
    let mut session = Session::new(case.config.clone());
    let mut decisions = case.decisions.iter();
    let (mut events, mut output) = (Vec::new(), Vec::new());
    'feed: for (i, chunk) in chunks.iter().enumerate() {
        if let Err(e) = session.feed(chunk) {
            events.push(error_chain(&e));
            break;
        }
        loop {
            match session.poll_event() {
                Ok(None) => break,
                Ok(Some(Event::MessageComplete(message))) => {
                    events.extend(describe_message(&message));
                    let decision = decisions
                        .next()
                        .unwrap_or_else(|| panic!("{}: no decision for a message", case.title));
                    let outcome = session
                        .decide(decision.clone())
                        .expect("fixture decisions are valid");
                    if outcome != Outcome::default() {
                        let dropped: Vec<String> =
                            outcome.dropped.iter().map(|m| format!("{m:?}")).collect();
                        let fallback = if outcome.quarantine_fallback {
                            "yes"
                        } else {
                            "no"
                        };
                        events.push(format!(
                            "outcome dropped=[{}] fallback={fallback}",
                            dropped.join(", ")
                        ));
                    }
                }
                Ok(Some(event)) => events.push(describe(&event)),
                Err(e) => {
                    events.push(error_chain(&e));
                    output.extend(session.take_output());
                    break 'feed;
                }
            }
        }
        let out = session.take_output();
        after_chunk(i, &out);
        output.extend(out);
    }
    (events, output)
}

fn describe(event: &Event) -> String {
    match event {
        Event::Negotiated(n) => {
            format!(
                "negotiated version={} actions={} missing={} protocol={}",
                n.version, n.actions, n.missing_actions, n.protocol
            )
        }
        Event::MessageComplete(_) => unreachable!("handled by run()"),
        Event::Aborted => "aborted".into(),
        Event::LimitExceeded(Limit::MessageSize(n)) => format!("limit message-size {n}"),
        Event::LimitExceeded(Limit::Recipients(n)) => format!("limit recipients {n}"),
        Event::Closed => "closed".into(),
        Event::ConnectionReset => "connection-reset".into(),
    }
}

fn assert_events(case: &Case, mode: &str, actual: &[String]) {
    let matches = actual.len() == case.expected_events.len()
        && actual
            .iter()
            .zip(&case.expected_events)
            .all(|(a, e)| match e.strip_prefix("error ") {
                Some(part) => a.starts_with("error ") && a.contains(part),
                None => a == e,
            });
    assert!(
        matches,
        "{} ({mode}): events differ\nexpected:\n  {}\ngot:\n  {}",
        case.title,
        case.expected_events.join("\n  "),
        actual.join("\n  ")
    );
}

/// xorshift64: deterministic splits without a rand dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn check(case: &Case) {
    // Frame by frame: each input frame produces exactly the frames written after it.
    let frames: Vec<&[u8]> = case.steps.iter().map(|(i, _)| i.as_slice()).collect();
    let (events, _) = run(case, &frames, |i, out| {
        let expected = &case.steps[i].1;
        assert!(
            out == expected.as_slice(),
            "{} (frame by frame): after input frame {} expected\n  {}\ngot\n  {}",
            case.title,
            i + 1,
            escape(expected),
            escape(out)
        );
    });
    assert_events(case, "frame by frame", &events);
    let stream: Vec<u8> = case.steps.iter().flat_map(|(i, _)| i.clone()).collect();
    let expected_output: Vec<u8> = case.steps.iter().flat_map(|(_, o)| o.clone()).collect();
    let mut splits: Vec<(String, Vec<&[u8]>)> = vec![
        ("all at once".into(), vec![stream.as_slice()]),
        ("byte by byte".into(), stream.chunks(1).collect()),
    ];
    for seed in 1..=16u64 {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut chunks = Vec::new();
        let mut rest = stream.as_slice();
        while !rest.is_empty() {
            let len = (next(&mut state) % 23 + 1) as usize;
            let (head, tail) = rest.split_at(len.min(rest.len()));
            chunks.push(head);
            rest = tail;
        }
        splits.push((format!("random split seed {seed}"), chunks));
    }
    for (mode, chunks) in splits {
        let (events, output) = run(case, &chunks, |_, _| {});
        assert_events(case, &mode, &events);
        assert!(
            output == expected_output,
            "{} ({mode}): output differs\nexpected\n  {}\ngot\n  {}",
            case.title,
            escape(&expected_output),
            escape(&output)
        );
    }
}

#[test]
fn every_fixture_conversation_holds_in_every_split() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/frames");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "frames"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut count = 0;
    for file in files {
        for case in parse(&file) {
            check(&case);
            count += 1;
        }
    }
    println!("{count} fixture cases checked");
}
