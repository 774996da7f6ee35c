//! Every `Command` and `Response` variant survives encode → frame decoder → decode.
//!
//! The `*_index` functions match without a wildcard, so a new variant does not compile until
//! it is given an index here, and the coverage assertion then demands a sample of it.

use sg_milter::codec::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
use sg_milter::{
    Actions, Command, ConnectInfo, Family, MacroStage, Options, ProtocolFlags, Reply, Response,
};

const COMMAND_VARIANTS: usize = 15;
const RESPONSE_VARIANTS: usize = 18;

fn command_index(c: &Command) -> usize {
    match c {
        Command::OptionNegotiation(_) => 0,
        Command::Macro { .. } => 1,
        Command::Connect(_) => 2,
        Command::Helo(_) => 3,
        Command::Mail(_) => 4,
        Command::Rcpt(_) => 5,
        Command::Data => 6,
        Command::Header { .. } => 7,
        Command::EndOfHeaders => 8,
        Command::Body(_) => 9,
        Command::EndOfBody(_) => 10,
        Command::Abort => 11,
        Command::Quit => 12,
        Command::QuitNewConnection => 13,
        Command::Unknown(_) => 14,
    }
}

fn response_index(r: &Response) -> usize {
    match r {
        Response::OptionNegotiation { .. } => 0,
        Response::Continue => 1,
        Response::Accept => 2,
        Response::Reject => 3,
        Response::Tempfail => 4,
        Response::Discard => 5,
        Response::ReplyCode(_) => 6,
        Response::AddHeader { .. } => 7,
        Response::InsertHeader { .. } => 8,
        Response::ChangeHeader { .. } => 9,
        Response::ReplaceBody(_) => 10,
        Response::Quarantine(_) => 11,
        Response::AddRecipient(_) => 12,
        Response::AddRecipientWithParams { .. } => 13,
        Response::DeleteRecipient(_) => 14,
        Response::ChangeSender { .. } => 15,
        Response::Progress => 16,
        Response::Skip => 17,
    }
}

fn connect(family: Family, port: u16, address: &str) -> Command {
    Command::Connect(ConnectInfo {
        hostname: "mx.example.net".into(),
        family,
        port,
        address: address.into(),
    })
}

fn commands() -> Vec<Command> {
    let options = Options {
        version: 6,
        actions: Actions::from_bits(0x1ff),
        protocol: ProtocolFlags::from_bits(0x1f_ffff),
    };
    vec![
        Command::OptionNegotiation(options),
        Command::Macro {
            stage: b'C',
            macros: vec![
                ("j".into(), "mx.example.org".into()),
                ("{v}".into(), String::new()),
            ],
        },
        Command::Macro {
            stage: b'H',
            macros: Vec::new(),
        },
        connect(Family::Inet, 49152, "192.0.2.1"),
        connect(Family::Inet6, 25, "2001:db8::1"),
        connect(Family::Unix, 0, "/var/run/smtpd"),
        connect(Family::Unknown, 0, ""),
        Command::Helo("client.example.net".into()),
        Command::Mail(vec![
            "<alice@example.org>".into(),
            "SIZE=10".into(),
            "BODY=8BITMIME".into(),
        ]),
        Command::Mail(vec!["<>".into()]),
        Command::Rcpt(vec!["<bob@example.com>".into(), "NOTIFY=NEVER".into()]),
        Command::Data,
        Command::Header {
            name: "Subject".into(),
            value: b" =?ISO-2022-JP?B?GyRC?=\n\t\x82\xa0".to_vec(),
        },
        Command::Header {
            name: "X-Empty".into(),
            value: Vec::new(),
        },
        Command::EndOfHeaders,
        Command::Body(b"line one\r\nline two\r\n".to_vec()),
        Command::Body(Vec::new()),
        Command::Body(vec![0; 65_535]),
        Command::EndOfBody(Vec::new()),
        Command::EndOfBody(b"last chunk\r\n".to_vec()),
        Command::Abort,
        Command::Quit,
        Command::QuitNewConnection,
        Command::Unknown("XYZZY plugh".into()),
    ]
}

fn responses() -> Vec<Response> {
    let options = Options {
        version: 6,
        actions: Actions::from_bits(0x133),
        protocol: ProtocolFlags::from_bits(0x17f180),
    };
    vec![
        Response::OptionNegotiation {
            options,
            macros: Vec::new(),
        },
        Response::OptionNegotiation {
            options,
            macros: vec![
                (MacroStage::Data, "i {auth_authen}".into()),
                (MacroStage::EndOfHeaders, String::new()),
            ],
        },
        Response::Continue,
        Response::Accept,
        Response::Reject,
        Response::Tempfail,
        Response::Discard,
        Response::ReplyCode(Reply::new(550, "5.7.1", "100% phishing").expect("valid reply")),
        Response::ReplyCode(Reply::new(451, "4.7.1", "").expect("valid reply")),
        Response::AddHeader {
            name: "X-Spearguard-Verdict".into(),
            value: " quarantine".into(),
        },
        Response::InsertHeader {
            index: 0,
            name: "X-A".into(),
            value: "top".into(),
        },
        Response::ChangeHeader {
            index: 2,
            name: "Subject".into(),
            value: "[tagged] hi".into(),
        },
        Response::ChangeHeader {
            index: 1,
            name: "X-Old".into(),
            value: String::new(),
        },
        Response::ReplaceBody(b"new body\r\n".to_vec()),
        Response::ReplaceBody(Vec::new()),
        Response::Quarantine("phishing score 17.9".into()),
        Response::AddRecipient("<soc@example.org>".into()),
        Response::AddRecipientWithParams {
            address: "<a@example.org>".into(),
            params: Some("NOTIFY=NEVER".into()),
        },
        Response::AddRecipientWithParams {
            address: "<a@example.org>".into(),
            params: None,
        },
        Response::DeleteRecipient("<bob@example.com>".into()),
        Response::ChangeSender {
            address: "<b@example.org>".into(),
            params: None,
        },
        Response::ChangeSender {
            address: "<b@example.org>".into(),
            params: Some("SIZE=1".into()),
        },
        Response::Progress,
        Response::Skip,
    ]
}

#[test]
fn every_command_variant_round_trips_through_the_frame_decoder() {
    let mut seen = [false; COMMAND_VARIANTS];
    let mut stream = Vec::new();
    let samples = commands();
    for c in &samples {
        seen[command_index(c)] = true;
        c.encode(&mut stream).unwrap();
    }
    assert!(
        seen.iter().all(|&s| s),
        "a Command variant has no sample: {seen:?}"
    );
    let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_LEN);
    decoder.extend(&stream);
    for expected in &samples {
        let frame = decoder.next_frame().unwrap().expect("one frame per sample");
        assert_eq!(frame.code, expected.code());
        assert_eq!(&Command::decode(frame).unwrap(), expected);
    }
    assert_eq!(decoder.next_frame().unwrap(), None);
}

#[test]
fn every_response_variant_round_trips_through_the_frame_decoder() {
    let mut seen = [false; RESPONSE_VARIANTS];
    let mut stream = Vec::new();
    let samples = responses();
    for r in &samples {
        seen[response_index(r)] = true;
        r.encode(&mut stream).unwrap();
    }
    assert!(
        seen.iter().all(|&s| s),
        "a Response variant has no sample: {seen:?}"
    );
    let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_LEN);
    decoder.extend(&stream);
    for expected in &samples {
        let frame = decoder.next_frame().unwrap().expect("one frame per sample");
        assert_eq!(frame.code, expected.code());
        assert_eq!(&Response::decode(frame).unwrap(), expected);
    }
    assert_eq!(decoder.next_frame().unwrap(), None);
}

#[test]
fn command_and_response_names_are_distinct_per_enum() {
    let mut names: Vec<&str> = commands().iter().map(Command::name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), COMMAND_VARIANTS);
    let mut names: Vec<&str> = responses().iter().map(Response::name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), RESPONSE_VARIANTS);
}
