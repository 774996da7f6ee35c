//! The verifier against a DNS server on 127.0.0.1 that the test starts with its own zone
//! (`scripts/testdns.py`): SPF, DKIM (a key made here), DMARC, forged headers, timeouts.

use std::net::IpAddr;

use mail_auth::arc::ArcSealer;
use mail_auth::common::crypto::{Ed25519Key, Sha256, SigningKey};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use mail_auth::{ArcOutput, AuthenticatedMessage, AuthenticationResults};
use sg_auth::{AuthConfig, DmarcPolicy, Status, Verifier};
use sg_testkit::TestDns;

const ID: &str = "mx.gateway.test";
const LOOPBACK: &str = "127.0.0.1";

/// A fresh Ed25519 key and its DKIM TXT record.
fn dkim_key() -> (Ed25519Key, String) {
    let pkcs8 = Ed25519Key::generate_pkcs8().expect("generate key");
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).expect("load key");
    let record = format!("v=DKIM1; k=ed25519; p={}", base64(&key.public_key()));
    (key, record)
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

fn sign(key: impl SigningKey<Hasher = Sha256>, domain: &str, message: &str) -> String {
    let sig = DkimSigner::from_key(key)
        .domain(domain)
        .selector("sel")
        .headers(["From", "To", "Subject"])
        .sign(message.as_bytes())
        .expect("sign");
    format!("{}{message}", sig.to_header())
}

fn message(from: &str, body: &str) -> String {
    format!("From: {from}\r\nTo: you@example.org\r\nSubject: hello\r\n\r\n{body}\r\n")
}

/// The zone every test uses; `dkim` is the TXT record of `sel._domainkey.bank.test`.
fn zone(dkim: &str) -> String {
    serde_like(&[
        ("pass.test", "v=spf1 ip4:127.0.0.1 -all"),
        ("fail.test", "v=spf1 ip4:192.0.2.1 -all"),
        ("bank.test", "v=spf1 ip4:192.0.2.1 -all"),
        ("_dmarc.bank.test", "v=DMARC1; p=reject"),
        ("sel._domainkey.bank.test", dkim),
    ])
}

/// `{"name": {"TXT": ["value"]}, …}` without a JSON crate.
fn serde_like(records: &[(&str, &str)]) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let items: Vec<String> = records
        .iter()
        .map(|(n, v)| format!("\"{}\": {{\"TXT\": [\"{}\"]}}", esc(n), esc(v)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn verifier(resolver: &str, spf_for_private_peers: bool) -> Verifier {
    Verifier::new(&AuthConfig {
        authserv_id: ID.into(),
        resolver: resolver.into(),
        spf_for_private_peers,
        ..AuthConfig::default()
    })
    .expect("verifier")
}

fn ip() -> IpAddr {
    LOOPBACK.parse().expect("an IP")
}

macro_rules! dns_or_skip {
    ($zone:expr) => {
        match TestDns::start(&$zone) {
            Some(dns) => dns,
            None => {
                eprintln!("skipped: python3 (runs scripts/testdns.py) is not installed");
                return;
            }
        }
    };
}

#[tokio::test]
async fn spf_passes_and_fails_for_a_loopback_peer_when_private_peers_are_checked() {
    let dns = dns_or_skip!(zone("v=DKIM1; p="));
    let v = verifier(&dns.addr(), true);
    let raw = message("a@pass.test", "hi");
    let pass = v
        .verify(raw.as_bytes(), ip(), "pass.test", "a@pass.test")
        .await;
    let spf = pass.spf_mail_from.expect("MAIL FROM checked");
    assert_eq!(
        (spf.result, spf.identity.as_str()),
        (Status::Pass, "a@pass.test")
    );
    assert_eq!(pass.spf_helo.expect("HELO checked").result, Status::Pass);
    let fail = v
        .verify(raw.as_bytes(), ip(), "client.pass.test", "a@fail.test")
        .await;
    assert_eq!(
        fail.spf_helo.as_ref().map(|s| s.result),
        Some(Status::None),
        "no record"
    );
    assert_eq!(
        fail.spf_mail_from.as_ref().map(|s| s.result),
        Some(Status::Fail)
    );
    let value = fail.header_value(ID);
    assert!(
        value.contains("spf=fail smtp.mailfrom=a@fail.test"),
        "{value}"
    );

    // By default a private peer gets no SPF result at all (but DKIM/DMARC still run).
    let quiet = verifier(&dns.addr(), false);
    let out = quiet
        .verify(raw.as_bytes(), ip(), "client.pass.test", "a@fail.test")
        .await;
    assert_eq!((&out.spf_mail_from, &out.spf_helo), (&None, &None));
    assert!(!out.header_value(ID).contains("spf="));
}

#[tokio::test]
async fn dkim_passes_with_a_fresh_key_and_fails_once_the_body_is_changed() {
    let (key, record) = dkim_key();
    let dns = dns_or_skip!(zone(&record));
    let v = verifier(&dns.addr(), false);
    let signed = sign(
        key,
        "bank.test",
        &message("info@bank.test", "Your statement is ready."),
    );
    let out = v
        .verify(signed.as_bytes(), ip(), "mx.bank.test", "info@bank.test")
        .await;
    assert_eq!(out.dkim.len(), 1);
    let d = &out.dkim[0];
    assert_eq!(
        (d.result, d.domain.as_str(), d.selector.as_str()),
        (Status::Pass, "bank.test", "sel")
    );
    assert!(
        out.header_value(ID)
            .contains("dkim=pass header.d=bank.test header.s=sel")
    );

    let tampered = signed.replace("statement is ready", "statement is at evil.example");
    let out = v
        .verify(tampered.as_bytes(), ip(), "mx.bank.test", "info@bank.test")
        .await;
    assert_eq!(out.dkim[0].result, Status::Fail, "{:?}", out.dkim);
    assert_eq!(out.dmarc.result, Status::Fail);
}

#[tokio::test]
async fn dmarc_passes_on_aligned_dkim_and_fails_with_the_reject_policy_otherwise() {
    let (key, record) = dkim_key();
    let dns = dns_or_skip!(zone(&record));
    let v = verifier(&dns.addr(), true);
    // Signed by the From domain; SPF fails (loopback is not in bank.test's record).
    let signed = sign(key, "bank.test", &message("info@bank.test", "hi"));
    let out = v
        .verify(signed.as_bytes(), ip(), "mx.esp.test", "bounce@bank.test")
        .await;
    assert_eq!(
        out.spf_mail_from.as_ref().map(|s| s.result),
        Some(Status::Fail)
    );
    assert_eq!(out.dmarc.result, Status::Pass);
    assert_eq!(out.dmarc.from_domain, "bank.test");

    // Forged: unsigned, sent from a host bank.test does not list.
    let forged = message("security@bank.test", "verify your account");
    let out = v
        .verify(forged.as_bytes(), ip(), "mx.bad.test", "security@bank.test")
        .await;
    assert_eq!(out.dmarc.result, Status::Fail);
    assert_eq!(out.dmarc.policy, Some(DmarcPolicy::Reject));
    let value = out.header_value(ID);
    assert!(
        value.contains("dmarc=fail (p=reject) header.from=bank.test"),
        "{value}"
    );
    // A From domain without any record: none, not fail.
    let other = message("a@pass.test", "hi");
    let out = v
        .verify(other.as_bytes(), ip(), "client.pass.test", "a@pass.test")
        .await;
    assert_eq!((out.dmarc.result, out.dmarc.policy), (Status::None, None));
}

#[tokio::test]
async fn an_arc_seal_by_a_forwarder_verifies_and_breaks_when_the_body_changes() {
    let (key, record) = dkim_key();
    let dns = dns_or_skip!(zone(&record));
    let v = verifier(&dns.addr(), false);
    let raw = message("info@pass.test", "Forwarded through a list.");
    let parsed = AuthenticatedMessage::parse(raw.as_bytes()).expect("parse");
    let results = AuthenticationResults::new("mx.bank.test");
    let seal = ArcSealer::from_key(key)
        .domain("bank.test")
        .selector("sel")
        .headers(["From", "To", "Subject"])
        .seal(&parsed, &results, &ArcOutput::default())
        .expect("seal");
    let sealed = format!("{}{raw}", seal.to_header());
    let out = v
        .verify(sealed.as_bytes(), ip(), "mx.bank.test", "info@pass.test")
        .await;
    assert_eq!(out.arc, Status::Pass, "{sealed}");
    assert!(out.header_value(ID).contains("\tarc=pass;"));
    let broken = sealed.replace("through a list", "through evil.example");
    let out = v
        .verify(broken.as_bytes(), ip(), "mx.bank.test", "info@pass.test")
        .await;
    assert_eq!(out.arc, Status::Fail);
}

#[tokio::test]
async fn authenticate_puts_our_header_on_top_and_drops_forged_ones() {
    let dns = dns_or_skip!(zone("v=DKIM1; p="));
    let v = verifier(&dns.addr(), false);
    let raw = format!(
        "Authentication-Results: {}; dkim=pass header.d=bank.test\r\n\
         Authentication-Results: mx.upstream.test; spf=pass\r\n{}",
        ID.to_uppercase(),
        message("info@bank.test", "hi")
    );
    let out = v
        .authenticate(raw.as_bytes(), ip(), "mx.bad.test", "info@bank.test")
        .await;
    assert_eq!(out.forged_removed, 1);
    let text = String::from_utf8(out.message).unwrap();
    assert!(
        text.starts_with(&format!("Authentication-Results: {ID};\r\n\tdkim=none;")),
        "{text}"
    );
    assert_eq!(text.to_ascii_lowercase().matches(ID).count(), 1, "{text}");
    assert!(text.contains("Authentication-Results: mx.upstream.test; spf=pass\r\nFrom:"));
    assert!(
        text.contains("dmarc=fail (p=reject) header.from=bank.test"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unanswering_resolver_ends_in_temperror_within_the_timeout() {
    // A UDP port that never answers (and no TCP listener behind it).
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let v = Verifier::new(&AuthConfig {
        authserv_id: ID.into(),
        resolver: silent.local_addr().unwrap().to_string(),
        timeout_secs: 1,
        ..AuthConfig::default()
    })
    .expect("verifier");
    let raw = message("info@bank.test", "hi");
    let out = v
        .verify(raw.as_bytes(), ip(), "mx.bank.test", "info@bank.test")
        .await;
    assert_eq!(out.dmarc.result, Status::TempError, "{out:?}");
}

#[test]
fn bad_settings_are_refused_with_the_key_named() {
    let err = Verifier::new(&AuthConfig {
        authserv_id: ID.into(),
        resolver: "dns.example:53".into(),
        ..AuthConfig::default()
    })
    .err()
    .expect("refused");
    assert!(err.to_string().contains("resolver"), "{err}");
    let err = Verifier::new(&AuthConfig::default())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("authserv_id"), "{err}");
}
