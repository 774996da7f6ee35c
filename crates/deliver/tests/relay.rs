//! The SMTP client against real servers on loopback: sg-smtp's server (the sink) for whole
//! transactions, and a scripted server for replies sg-smtp never gives.

mod support;

use std::time::Duration;

use sg_deliver::relay::{Relay, Timeouts};
use sg_deliver::{Failure, Outcome};
use sg_smtp::Body;
use sg_testkit::sink::{Sink, SinkOptions};

fn relay(addr: impl ToString) -> Relay {
    let timeouts = Timeouts {
        connect: Duration::from_secs(5),
        command: Duration::from_secs(10),
        data_start: Duration::from_secs(10),
        data_block: Duration::from_secs(10),
        data_end: Duration::from_secs(10),
    };
    Relay::new(addr.to_string(), "gateway.example", timeouts)
}

fn rcpts(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn failure(o: &Outcome) -> &Failure {
    match o {
        Outcome::Failed(f) => f,
        Outcome::Delivered => panic!("expected a failure, got Delivered"),
    }
}

const MESSAGE: &[u8] =
    b"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: hi\r\n\r\nhello\r\n";

#[tokio::test]
async fn one_transaction_delivers_to_every_recipient() {
    let sink = Sink::start(SinkOptions::default()).await;
    let to = rcpts(&["bob@example.net", "carol@example.net", "dave@example.net"]);
    let outcomes = relay(sink.addr())
        .send("alice@example.org", &to, MESSAGE)
        .await;
    assert_eq!(outcomes, vec![Outcome::Delivered; 3]);
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].envelope.mail_from, "alice@example.org");
    assert_eq!(got[0].envelope.rcpt_to, to);
    assert_eq!(got[0].data, MESSAGE);
    assert_eq!(got[0].envelope.declared_size, Some(MESSAGE.len()));
    assert_eq!(got[0].envelope.helo, "gateway.example");
}

#[tokio::test]
async fn dot_stuffing_and_line_endings_survive_the_round_trip() {
    let sink = Sink::start(SinkOptions::default()).await;
    let message = b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nmid.dle\r\nbare\nlf\r\n.";
    let outcomes = relay(sink.addr())
        .send("alice@example.org", &rcpts(&["bob@example.net"]), message)
        .await;
    assert_eq!(outcomes, vec![Outcome::Delivered]);
    assert_eq!(
        sink.messages()[0].data,
        b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nmid.dle\r\nbare\r\nlf\r\n.\r\n"
    );
}

#[tokio::test]
async fn eight_bit_content_is_announced_with_body_8bitmime() {
    let sink = Sink::start(SinkOptions::default()).await;
    let message = "Subject: caf\u{e9}\r\n\r\n\u{65e5}\u{672c}\u{8a9e}\r\n".as_bytes();
    let to = rcpts(&["bob@example.net"]);
    let r = relay(sink.addr());
    assert_eq!(
        r.send("alice@example.org", &to, message).await,
        vec![Outcome::Delivered]
    );
    assert_eq!(
        r.send("alice@example.org", &to, MESSAGE).await,
        vec![Outcome::Delivered]
    );
    let got = sink.messages();
    assert_eq!(got[0].envelope.body, Body::EightBitMime);
    assert_eq!(got[0].data, message);
    assert_eq!(
        got[1].envelope.body,
        Body::Unspecified,
        "7-bit needs no BODY="
    );
    assert!(!got[0].envelope.smtputf8);
}

#[tokio::test]
async fn non_ascii_address_is_sent_with_smtputf8() {
    let sink = Sink::start(SinkOptions::default()).await;
    let to = rcpts(&["\u{305f}\u{308d}\u{3046}@example.jp"]);
    let outcomes = relay(sink.addr())
        .send("alice@example.org", &to, MESSAGE)
        .await;
    assert_eq!(outcomes, vec![Outcome::Delivered]);
    let got = sink.messages();
    assert!(got[0].envelope.smtputf8);
    assert_eq!(got[0].envelope.rcpt_to, to);
}

#[tokio::test]
async fn tempfail_is_temporary_and_the_retry_delivers_once() {
    let sink = Sink::start(SinkOptions {
        tempfail_first: 1,
        ..SinkOptions::default()
    })
    .await;
    let to = rcpts(&["bob@example.net", "carol@example.net"]);
    let r = relay(sink.addr());
    let first = r.send("alice@example.org", &to, MESSAGE).await;
    for o in &first {
        let f = failure(o);
        assert!(!f.permanent);
        assert_eq!(f.status, "4.7.1");
        assert!(f.diagnostic.starts_with("smtp; 451 4.7.1"), "{f}");
    }
    assert!(sink.messages().is_empty());
    let second = r.send("alice@example.org", &to, MESSAGE).await;
    assert_eq!(second, vec![Outcome::Delivered; 2]);
    assert_eq!(sink.attempts(), 2);
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn rejected_message_fails_permanently_with_the_servers_reply() {
    let sink = Sink::start(SinkOptions {
        reject_recipients: vec!["nobody@example.net".into()],
        ..SinkOptions::default()
    })
    .await;
    let outcomes = relay(sink.addr())
        .send(
            "alice@example.org",
            &rcpts(&["nobody@example.net"]),
            MESSAGE,
        )
        .await;
    let f = failure(&outcomes[0]);
    assert!(f.permanent);
    assert_eq!(f.status, "5.7.1");
    assert!(f.diagnostic.contains("550 5.7.1"), "{f}");
}

#[tokio::test]
async fn connection_refused_is_a_temporary_failure_for_everyone() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let to = rcpts(&["bob@example.net", "carol@example.net"]);
    let outcomes = relay(format!("127.0.0.1:{port}"))
        .send("alice@example.org", &to, MESSAGE)
        .await;
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        let f = failure(o);
        assert!(!f.permanent);
        assert_eq!(f.status, "4.4.1");
        assert!(f.diagnostic.starts_with("X-Spearguard; next hop"), "{f}");
    }
}

#[tokio::test]
async fn per_recipient_replies_give_per_recipient_outcomes() {
    let server = support::start(support::usual(
        &["SIZE 100000", "8BITMIME"],
        |line| match line {
            "RCPT TO:<gone@example.net>" => Some("550 5.1.1 no such user\r\n".into()),
            "RCPT TO:<full@example.net>" => {
                Some("452-4.2.2 mailbox full\r\n452 4.2.2 try later\r\n".into())
            }
            _ => None,
        },
    ))
    .await;
    let to = rcpts(&[
        "bob@example.net",
        "gone@example.net",
        "full@example.net",
        "carol@example.net",
    ]);
    let outcomes = relay(server.addr)
        .send("alice@example.org", &to, MESSAGE)
        .await;
    assert_eq!(outcomes[0], Outcome::Delivered);
    assert_eq!(outcomes[3], Outcome::Delivered);
    let gone = failure(&outcomes[1]);
    assert!(gone.permanent);
    assert_eq!(gone.status, "5.1.1");
    assert_eq!(gone.diagnostic, "smtp; 550 5.1.1 no such user");
    let full = failure(&outcomes[2]);
    assert!(!full.permanent);
    assert_eq!(full.status, "4.2.2");
    assert!(full.diagnostic.contains("mailbox full try later"), "{full}");
    let commands = server.commands();
    assert_eq!(
        commands,
        [
            "EHLO", "MAIL", "RCPT", "RCPT", "RCPT", "RCPT", "DATA", "QUIT"
        ]
    );
    assert_eq!(
        server.lines()[1],
        format!("MAIL FROM:<alice@example.org> SIZE={}", MESSAGE.len())
    );
}

#[tokio::test]
async fn no_accepted_recipient_means_no_data() {
    let server = support::start(support::usual(&[], |line| {
        line.starts_with("RCPT")
            .then(|| "550 5.1.1 no\r\n".to_string())
    }))
    .await;
    let outcomes = relay(server.addr)
        .send(
            "alice@example.org",
            &rcpts(&["a@example.net", "b@example.net"]),
            MESSAGE,
        )
        .await;
    assert!(outcomes.iter().all(|o| failure(o).permanent));
    assert_eq!(server.commands(), ["EHLO", "MAIL", "RCPT", "RCPT", "QUIT"]);
    assert!(server.contents.lock().unwrap().is_empty());
}

#[tokio::test]
async fn server_without_ehlo_gets_helo_and_no_parameters() {
    let server = support::start(support::usual(&[], |line| {
        line.starts_with("EHLO")
            .then(|| "502 5.5.1 command not implemented\r\n".to_string())
    }))
    .await;
    let message = "Subject: x\r\n\r\n\u{e9}t\u{e9}\r\n".as_bytes();
    let outcomes = relay(server.addr)
        .send("alice@example.org", &rcpts(&["bob@example.net"]), message)
        .await;
    assert_eq!(outcomes, vec![Outcome::Delivered]);
    let lines = server.lines();
    assert_eq!(lines[0], "EHLO gateway.example");
    assert_eq!(lines[1], "HELO gateway.example");
    assert_eq!(
        lines[2], "MAIL FROM:<alice@example.org>",
        "no SIZE= or BODY= after HELO"
    );
    assert_eq!(server.contents.lock().unwrap()[0], message);
}

#[tokio::test]
async fn non_ascii_address_without_smtputf8_fails_for_good_before_mail() {
    let server = support::start(support::usual(&["8BITMIME"], |_| None)).await;
    let outcomes = relay(server.addr)
        .send(
            "alice@example.org",
            &rcpts(&["\u{e9}@example.net"]),
            MESSAGE,
        )
        .await;
    let f = failure(&outcomes[0]);
    assert!(f.permanent);
    assert_eq!(f.status, "5.6.7");
    assert_eq!(server.commands(), ["EHLO", "QUIT"]);
}

#[tokio::test]
async fn refused_sender_fails_every_recipient_and_a_4xx_after_data_is_temporary() {
    let server = support::start(support::usual(&[], |line| match line {
        "MAIL FROM:<blocked@example.org>" => Some("553 5.7.1 sender refused\r\n".into()),
        "<END-OF-DATA>" => Some("451 4.3.0 queue full\r\n".into()),
        _ => None,
    }))
    .await;
    let to = rcpts(&["a@example.net", "b@example.net"]);
    let r = relay(server.addr);
    let blocked = r.send("blocked@example.org", &to, MESSAGE).await;
    assert!(
        blocked
            .iter()
            .all(|o| failure(o).permanent && failure(o).status == "5.7.1")
    );
    let later = r.send("", &to, MESSAGE).await;
    assert!(
        later
            .iter()
            .all(|o| !failure(o).permanent && failure(o).status == "4.3.0")
    );
    assert!(
        server.lines().contains(&"MAIL FROM:<>".to_string()),
        "null sender"
    );
}

#[tokio::test]
async fn silent_server_times_out_as_a_temporary_failure() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _keep = tokio::spawn(async move {
        let (_tcp, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
    });
    let r = Relay::new(
        addr.to_string(),
        "gateway.example",
        Timeouts {
            command: Duration::from_millis(200),
            ..Timeouts::default()
        },
    );
    let outcomes = r
        .send("alice@example.org", &rcpts(&["bob@example.net"]), MESSAGE)
        .await;
    let f = failure(&outcomes[0]);
    assert!(!f.permanent);
    assert!(f.diagnostic.contains("greeting: timed out"), "{f}");
}
