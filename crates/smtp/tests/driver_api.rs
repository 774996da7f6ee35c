//! The contract with the driver: phases, back-pressure, decisions, and driver mistakes.

use sg_smtp::{Connection, Event, Phase, Session, SessionError, ValidConfig};

fn session(tls_available: bool) -> Session {
    let mut session = Session::new(
        ValidConfig::default(),
        Connection {
            peer: "192.0.2.9:1234".parse().expect("valid socket address"),
            tls_available,
            tls_active: false,
            tls_required: false,
        },
    );
    session.take_output();
    session
}

fn replies(session: &mut Session) -> Vec<String> {
    String::from_utf8(session.take_output())
        .expect("replies are UTF-8")
        .split_terminator("\r\n")
        .map(str::to_string)
        .collect()
}

const TRANSACTION: &[u8] =
    b"EHLO c.example.org\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n";

#[test]
fn greeting_is_ready_before_any_input() {
    let mut session = Session::new(
        ValidConfig::default(),
        Connection {
            peer: "192.0.2.9:1234".parse().unwrap(),
            tls_available: false,
            tls_active: false,
            tls_required: false,
        },
    );
    assert_eq!(replies(&mut session), ["220 localhost ESMTP ready"]);
    assert_eq!(session.phase(), Phase::Command);
    assert!(session.wants_input());
}

#[test]
fn no_reply_and_no_reading_until_the_message_is_stored() {
    let mut s = session(false);
    s.receive(TRANSACTION);
    assert_eq!(s.phase(), Phase::Data);
    s.receive(b"Subject: x\r\n\r\nhi\r\n.\r\nNOOP\r\n");
    assert_eq!(s.phase(), Phase::AwaitingDecision);
    assert!(!s.wants_input());
    let Some(Event::MessageReady { envelope, data }) = s.poll_event() else {
        panic!("no message");
    };
    assert_eq!(data, b"Subject: x\r\n\r\nhi\r\n");
    assert_eq!(envelope.peer.to_string(), "192.0.2.9:1234");
    assert_eq!(envelope.protocol(), "ESMTP");
    let before = replies(&mut s);
    assert_eq!(
        before.last().map(String::as_str),
        Some("354 end data with <CR><LF>.<CR><LF>")
    );
    // A driver that reads anyway: the bytes wait, nothing is answered yet.
    s.receive(b"QUIT\r\n");
    assert!(replies(&mut s).is_empty());
    s.message_stored("Q7").unwrap();
    assert_eq!(
        replies(&mut s),
        [
            "250 2.0.0 message queued as Q7",
            "250 2.0.0 ok",
            "221 2.0.0 bye"
        ]
    );
    assert_eq!(s.poll_event(), Some(Event::Close));
    assert!(s.is_closed());
}

#[test]
fn decision_without_a_message_is_a_driver_error() {
    let mut s = session(false);
    let err = s.message_rejected("no").unwrap_err();
    assert_eq!(
        err,
        SessionError::NoMessagePending {
            phase: Phase::Command
        }
    );
    assert_eq!(
        err.to_string(),
        "no message is waiting for a decision, the session is in phase command"
    );
    assert!(replies(&mut s).is_empty());
}

#[test]
fn tls_started_without_starttls_is_a_driver_error() {
    let mut s = session(true);
    assert_eq!(
        s.tls_started().unwrap_err().to_string(),
        "no STARTTLS is waiting for its handshake, the session is in phase command"
    );
}

#[test]
fn starttls_stops_reading_until_the_handshake() {
    let mut s = session(true);
    s.receive(b"EHLO c\r\nSTARTTLS\r\n");
    assert_eq!(s.phase(), Phase::StartingTls);
    assert!(!s.wants_input());
    assert_eq!(s.poll_event(), Some(Event::StartTls { discarded: 0 }));
    s.tls_started().unwrap();
    assert_eq!(s.phase(), Phase::Command);
}

#[test]
fn shutdown_during_handshake_answers_421_over_tls() {
    let mut s = session(true);
    s.receive(b"STARTTLS\r\n");
    s.shutting_down();
    assert_eq!(replies(&mut s), ["220 2.0.0 ready to start TLS"]);
    s.tls_started().unwrap();
    assert_eq!(
        replies(&mut s),
        ["421 4.3.2 localhost service shutting down"]
    );
    assert!(s.is_closed());
}

#[test]
fn shutdown_while_deciding_answers_the_decision_first() {
    let mut s = session(false);
    s.receive(TRANSACTION);
    s.receive(b".\r\n");
    s.shutting_down();
    assert!(!s.is_closed());
    replies(&mut s);
    s.message_rejected("spam").unwrap();
    assert_eq!(
        replies(&mut s),
        [
            "550 5.7.1 spam",
            "421 4.3.2 localhost service shutting down"
        ]
    );
}

#[test]
fn timeout_in_data_closes_with_421() {
    let mut s = session(false);
    s.receive(TRANSACTION);
    s.receive(b"Subject: slow");
    replies(&mut s);
    s.timed_out();
    assert_eq!(
        replies(&mut s),
        ["421 4.4.2 localhost timeout, closing connection"]
    );
    assert_eq!(s.phase(), Phase::Closed);
}

#[test]
fn empty_reasons_get_a_default_text() {
    let mut s = session(false);
    s.receive(TRANSACTION);
    s.receive(b".\r\n");
    replies(&mut s);
    s.message_tempfailed("  ").unwrap();
    assert_eq!(replies(&mut s), ["451 4.7.1 try again later"]);
}

#[test]
fn input_after_close_is_ignored() {
    let mut s = session(false);
    s.receive(b"QUIT\r\n");
    replies(&mut s);
    s.receive(b"NOOP\r\n");
    assert!(replies(&mut s).is_empty());
    assert_eq!(s.buffered_bytes(), 0);
}
