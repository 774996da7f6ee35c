//! The crash test's verdict: what the Maildirs and the quarantine hold, checked against
//! what every client was told.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::common::files_in;
use super::{MAILBOXES, Outcome, Sent};

/// The message numbers found in each file of `dir` (one per file, or the test fails).
fn tokens_in(dir: &Path) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for file in files_in(dir) {
        let bytes = std::fs::read(&file).expect("read message file");
        let text = String::from_utf8_lossy(&bytes);
        let ids: BTreeSet<usize> = text
            .match_indices("sgcrash")
            .filter_map(|(at, _)| text.get(at + 7..at + 12)?.parse().ok())
            .collect();
        assert_eq!(ids.len(), 1, "{} holds {ids:?}", file.display());
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        found.extend(ids.into_iter().map(|i| (i, name.clone())));
    }
    found
}

/// Checks every message against what the Maildirs and the quarantine hold.
pub(super) fn verify(data: &Path, sent: &BTreeMap<usize, Sent>, kills: usize, seed: u64) {
    let mut delivered: BTreeMap<(usize, &str), Vec<String>> = BTreeMap::new();
    for rcpt in MAILBOXES {
        let mailbox = data.join("mailboxes").join(rcpt);
        for sub in ["new", "cur"] {
            for (i, name) in tokens_in(&mailbox.join(sub)) {
                delivered.entry((i, rcpt)).or_default().push(name);
            }
        }
    }
    let mut held: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, name) in tokens_in(&data.join("spool/quarantine")) {
        held.entry(i).or_default().push(name);
    }
    let duplicates: Vec<_> = delivered.iter().filter(|(_, f)| f.len() > 1).collect();
    assert!(
        duplicates.is_empty(),
        "seed {seed}: delivered twice: {duplicates:?}"
    );
    let held_twice: Vec<_> = held.iter().filter(|(_, f)| f.len() > 1).collect();
    assert!(
        held_twice.is_empty(),
        "seed {seed}: quarantined twice: {held_twice:?}"
    );
    for (i, rcpt) in delivered.keys() {
        let m = &sent[i];
        assert!(
            m.rcpts.contains(rcpt),
            "seed {seed}: #{i} reached {rcpt}, not a recipient"
        );
    }
    let (mut acked, mut in_mailboxes, mut in_quarantine, mut unacked_stored) = (0, 0, 0, 0);
    for (i, m) in sent {
        let files: Vec<_> = m
            .rcpts
            .iter()
            .filter_map(|r| delivered.get(&(*i, *r)))
            .collect();
        let quarantined = held.get(i);
        let all = files.len() == m.rcpts.len();
        assert!(
            files.is_empty() || all,
            "seed {seed}: #{i} half-delivered: {files:?} of {:?} ({:?})",
            m.rcpts,
            m.outcome
        );
        assert!(
            files.is_empty() || quarantined.is_none(),
            "seed {seed}: #{i} both delivered and quarantined"
        );
        match &m.outcome {
            Outcome::Acked(id) => {
                acked += 1;
                if m.phish {
                    assert_eq!(
                        quarantined,
                        Some(&vec![id.clone()]),
                        "seed {seed}: lure #{i}"
                    );
                    in_quarantine += 1;
                } else {
                    assert!(all, "seed {seed}: #{i} acked as {id} but lost: {files:?}");
                    let want = format!("{id}.spearguard");
                    assert!(
                        files.iter().all(|f| f[0].starts_with(&want)),
                        "#{i}: {files:?}"
                    );
                    in_mailboxes += 1;
                }
            }
            Outcome::Refused(_) | Outcome::Cut { after_dot: false } => assert!(
                files.is_empty() && quarantined.is_none(),
                "seed {seed}: #{i} stored without the whole message: {:?}",
                m.outcome
            ),
            Outcome::Cut { after_dot: true } => {
                unacked_stored += usize::from(!files.is_empty() || quarantined.is_some());
            }
        }
    }
    let cut = sent
        .values()
        .filter(|m| matches!(m.outcome, Outcome::Cut { .. }))
        .count();
    eprintln!(
        "crash test: seed {seed}: {} messages, {acked} got 250, {cut} cut by a kill \
         ({unacked_stored} of them stored anyway), {kills} kills; {in_mailboxes} delivered, \
         {in_quarantine} quarantined, 0 duplicates",
        sent.len()
    );
    assert!(
        files_in(&data.join("spool/corrupt")).is_empty(),
        "corrupt spool files"
    );
    // The quarantine as the CLI sees it (serve is stopped, so it can take the spool lock).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spearguard"))
        .args(["quarantine", "list", "--json", "--data-dir"])
        .arg(data)
        .env_remove("SPEARGUARD_CONFIG")
        .output()
        .expect("run quarantine list");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line")["id"].to_string())
        .map(|id| id.trim_matches('"').to_string())
        .collect();
    let files: BTreeSet<String> = held.values().flatten().cloned().collect();
    assert_eq!(listed, files, "quarantine list --json");
    assert!(
        acked >= sent.len() / 2,
        "seed {seed}: too few 250s to prove anything"
    );
    assert!(
        in_quarantine > 0 && in_mailboxes > 0,
        "seed {seed}: both paths exercised"
    );
}
