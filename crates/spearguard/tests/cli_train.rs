//! `spearguard train` and `eval` on a small labelled set generated here: the model learns the
//! difference, `scan --model` uses it with evidence, and `eval` reports shares per class.

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spearguard"));
    c.env_remove("SPEARGUARD_CONFIG");
    c
}

const LURE: &[&str] = &[
    "verify your mailbox quota now",
    "your parcel is waiting, pay the customs fee",
    "confirm your wallet seed phrase",
    "claim your prize reward today",
    "your invoice is overdue pay immediately",
];
const WORK: &[&str] = &[
    "agenda for the budget committee",
    "draft of the quarterly statistics report",
    "schedule for the training session",
    "notes from the planning meeting",
    "comments on the procurement memo",
];

fn write_set(dir: &Path, phrases: &[&str], host: &str, n: usize) {
    std::fs::create_dir_all(dir).expect("create dir");
    for i in 0..n {
        let a = phrases[i % phrases.len()];
        let b = phrases[(i * 3 + 1) % phrases.len()];
        let msg = format!(
            "From: sender{i}@{host}\r\nTo: staff@example.org\r\nSubject: {a}\r\nMessage-ID: <m{i}@{host}>\r\n\r\nHello,\r\n{a}.\r\n{b}.\r\nSee https://www.{host}/page{i}\r\n"
        );
        std::fs::write(dir.join(format!("{i:03}.eml")), msg).expect("write message");
    }
}

#[test]
fn train_then_scan_and_eval_use_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (bad, good) = (dir.path().join("bad"), dir.path().join("good"));
    write_set(&bad, LURE, "lure.example.net", 60);
    write_set(&good, WORK, "partner.example.org", 60);
    let model = dir.path().join("m.model");
    let out = bin()
        .args(["train", "--malicious"])
        .arg(&bad)
        .arg("--benign")
        .arg(&good)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("60 malicious and 60 benign"), "{said}");

    let probe = dir.path().join("probe.eml");
    std::fs::write(
        &probe,
        "From: x@lure.example.net\r\nSubject: claim your prize reward today\r\n\r\nconfirm your wallet seed phrase\r\n",
    )
    .unwrap();
    let out = bin()
        .arg("scan")
        .arg("--json")
        .arg("--model")
        .arg(&model)
        .arg(&probe)
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phish = r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "CLASSIFIER_PHISH")
        .unwrap_or_else(|| panic!("classifier silent: {r}"));
    assert!(
        phish["detail"]
            .as_str()
            .unwrap()
            .contains("strongest features"),
        "{phish}"
    );

    let out = bin()
        .args(["eval", "--json", "--model"])
        .arg(&model)
        .arg("--malicious")
        .arg(&bad)
        .arg("--benign")
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["classes"]["malicious"]["messages"], 60);
    assert_eq!(e["classes"]["benign"]["blocked_share"], 0.0, "{e}");
    assert!(
        e["signals"]["CLASSIFIER_PHISH"]["malicious"]
            .as_f64()
            .unwrap()
            > 0.9,
        "{e}"
    );
}

#[test]
fn a_corrupt_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("bad.model");
    std::fs::write(&model, b"not a model").unwrap();
    let out = bin().arg("signals").output().unwrap();
    assert!(out.status.success());
    let out = bin()
        .args(["scan", "--model"])
        .arg(&model)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("analysers.classifier.model"), "{err}");
}
