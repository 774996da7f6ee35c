//! The tokio driver on real sockets (127.0.0.1:0): delivery, decisions, limits, timeouts,
//! hostile clients and graceful shutdown. Timeouts are configured short (hundreds of
//! milliseconds) rather than paused, because the clock must also govern real socket I/O.

mod support;

use std::time::{Duration, Instant};

use sg_smtp::{Config, ServerConfig};
use support::{Client, REPLY_WAIT, TestServer, message};

fn quick(cfg: ServerConfig) -> ServerConfig {
    ServerConfig {
        shutdown_timeout: Duration::from_secs(5),
        ..cfg
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_delivery_reaches_the_handler() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(c.command("EHLO client.example.org").await, "250 SMTPUTF8");
    assert_eq!(
        c.command("MAIL FROM:<alice@example.org>").await,
        "250 2.1.0 sender ok"
    );
    assert_eq!(
        c.command("RCPT TO:<bob@example.net>").await,
        "250 2.1.5 recipient ok"
    );
    assert!(c.command("DATA").await.starts_with("354 "));
    c.send("Subject: hi\r\n\r\n..dotted\r\nbody\r\n.\r\n").await;
    assert_eq!(c.reply().await, "250 2.0.0 message queued as Q1");
    assert_eq!(c.command("QUIT").await, "221 2.0.0 bye");
    assert!(c.closed().await);

    assert_eq!(server.handler.count(), 1);
    let (envelope, data) = server.handler.message(0);
    assert_eq!(envelope.mail_from, "alice@example.org");
    assert_eq!(envelope.rcpt_to, ["bob@example.net"]);
    assert_eq!(envelope.helo, "client.example.org");
    assert!(envelope.peer.ip().is_loopback());
    assert!(!envelope.tls);
    assert_eq!(data, b"Subject: hi\r\n\r\n.dotted\r\nbody\r\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_is_not_advertised_without_a_certificate() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut c = Client::connect(server.addr).await;
    c.send("EHLO client.example.org\r\n").await;
    let mut lines = Vec::new();
    loop {
        let line = c.line().await;
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line);
        if last {
            break;
        }
    }
    assert!(!lines.iter().any(|l| l.contains("STARTTLS")), "{lines:?}");
    assert_eq!(
        c.command("STARTTLS").await,
        "502 5.5.1 STARTTLS not available"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_delivers_a_message() {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    if !python.is_ok_and(|out| out.status.success()) {
        eprintln!("skipped: python3 not found, smtplib delivery not tested");
        return;
    }
    let server = TestServer::start(ServerConfig::default()).await;
    let script = format!(
        "import smtplib\n\
         s = smtplib.SMTP('127.0.0.1', {port}, timeout=20)\n\
         s.ehlo('py.example.org')\n\
         assert s.has_extn('pipelining') and s.has_extn('size')\n\
         msg = 'From: a@example.org\\r\\nSubject: smtplib\\r\\n\\r\\n.starts with a dot\\r\\nbye\\r\\n'\n\
         refused = s.sendmail('a@example.org', ['b@example.net', 'c@example.net'], msg)\n\
         assert refused == {{}}, refused\n\
         code, text = s.noop()\n\
         assert code == 250, (code, text)\n\
         s.quit()\n",
        port = server.addr.port()
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "smtplib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (envelope, data) = server.handler.message(0);
    assert_eq!(envelope.rcpt_to, ["b@example.net", "c@example.net"]);
    assert_eq!(envelope.helo, "py.example.org");
    assert_eq!(
        data,
        b"From: a@example.org\r\nSubject: smtplib\r\n\r\n.starts with a dot\r\nbye\r\n"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_transactions_are_answered_in_order() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut c = Client::connect(server.addr).await;
    c.command("EHLO client.example.org").await;
    c.send(&format!(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n\
         {}.\r\nMAIL FROM:<d@example.org>\r\nRCPT TO:<e@example.net>\r\nDATA\r\n{}.\r\nQUIT\r\n",
        message("one"),
        message("two")
    ))
    .await;
    let mut replies = Vec::new();
    loop {
        let line = c.line().await;
        if line.is_empty() {
            break;
        }
        replies.push(line);
    }
    assert_eq!(
        replies,
        [
            "250 2.1.0 sender ok",
            "250 2.1.5 recipient ok",
            "250 2.1.5 recipient ok",
            "354 end data with <CR><LF>.<CR><LF>",
            "250 2.0.0 message queued as Q1",
            "250 2.1.0 sender ok",
            "250 2.1.5 recipient ok",
            "354 end data with <CR><LF>.<CR><LF>",
            "250 2.0.0 message queued as Q2",
            "221 2.0.0 bye",
        ]
    );
    assert_eq!(server.handler.message(1).0.mail_from, "d@example.org");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_decisions_reach_the_client_with_their_codes() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut c = Client::connect(server.addr).await;
    c.command("EHLO client.example.org").await;
    let from = "a@example.org";
    let to = "b@example.net";
    assert_eq!(
        c.deliver(from, to, &message("reject")).await,
        "550 5.7.1 phishing link"
    );
    assert_eq!(
        c.deliver(from, to, &message("tempfail")).await,
        "451 4.7.1 greylisted"
    );
    assert_eq!(
        c.deliver(from, to, &message("notstored")).await,
        "451 4.3.0 local error, message not stored"
    );
    assert_eq!(
        c.deliver(from, to, &message("fine")).await,
        "250 2.0.0 message queued as Q1"
    );
    assert_eq!(server.handler.count(), 4);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_without_a_decision_in_time_gets_451() {
    let server = TestServer::start(ServerConfig {
        decision_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    let mut c = Client::connect(server.addr).await;
    c.command("EHLO client.example.org").await;
    assert_eq!(
        c.deliver("a@example.org", "b@example.net", &message("hang"))
            .await,
        "451 4.3.0 local error, message not stored"
    );
    // The session goes on.
    assert_eq!(c.command("NOOP").await, "250 2.0.0 ok");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_over_max_sessions_gets_421_and_a_freed_slot_is_reused() {
    let server = TestServer::start(ServerConfig {
        max_sessions: 2,
        ..ServerConfig::default()
    })
    .await;
    let mut first = Client::connect(server.addr).await;
    let _second = Client::connect(server.addr).await;
    let mut third = Client::connect_raw(server.addr).await;
    assert_eq!(
        third.line().await,
        "421 4.7.0 localhost too many connections, try again later"
    );
    assert!(third.closed().await);

    assert_eq!(first.command("QUIT").await, "221 2.0.0 bye");
    assert!(first.closed().await);
    // The slot is released when the session's task ends, a moment after the close.
    let deadline = Instant::now() + REPLY_WAIT;
    loop {
        let mut next = Client::connect_raw(server.addr).await;
        let greeting = next.line().await;
        if greeting.starts_with("220 ") {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed: {greeting}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_trickling_a_command_is_cut_by_the_command_timeout() {
    let server = TestServer::start(ServerConfig {
        command_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    })
    .await;
    let mut c = Client::connect(server.addr).await;
    let started = Instant::now();
    // One byte every 100 ms: each read is quick, but the command never completes.
    let mut sent = 0;
    for byte in b"NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        .iter()
        .cycle()
    {
        if !c.try_send(&[*byte]).await || started.elapsed() > Duration::from_secs(5) {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        c.line().await,
        "421 4.4.2 localhost timeout, closing connection"
    );
    assert!(c.closed().await);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cut after {sent} bytes"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_whole_commands_in_time_is_not_cut() {
    let server = TestServer::start(ServerConfig {
        command_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    })
    .await;
    let mut c = Client::connect(server.addr).await;
    // 1.5 s in all, 300 ms between commands: the deadline is per command, not per session.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(c.command("NOOP").await, "250 2.0.0 ok");
    }
    server.stop().await;
}

/// A client past `354`, ready to send message content.
async fn client_in_data(addr: std::net::SocketAddr) -> Client {
    let mut c = Client::connect(addr).await;
    c.command("EHLO client.example.org").await;
    c.command("MAIL FROM:<a@example.org>").await;
    c.command("RCPT TO:<b@example.net>").await;
    assert!(c.command("DATA").await.starts_with("354 "));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_data_is_cut_by_the_data_timeout() {
    let server = TestServer::start(ServerConfig {
        data_timeout: Duration::from_millis(600),
        // No rate floor here: this test is about the wait between reads.
        min_data_rate: 0,
        ..ServerConfig::default()
    })
    .await;
    let mut c = client_in_data(server.addr).await;
    let started = Instant::now();
    // Content that keeps coming resets the data timeout: 1.2 s of it, a line every 100 ms...
    let mut last_send = Instant::now();
    for _ in 0..12 {
        c.send("X-Slow: yes\r\n").await;
        last_send = Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // ...then a silence longer than the timeout is cut.
    assert_eq!(
        c.line().await,
        "421 4.4.2 localhost timeout, closing connection"
    );
    assert!(c.closed().await);
    assert!(last_send - started >= Duration::from_millis(1100));
    let silence = last_send.elapsed();
    assert!(
        silence >= Duration::from_millis(590),
        "cut {silence:?} after the last content"
    );
    assert_eq!(server.handler.count(), 0);
    server.stop().await;
}

#[tokio::test]
async fn content_trickled_below_the_minimum_rate_is_cut() {
    let server = TestServer::start(ServerConfig {
        data_timeout: Duration::from_millis(600),
        min_data_rate: 100,
        ..ServerConfig::default()
    })
    .await;
    let mut c = client_in_data(server.addr).await;
    let started = Instant::now();
    // 4 bytes every 100 ms (40 B/s): each read comes well within the data timeout, but the
    // whole phase may last only 0.6 s + bytes/100 s, so the trickle is cut near 0.8 s.
    let mut sent = 0;
    let reply = loop {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a trickle of {sent} bytes over 5 s was never cut"
        );
        if !c.try_send(b"abc\n").await {
            break c.line().await;
        }
        sent += 4;
        // Waiting for a reply is the 100 ms pause between sends.
        if let Ok(line) = tokio::time::timeout(Duration::from_millis(100), c.line()).await {
            break line;
        }
    };
    assert_eq!(reply, "421 4.4.2 localhost timeout, closing connection");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.handler.count(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_line_is_answered_while_another_client_is_served() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut big = Client::connect(server.addr).await;
    let half = vec![b'x'; 5 * 1024 * 1024];
    big.send("NOOP ").await;
    big.send_bytes(&half).await;

    // In the middle of the long line, another client gets a whole delivery through.
    let mut other = Client::connect(server.addr).await;
    other.command("EHLO other.example.org").await;
    assert_eq!(
        other
            .deliver("a@example.org", "b@example.net", &message("meanwhile"))
            .await,
        "250 2.0.0 message queued as Q1"
    );

    big.send_bytes(&half).await;
    big.send("\r\nNOOP\r\n").await;
    assert_eq!(big.line().await, "500 5.5.2 line too long");
    assert_eq!(big.line().await, "250 2.0.0 ok");

    // A 10 MB line inside DATA is content, accepted whole.
    big.command("EHLO big.example.org").await;
    let mut body = b"Subject: long\r\n\r\n".to_vec();
    body.extend(std::iter::repeat_n(b'y', 10 * 1024 * 1024));
    body.extend_from_slice(b"\r\n");
    big.command("MAIL FROM:<a@example.org>").await;
    big.command("RCPT TO:<b@example.net>").await;
    assert!(big.command("DATA").await.starts_with("354 "));
    big.send_bytes(&body).await;
    assert_eq!(big.command(".").await, "250 2.0.0 message queued as Q2");
    assert_eq!(server.handler.message(1).1, body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_message_in_flight_and_closes_idle_sessions() {
    let server = TestServer::start(quick(ServerConfig::default())).await;
    let mut busy = Client::connect(server.addr).await;
    busy.command("EHLO busy.example.org").await;
    busy.command("MAIL FROM:<a@example.org>").await;
    busy.command("RCPT TO:<b@example.net>").await;
    assert!(busy.command("DATA").await.starts_with("354 "));
    busy.send("Subject: in flight\r\n\r\nfirst half\r\n").await;
    let mut idle = Client::connect(server.addr).await;
    idle.command("EHLO idle.example.org").await;

    server.shutdown.cancel();
    assert_eq!(
        idle.line().await,
        "421 4.3.2 localhost service shutting down"
    );
    assert!(idle.closed().await);

    busy.send("second half\r\n.\r\nMAIL FROM:<c@example.org>\r\n")
        .await;
    assert_eq!(busy.line().await, "250 2.0.0 message queued as Q1");
    assert_eq!(
        busy.line().await,
        "421 4.3.2 localhost service shutting down"
    );
    assert!(busy.closed().await);
    assert_eq!(
        server.handler.message(0).1,
        b"Subject: in flight\r\n\r\nfirst half\r\nsecond half\r\n"
    );

    let addr = server.addr;
    tokio::time::timeout(REPLY_WAIT, server.task)
        .await
        .expect("serve returns once the sessions are done")
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_while_the_handler_decides_answers_it_then_421() {
    let server = TestServer::start(quick(ServerConfig::default())).await;
    let mut c = Client::connect(server.addr).await;
    c.command("EHLO client.example.org").await;
    c.command("MAIL FROM:<a@example.org>").await;
    c.command("RCPT TO:<b@example.net>").await;
    assert!(c.command("DATA").await.starts_with("354 "));
    // The handler takes 200 ms; NOOP is pipelined behind the message.
    c.send(&format!("{}.\r\nNOOP\r\n", message("slow"))).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.shutdown.cancel();
    assert_eq!(c.line().await, "250 2.0.0 message queued as Q1");
    assert_eq!(c.line().await, "421 4.3.2 localhost service shutting down");
    assert!(c.closed().await);
    tokio::time::timeout(REPLY_WAIT, server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_timeout_cuts_a_session_that_never_finishes() {
    let server = TestServer::start(ServerConfig {
        shutdown_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    let mut c = Client::connect(server.addr).await;
    c.command("EHLO client.example.org").await;
    c.command("MAIL FROM:<a@example.org>").await;
    c.command("RCPT TO:<b@example.net>").await;
    assert!(c.command("DATA").await.starts_with("354 "));
    c.send("Subject: never ends\r\n").await;
    let started = Instant::now();
    server.shutdown.cancel();
    assert_eq!(c.line().await, "421 4.3.2 localhost service shutting down");
    assert!(c.closed().await);
    tokio::time::timeout(REPLY_WAIT, server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.handler.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_with_five_messages_each_all_succeed() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut clients = Vec::new();
    for i in 0..200 {
        let addr = server.addr;
        clients.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await;
            assert!(
                c.command(&format!("EHLO c{i}.example.org"))
                    .await
                    .starts_with("250 ")
            );
            for n in 0..5 {
                let reply = c
                    .deliver(
                        &format!("sender{i}@example.org"),
                        "rcpt@example.net",
                        &message(&format!("client {i} message {n}")),
                    )
                    .await;
                assert!(
                    reply.starts_with("250 2.0.0 message queued as Q"),
                    "{reply}"
                );
            }
            assert_eq!(c.command("QUIT").await, "221 2.0.0 bye");
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    assert_eq!(server.handler.count(), 1000);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_limits_come_from_the_session_config() {
    let server = TestServer::start_with(
        ServerConfig::default(),
        Config {
            hostname: "mx.example.org".into(),
            max_message_size: 100,
            ..Config::default()
        },
    )
    .await;
    let mut c = Client::connect_raw(server.addr).await;
    assert_eq!(c.line().await, "220 mx.example.org ESMTP ready");
    c.command("EHLO client.example.org").await;
    let body = format!("Subject: big\r\n\r\n{}\r\n", "z".repeat(200));
    assert_eq!(
        c.deliver("a@example.org", "b@example.net", &body).await,
        "552 5.3.4 message exceeds fixed maximum size"
    );
    assert_eq!(server.handler.count(), 0);
    server.stop().await;
}
