//! The detection bars on the real-mail corpus in `../shared/corpus` (not part of the
//! repository). Skips with a message when it is absent, as on a newcomer's fresh clone.
//!
//! Bars (issue #3): with the classifier cross-validated on the corpus (each message scored by
//! a model that never saw it), at least 90% of phishing quarantined or rejected while at
//! most 0.5% of ham is.

use std::path::PathBuf;
use std::process::Command;

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.join("labels.csv").exists().then_some(dir)
}

fn eval(extra: &[&str]) -> serde_json::Value {
    let c = corpus().expect("corpus present");
    let out = Command::new(env!("CARGO_BIN_EXE_spearguard"))
        .env_remove("SPEARGUARD_CONFIG")
        .args(["eval", "--json", "--malicious"])
        .arg(c.join("phishing"))
        .arg("--benign")
        .arg(c.join("ham"))
        .arg("--spam")
        .arg(c.join("spam"))
        .args(extra)
        .output()
        .expect("run spearguard eval");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("eval JSON")
}

fn share(e: &serde_json::Value, class: &str) -> f64 {
    e["classes"][class]["blocked_share"]
        .as_f64()
        .expect("blocked_share")
}

#[test]
fn corpus_bars_with_cross_validated_classifier() {
    if corpus().is_none() {
        eprintln!("skipped: ../shared/corpus not present");
        return;
    }
    let e = eval(&["--folds", "5"]);
    let (phish, ham) = (share(&e, "malicious"), share(&e, "benign"));
    eprintln!(
        "cross-validated: phishing blocked {:.2}%, ham blocked {:.2}%",
        phish * 100.0,
        ham * 100.0
    );
    assert_eq!(e["classes"]["malicious"]["errors"], 0);
    assert_eq!(e["classes"]["benign"]["errors"], 0);
    assert!(phish >= 0.90, "phishing blocked {phish:.4} < 0.90");
    assert!(ham <= 0.005, "ham blocked {ham:.4} > 0.005");
}

#[test]
fn corpus_rules_alone_flag_phishing_and_spare_ham() {
    if corpus().is_none() {
        eprintln!("skipped: ../shared/corpus not present");
        return;
    }
    let e = eval(&[]);
    let (phish, ham) = (share(&e, "malicious"), share(&e, "benign"));
    let flagged = phish
        + e["classes"]["malicious"]["tagged_share"]
            .as_f64()
            .expect("tagged_share");
    eprintln!(
        "rules alone: phishing blocked {:.2}% (flagged {:.2}%), ham blocked {:.2}%",
        phish * 100.0,
        flagged * 100.0,
        ham * 100.0
    );
    assert!(ham <= 0.005, "rules alone block {ham:.4} of ham");
    // Without a model the rules are deliberately cautious: they flag, the classifier blocks.
    assert!(
        flagged >= 0.20,
        "rules alone flag only {flagged:.4} of phishing"
    );
}
