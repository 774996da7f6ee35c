//! `scan --state` over replays of the 2015 attack made by `../shared/scenarios/jps2015.py`
//! (skipped with a message when `../shared` is absent): the attack is stopped and the
//! ordinary traffic delivered (scored by the scenario's own `replay-check.py`), and state kept
//! in the database between runs gives the same verdicts as one run.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scenarios() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scenarios");
    if dir.join("jps2015.py").is_file() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/scenarios (the jps2015 generator) is absent");
        None
    }
}

fn generate(scen: &Path, out: &Path, args: &[&str]) {
    let status = Command::new("python3")
        .arg(scen.join("jps2015.py"))
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("run jps2015.py");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_to_string(dir.join("manifest.jsonl"))
        .expect("manifest")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            dir.join(v["file"].as_str().expect("file"))
        })
        .collect()
}

fn scan(db: &Path, dir: &Path, files: &[PathBuf]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_spearguard"))
        .env_remove("SPEARGUARD_CONFIG")
        .arg("scan")
        .arg("--state")
        .arg(db)
        .arg("--directory")
        .arg(dir.join("directory.csv"))
        .arg("--json")
        .args(files)
        .output()
        .expect("spearguard scan");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON result"))
        .collect()
}

#[test]
fn replays_of_the_attack_pass_the_scenario_check() {
    let Some(scen) = scenarios() else { return };
    for args in [
        &[
            "--seed",
            "21",
            "--staff",
            "150",
            "--wave2",
            "30",
            "--history-days",
            "5",
        ][..],
        &[
            "--seed",
            "22",
            "--staff",
            "150",
            "--wave2",
            "30",
            "--history-days",
            "5",
            "--attacker",
            "office@shiryou-center.jp",
            "--domain",
            "kikou.or.jp",
            "--zip-share",
            "0",
        ][..],
    ] {
        let tmp = tempfile::tempdir().expect("temp dir");
        generate(&scen, tmp.path(), args);
        let out = Command::new("python3")
            .arg(scen.join("replay-check.py"))
            .arg(env!("CARGO_BIN_EXE_spearguard"))
            .arg(tmp.path())
            .output()
            .expect("replay-check.py");
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}: {report}");
        assert!(report.contains("benign stopped 0/"), "{report}");
    }
}

#[test]
fn state_kept_between_runs_gives_the_verdicts_of_one_run() {
    let Some(scen) = scenarios() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("replay");
    generate(
        &scen,
        &dir,
        &[
            "--seed",
            "23",
            "--staff",
            "120",
            "--wave2",
            "20",
            "--history-days",
            "4",
        ],
    );
    let files = manifest_files(&dir);
    let one = scan(&tmp.path().join("one.db"), &dir, &files);
    let split = files.len() * 2 / 3;
    let db = tmp.path().join("two.db");
    let mut two = scan(&db, &dir, &files[..split]);
    two.extend(scan(&db, &dir, &files[split..]));
    assert_eq!(one.len(), files.len());
    let verdicts = |r: &[serde_json::Value]| -> Vec<(String, String)> {
        r.iter()
            .map(|v| (v["verdict"].to_string(), v["campaign"].to_string()))
            .collect()
    };
    assert_eq!(verdicts(&one), verdicts(&two));
    assert!(
        one.iter().any(|v| !v["campaign"].is_null()),
        "the wave forms a campaign"
    );
}
