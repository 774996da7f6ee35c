//! The server-wide in-flight budget, seen from two sessions sharing it: a message that does
//! not fit gets 452 4.3.1 at the end of DATA, MAIL gets 452 while the budget is spent, and
//! the budget comes back with the final reply or when a session goes away.

use sg_smtp::{Connection, Event, InflightBudget, Session, ValidConfig};

fn session(budget: &InflightBudget) -> Session {
    let mut session = Session::new(
        ValidConfig::default(),
        Connection {
            peer: "192.0.2.9:1234".parse().expect("valid socket address"),
            tls_available: false,
            tls_active: false,
            tls_required: false,
        },
    )
    .with_budget(budget.clone());
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

fn last_reply(session: &mut Session) -> String {
    replies(session).pop().unwrap_or_default()
}

const TRANSACTION: &[u8] =
    b"EHLO c.example.org\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n";

fn body(bytes: usize) -> Vec<u8> {
    let mut body = b"Subject: x\r\n\r\n".to_vec();
    while body.len() < bytes {
        body.extend_from_slice(b"0123456789abcdefghijklmnopqrstuvwxyz\r\n");
    }
    body
}

#[test]
fn message_over_the_budget_gets_452_and_the_session_goes_on() {
    let budget = InflightBudget::new(4096);
    let mut s = session(&budget);
    s.receive(TRANSACTION);
    assert_eq!(last_reply(&mut s), "354 end data with <CR><LF>.<CR><LF>");
    s.receive(&body(10_000));
    assert!(budget.in_use() <= 4096);
    s.receive(b".\r\n");
    assert_eq!(last_reply(&mut s), "452 4.3.1 insufficient system storage");
    assert_eq!(s.poll_event(), None, "nothing reaches the handler");
    assert_eq!(budget.in_use(), 0, "what was buffered is given back");

    // A message that fits still goes through on the same connection.
    s.receive(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
    s.receive(&body(1000));
    s.receive(b".\r\n");
    assert!(matches!(s.poll_event(), Some(Event::MessageReady { .. })));
    assert!(budget.in_use() > 0, "held while the handler decides");
    s.message_stored("Q1").expect("a message is waiting");
    assert_eq!(last_reply(&mut s), "250 2.0.0 message queued as Q1");
    assert_eq!(budget.in_use(), 0, "released with the final reply");
}

#[test]
fn mail_gets_452_while_another_session_holds_the_budget() {
    let budget = InflightBudget::new(8192);
    let mut a = session(&budget);
    let mut b = session(&budget);
    a.receive(TRANSACTION);
    a.receive(&body(3000));
    assert!(budget.in_use() >= 3000);

    b.receive(b"EHLO d.example.org\r\nMAIL FROM:<c@example.org>\r\n");
    assert_eq!(last_reply(&mut b), "452 4.3.1 insufficient system storage");

    a.receive(b".\r\n");
    assert!(matches!(a.poll_event(), Some(Event::MessageReady { .. })));
    b.receive(b"MAIL FROM:<c@example.org>\r\n");
    assert_eq!(
        last_reply(&mut b),
        "452 4.3.1 insufficient system storage",
        "still held until A's message is handled"
    );

    a.message_rejected("no").expect("a message is waiting");
    assert_eq!(budget.in_use(), 0);
    b.receive(b"MAIL FROM:<c@example.org>\r\n");
    assert_eq!(last_reply(&mut b), "250 2.1.0 sender ok");
}

#[test]
fn declared_size_over_what_is_left_gets_452() {
    let budget = InflightBudget::new(1024 * 1024);
    let mut s = session(&budget);
    s.receive(b"EHLO c.example.org\r\nMAIL FROM:<a@example.org> SIZE=2000000\r\n");
    assert_eq!(last_reply(&mut s), "452 4.3.1 insufficient system storage");
    s.receive(b"MAIL FROM:<a@example.org> SIZE=2000\r\n");
    assert_eq!(last_reply(&mut s), "250 2.1.0 sender ok");
}

#[test]
fn session_dropped_in_data_gives_its_budget_back() {
    let budget = InflightBudget::new(1024 * 1024);
    let mut s = session(&budget);
    s.receive(TRANSACTION);
    s.receive(&body(50_000));
    assert!(budget.in_use() >= 50_000);
    drop(s);
    assert_eq!(budget.in_use(), 0);
}

#[test]
fn budget_refusals_do_not_count_as_client_errors() {
    let budget = InflightBudget::new(10);
    let mut s = session(&budget);
    s.receive(b"EHLO c.example.org\r\n");
    // Far more than max_errors (20): a busy server must not close on its clients.
    for _ in 0..50 {
        s.receive(b"MAIL FROM:<a@example.org> SIZE=100\r\n");
    }
    assert!(!s.is_closed());
    assert_eq!(
        replies(&mut s).last().map(String::as_str),
        Some("452 4.3.1 insufficient system storage")
    );
}
