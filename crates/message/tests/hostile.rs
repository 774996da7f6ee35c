//! Hostile input: the parser must return a `Message` or a clear error for any bytes, in
//! bounded time, and never panic. Memory is checked in `hostile_memory.rs` (own process).

use sg_message::{Anomaly, Limits, Message, ParseError};
use sg_testkit::Rng;

/// A multipart nested `depth` levels deep, with a text leaf at the bottom.
pub fn nested_multipart(depth: usize) -> Vec<u8> {
    let mut out = String::from("From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n");
    for i in 0..depth {
        out.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    out.push_str("Content-Type: text/plain\r\n\r\nbottom http://deep.example/x\r\n");
    for i in (0..depth).rev() {
        out.push_str(&format!("--b{i}--\r\n"));
    }
    out.into_bytes()
}

/// Messages attached inside messages, `depth` levels deep.
pub fn nested_rfc822(depth: usize) -> Vec<u8> {
    let mut out = String::new();
    for _ in 0..depth {
        out.push_str("From: a@example.org\r\nSubject: fwd\r\nContent-Type: message/rfc822\r\n\r\n");
    }
    out.push_str("From: b@example.org\r\nSubject: inner\r\n\r\ninner body\r\n");
    out.into_bytes()
}

fn xorshift(rng: &mut Rng) -> u64 {
    rng.next_u64()
}

#[test]
fn thousand_nested_multiparts_parse_with_depth_anomaly() {
    let raw = nested_multipart(1000);
    let msg = Message::parse(&raw, &Limits::default()).expect("parses");
    assert!(msg.parts.len() <= Limits::default().max_parts);
    assert!(
        msg.anomalies
            .iter()
            .any(|a| matches!(a, Anomaly::TooDeep | Anomaly::TooManyParts)),
        "{:?}",
        msg.anomalies
    );
}

#[test]
fn thousand_nested_attached_messages_parse() {
    let raw = nested_rfc822(1000);
    let msg = Message::parse(&raw, &Limits::default()).expect("parses");
    assert_eq!(msg.subject, "fwd");
}

#[test]
fn every_truncation_of_a_rich_message_parses() {
    let raw = include_bytes!("../../../fixtures/messages/multipart-html-attachment.eml");
    for end in 0..raw.len() {
        match Message::parse(&raw[..end], &Limits::default()) {
            Ok(_) | Err(ParseError::Empty) => {}
            Err(e) => panic!("truncation at {end}: unexpected error {e}"),
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut s = Rng::new(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = (xorshift(&mut s) % 2048) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut s) as u8).collect();
        let _ = Message::parse(&bytes, &Limits::default());
    }
}

#[test]
fn mutated_messages_never_panic() {
    let base = include_bytes!("../../../fixtures/messages/multipart-html-attachment.eml");
    let mut s = Rng::new(42);
    for _ in 0..2000 {
        let mut m = base.to_vec();
        for _ in 0..(xorshift(&mut s) % 16 + 1) {
            let i = (xorshift(&mut s) as usize) % m.len();
            m[i] = match xorshift(&mut s) % 4 {
                0 => b'\n',
                1 => b'-',
                2 => b'=',
                _ => xorshift(&mut s) as u8,
            };
        }
        let _ = Message::parse(&m, &Limits::default());
    }
}

#[test]
fn huge_header_line_and_many_parts_are_bounded() {
    let mut raw = b"From: a@example.org\r\nSubject: ".to_vec();
    raw.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    raw.extend_from_slice(b"\r\n\r\nbody\r\n");
    let msg = Message::parse(&raw, &Limits::default()).expect("parses");
    assert!(msg.headers.iter().all(|h| h.value.len() <= 8 * 1024 + 3));

    let mut many =
        String::from("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n");
    for i in 0..5000 {
        many.push_str(&format!(
            "--x\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n"
        ));
    }
    many.push_str("--x--\r\n");
    let msg = Message::parse(many.as_bytes(), &Limits::default()).expect("parses");
    assert!(msg.parts.len() <= Limits::default().max_parts);
    assert!(msg.anomalies.contains(&Anomaly::TooManyParts));
}

#[test]
fn empty_and_oversized_inputs_are_clear_errors() {
    assert_eq!(
        Message::parse(b"", &Limits::default()),
        Err(ParseError::Empty)
    );
    assert_eq!(
        Message::parse(b" \r\n\t", &Limits::default()),
        Err(ParseError::Empty)
    );
    let limits = Limits {
        max_message_size: 10,
        ..Limits::default()
    };
    assert!(matches!(
        Message::parse(b"Subject: eleven bytes", &limits),
        Err(ParseError::TooLarge {
            size: 21,
            limit: 10
        })
    ));
}

#[test]
fn binary_garbage_without_headers_still_yields_a_message() {
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    let msg = Message::parse(&bytes, &Limits::default()).expect("a message, with anomalies");
    assert!(msg.size > 0);
}
