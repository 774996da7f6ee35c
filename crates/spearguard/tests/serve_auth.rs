//! Sender authentication through the real `serve`: a loopback DNS server started here holds
//! the SPF and DMARC records; the delivered message carries our `Authentication-Results`
//! (and not the forged one the sender put in), and a DMARC failure with `p=reject` reaches
//! the verdict through the auth analyser.

mod common;

use std::path::Path;

use common::{Gateway, files_in, have_python, send, wait_for};
use sg_testkit::TestDns;

const ZONE: &str = r#"{
  "good.test": {"TXT": ["v=spf1 ip4:127.0.0.1 -all"]},
  "_dmarc.good.test": {"TXT": ["v=DMARC1; p=reject"]},
  "bank.test": {"TXT": ["v=spf1 ip4:192.0.2.1 -all"]},
  "_dmarc.bank.test": {"TXT": ["v=DMARC1; p=reject"]}
}"#;

fn write_message(path: &Path, from: &str, extra_headers: &str) {
    let text = format!(
        "{extra_headers}From: {from}\r\nTo: taro@example.org\r\nSubject: Quarterly figures\r\n\
         Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <q@{}>\r\n\r\n\
         The figures are attached to the shared folder as usual.\r\n",
        from.rsplit('@').next().unwrap_or("x")
    );
    std::fs::write(path, text).expect("write message");
}

#[test]
fn serve_stamps_our_authentication_results_and_scores_dmarc_failures() {
    if !have_python() {
        return;
    }
    let dns = TestDns::start(ZONE).expect("python3 is installed");
    let data = tempfile::tempdir().expect("temp dir");
    let config = data.path().join("spearguard.toml");
    std::fs::write(
        &config,
        "[auth]\nauthserv_id = \"mx.gateway.test\"\nspf_for_private_peers = true\n",
    )
    .expect("write config");
    let (good, forged) = (data.path().join("good.eml"), data.path().join("forged.eml"));
    write_message(
        &good,
        "hanako@good.test",
        "Authentication-Results: mx.gateway.test; dkim=pass header.d=bank.test\r\n",
    );
    write_message(&forged, "security@bank.test", "");
    let config = config.to_str().expect("utf-8 path");
    let resolver = dns.addr();
    let gateway = Gateway::start(data.path(), &["--config", config, "--resolver", &resolver]);
    let addr = gateway.addr("SMTP").to_string();
    assert_eq!(
        send(&addr, "hanako@good.test", "taro@example.org", &good),
        "sent"
    );
    assert_eq!(
        send(&addr, "security@bank.test", "ops@example.org", &forged),
        "sent"
    );

    let inbox = data.path().join("mailboxes/taro@example.org/new");
    wait_for("delivery to taro", || files_in(&inbox).len() == 1);
    let delivered = std::fs::read_to_string(&files_in(&inbox)[0]).expect("read delivered");
    assert!(
        delivered.contains(
            "Authentication-Results: mx.gateway.test;\r\n\tspf=pass smtp.mailfrom=hanako@good.test;"
        ),
        "{delivered}"
    );
    assert!(
        delivered.contains("dmarc=pass (p=reject) header.from=good.test"),
        "{delivered}"
    );
    assert_eq!(
        delivered.matches("mx.gateway.test;").count(),
        1,
        "the forged header claiming our id is gone: {delivered}"
    );
    assert!(!delivered.contains("header.d=bank.test"), "{delivered}");

    // The forged bank mail: SPF fails, DMARC fails with p=reject → DMARC_FAIL in the verdict,
    // wherever the verdict put the message (delivered with a tag, or held).
    let ops = data.path().join("mailboxes/ops@example.org/new");
    let held = data.path().join("spool/quarantine");
    wait_for("the bank mail delivered or held", || {
        files_in(&ops).len() + files_in(&held).len() == 1
    });
    let file = files_in(&ops)
        .into_iter()
        .chain(files_in(&held))
        .next()
        .expect("one file");
    let stored = String::from_utf8_lossy(&std::fs::read(file).expect("read")).into_owned();
    assert!(
        stored.contains("dmarc=fail (p=reject) header.from=bank.test"),
        "{stored}"
    );
    assert!(stored.contains("DMARC_FAIL"), "{stored}");
    assert!(stored.contains("SPF_FAIL"), "{stored}");
    assert!(
        !stored.contains("X-Spearguard-Verdict: deliver"),
        "{stored}"
    );
    assert_eq!(gateway.stop(), Some(0));
}
