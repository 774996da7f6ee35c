//! End-to-end tests of `spearguard scan`, `signals` and `config` through the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spearguard"));
    c.env_remove("SPEARGUARD_CONFIG");
    c
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/messages")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run spearguard")
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect()
}

#[test]
fn credential_lure_is_blocked_with_explained_signals_and_exit_1() {
    let f = fixture("phish-credential-lure.eml");
    let out = run(&["scan", "--json", f.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let r = &lines[0];
    assert_eq!(r["source"], f.to_str().unwrap());
    assert_eq!(r["message_id"], "lure-1@mail.gmail.com");
    assert!(
        matches!(r["verdict"].as_str(), Some("quarantine" | "reject")),
        "{r}"
    );
    let signals = r["signals"].as_array().expect("signals array");
    let total: f64 = signals.iter().map(|s| s["score"].as_f64().unwrap()).sum();
    assert!(
        (total - r["score"].as_f64().unwrap()).abs() < 0.05,
        "score is the sum of signals"
    );
    for s in signals {
        assert!(!s["name"].as_str().unwrap().is_empty());
        assert!(
            !s["detail"].as_str().unwrap().is_empty(),
            "every signal explains itself: {s}"
        );
    }
    let names: Vec<&str> = signals
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for expected in ["LINK_TEXT_HOST_MISMATCH", "LINK_IP_HOST", "FROM_FREEMAIL"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[test]
fn ordinary_mail_is_delivered_and_exit_0() {
    let f = fixture("plain-colleague.eml");
    let out = run(&["scan", "--json", f.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = &json_lines(&out)[0];
    assert_eq!(r["verdict"], "deliver", "{r}");
}

#[test]
fn text_output_has_one_line_per_message_with_source_verdict_score_signals() {
    let dir = fixture("");
    let out = run(&["scan", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    // Every file in a folder is a message to scan (the README too: it gets a verdict).
    let n_files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(text.lines().count(), n_files, "{text}");
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "{line}");
        assert!(
            ["deliver", "tag", "quarantine", "reject"].contains(&cols[1]),
            "{line}"
        );
        cols[2].parse::<f32>().expect("score column");
    }
}

#[test]
fn mbox_messages_are_labelled_path_hash_n() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("inbox.mbox");
    let one = std::fs::read_to_string(fixture("plain-colleague.eml")).unwrap();
    let content = format!(
        "From a@example.org Thu Mar 12 10:00:00 2026\n{one}\nFrom b@example.org Thu Mar 12 10:01:00 2026\n{one}\n"
    );
    std::fs::write(&mbox, content).unwrap();
    let out = run(&["scan", "--json", mbox.to_str().unwrap()]);
    let sources: Vec<String> = json_lines(&out)
        .iter()
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    let base = mbox.to_str().unwrap();
    assert_eq!(sources, vec![format!("{base}#1"), format!("{base}#2")]);
}

#[test]
fn unreadable_input_is_an_error_line_and_exit_2_but_others_are_scanned() {
    let good = fixture("plain-colleague.eml");
    let out = run(&[
        "scan",
        "--json",
        "/nonexistent/spearguard-test.eml",
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().any(|l| l["error"].is_string()));
    assert!(lines.iter().any(|l| l["verdict"] == "deliver"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/spearguard-test.eml"));
}

#[test]
fn hostile_inputs_get_a_verdict_or_a_clear_error_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = String::from("From: a@example.org\r\nMIME-Version: 1.0\r\n");
    for i in 0..1000 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nhttp://x.example/a.exe\r\n");
    std::fs::write(dir.path().join("deep.eml"), deep).unwrap();
    let binary: Vec<u8> = (0..65536u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("binary.eml"), binary).unwrap();
    let full = std::fs::read(fixture("phish-credential-lure.eml")).unwrap();
    std::fs::write(dir.path().join("truncated.eml"), &full[..full.len() / 2]).unwrap();
    std::fs::write(dir.path().join("empty.eml"), b"").unwrap();
    let out = run(&["scan", "--json", dir.path().to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0..=2)), "crashed: {out:?}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    for l in &lines {
        assert!(l["verdict"].is_string() || l["error"].is_string(), "{l}");
    }
    let empty = lines
        .iter()
        .find(|l| l["source"].as_str().unwrap().ends_with("empty.eml"))
        .unwrap();
    assert!(
        empty["error"].as_str().unwrap().contains("empty"),
        "{empty}"
    );
}

#[test]
fn signals_lists_every_analysers_signals_with_scores() {
    let out = run(&["signals", "--json"]);
    assert!(out.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    for n in [
        "CLASSIFIER_PHISH",
        "FROM_FREEMAIL",
        "LINK_EXECUTABLE",
        "CONTENT_URGENCY",
        "ATTACHMENT_EXECUTABLE",
    ] {
        assert!(names.contains(&n), "{n} not listed");
    }
    for r in &rows {
        assert!(r["group"].is_string() && r["score"].is_number() && r["description"].is_string());
    }
}

#[test]
fn config_check_reports_every_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[detect]\ntag_at = 20.0\nquarantine_at = 10.0\n[detect.scores]\nNO_SUCH_SIGNAL = 1.0\n[detect.groups.nogroup]\nmax_score = 1.0\n",
    )
    .unwrap();
    let out = run(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NO_SUCH_SIGNAL"), "{err}");
    assert!(err.contains("nogroup"), "{err}");
    assert!(err.contains("thresholds"), "{err}");

    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "[detect]\nno_such_key = 1\n").unwrap();
    let out = run(&["config", "check", unknown.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_key"));
}

#[test]
fn default_config_checks_clean_and_show_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["config", "default"]);
    assert!(out.status.success());
    let example = dir.path().join("example.toml");
    std::fs::write(&example, &out.stdout).unwrap();
    let out = run(&["config", "check", example.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = run(&["--config", example.to_str().unwrap(), "config", "show"]);
    let defaults = run(&["config", "show"]);
    assert_eq!(
        shown.stdout, defaults.stdout,
        "the example config must equal the defaults"
    );
}

#[test]
fn help_documents_exit_codes() {
    let out = run(&["scan", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit status"), "{help}");
    assert!(help.contains("quarantined or rejected"));
}
