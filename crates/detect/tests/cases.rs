//! Runs `tests/cases/<analyser-id>.cases`: each case feeds one message to one analyser alone
//! and compares the EXACT set of signals that fired (so a new false positive fails too).
//!
//! Format: cases start with `=== title`; directive lines follow until `---`, then the raw
//! message until the next `===`. Directives:
//! - `expect: NAME NAME key=value …` — exact set of signal names; `key=value` right after a
//!   name asserts that fact on it. Empty = nothing fires.
//! - `received-at: 2026-03-10T12:00:00Z` (or Unix seconds) — default: the Date header.
//! - `mail-from: a@b`, `rcpt-to: x@y, z@w`, `peer-ip: 192.0.2.1`, `helo: name`,
//!   `direction: outbound`
//! - `org-domains: example.org, example.net`, `protected: PayPal, Example Bank`,
//!   `staff: Taro Yamada, Hanako Sato`
//! - `config: key = value` — TOML for this analyser's `[analysers.<id>]` section, for
//!   behaviour the default config does not switch on (e.g. `trusted_authserv_ids = ["mx.example.org"]`)

use std::collections::BTreeMap;
use std::path::Path;

use sg_detect::analysers::{self, AnalysersConfig, BuildOptions};
use sg_detect::{Context, Organisation, OrganisationConfig};
use sg_message::{Direction, Envelope, Limits, Message};

struct Case {
    title: String,
    directives: BTreeMap<String, String>,
    raw: String,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for chunk in text.split("\n=== ").skip(1) {
        let (title, rest) = chunk.split_once('\n').unwrap_or((chunk, ""));
        let (head, raw) = rest
            .split_once("\n---\n")
            .or_else(|| rest.strip_prefix("---\n").map(|r| ("", r)))
            .unwrap_or_else(|| panic!("case {title:?} has no --- line"));
        let mut directives = BTreeMap::new();
        for line in head
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (k, v) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("bad directive {line:?} in {title:?}"));
            directives.insert(k.trim().to_string(), v.trim().to_string());
        }
        cases.push(Case {
            title: title.trim().to_string(),
            directives,
            raw: raw.to_string(),
        });
    }
    cases
}

fn parse_time(s: &str) -> i64 {
    if let Ok(n) = s.parse::<i64>() {
        return n;
    }
    // Parse YYYY-MM-DDTHH:MM:SSZ by hand (days from civil).
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| {
        s[r].parse::<i64>()
            .unwrap_or_else(|_| panic!("bad time {s}"))
    };
    assert!(b.len() >= 19, "bad time {s}");
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let (hh, mm, ss) = (num(11..13), num(14..16), num(17..19));
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    days * 86400 + hh * 3600 + mm * 60 + ss
}

fn list(v: Option<&String>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// Expected signals: name → required facts.
fn expected(spec: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut last: Option<String> = None;
    for tok in spec.split_whitespace() {
        if let Some((k, v)) = tok.split_once('=') {
            let name = last
                .clone()
                .unwrap_or_else(|| panic!("fact {tok} before any signal"));
            out.entry(name)
                .or_default()
                .push((k.to_string(), v.to_string()));
        } else {
            out.entry(tok.to_string()).or_default();
            last = Some(tok.to_string());
        }
    }
    out
}

fn run_file(path: &Path) -> Vec<String> {
    let id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("utf-8 file name");
    let text = std::fs::read_to_string(path).expect("read cases file");
    let all = analysers::build(&AnalysersConfig::default(), &BuildOptions::default())
        .expect("default analysers build");
    let analyser = all
        .iter()
        .find(|a| a.id() == id)
        .unwrap_or_else(|| panic!("no analyser {id}"));
    let cases = parse_cases(&format!("\n{text}"));
    assert!(!cases.is_empty(), "{id}.cases has no cases");
    let mut failures = Vec::new();
    let mut fired_any = false;
    let mut quiet_any = false;
    for case in cases {
        let raw = case.raw.replace('\n', "\r\n");
        let msg = Message::parse(raw.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("{id}: {}: parse error {e}", case.title));
        let d = &case.directives;
        let envelope = Envelope {
            peer_ip: d.get("peer-ip").map(|s| s.parse().expect("peer-ip")),
            helo: d.get("helo").cloned(),
            mail_from: d.get("mail-from").cloned(),
            rcpt_to: list(d.get("rcpt-to")),
        };
        let org = Organisation::from_config(&OrganisationConfig {
            domains: list(d.get("org-domains")),
            protected_names: list(d.get("protected")),
            ..OrganisationConfig::default()
        })
        .with_staff_names(list(d.get("staff")));
        let received_at = d
            .get("received-at")
            .map(|s| parse_time(s))
            .or(msg.date.map(|t| t + 60))
            .unwrap_or(1_700_000_000);
        let direction = match d.get("direction").map(String::as_str) {
            Some("outbound") => Direction::Outbound,
            _ => Direction::Inbound,
        };
        let cx = Context {
            envelope: &envelope,
            direction,
            received_at,
            org: &org,
            cross: None,
        };
        let configured;
        let analyser = match d.get("config") {
            None => analyser,
            Some(section) => {
                let cfg: AnalysersConfig = toml::from_str(&format!("[{id}]\n{section}"))
                    .unwrap_or_else(|e| panic!("{id}: {}: bad config: {e}", case.title));
                configured = analysers::build(&cfg, &BuildOptions::default())
                    .unwrap_or_else(|e| panic!("{id}: {}: config errors {e:?}", case.title));
                configured
                    .iter()
                    .find(|a| a.id() == id)
                    .unwrap_or_else(|| panic!("{id}: {}: analyser disabled", case.title))
            }
        };
        let got = match analyser.analyse(&msg, &cx) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{id}: {}: analyser error {e}", case.title));
                continue;
            }
        };
        let want = expected(d.get("expect").map(String::as_str).unwrap_or(""));
        if want.is_empty() {
            quiet_any = true
        } else {
            fired_any = true
        }
        let got_names: std::collections::BTreeSet<&str> = got.iter().map(|s| s.def.name).collect();
        let want_names: std::collections::BTreeSet<&str> =
            want.keys().map(String::as_str).collect();
        if got_names != want_names {
            let detail: Vec<String> = got
                .iter()
                .map(|s| format!("{} ({})", s.def.name, s.evidence.summary))
                .collect();
            failures.push(format!(
                "{id}: {}:\n    expected {:?}\n    got      {:?}\n    evidence {:#?}",
                case.title, want_names, got_names, detail
            ));
            continue;
        }
        for (name, facts) in &want {
            for (k, v) in facts {
                let ok = got
                    .iter()
                    .filter(|s| s.def.name == name)
                    .any(|s| s.evidence.facts.iter().any(|(fk, fv)| fk == k && fv == v));
                if !ok {
                    failures.push(format!("{id}: {}: {name} lacks fact {k}={v}", case.title));
                }
            }
        }
        for s in &got {
            assert!(
                !s.evidence.summary.is_empty(),
                "{id}: {}: {} has no evidence",
                case.title,
                s.def.name
            );
        }
    }
    if !fired_any {
        failures.push(format!("{id}.cases has no case where a signal fires"));
    }
    if !quiet_any {
        failures.push(format!("{id}.cases has no case where nothing fires"));
    }
    failures
}

/// Analysers whose behaviour depends on trained data rather than on one message; they are
/// covered by their own tests (the classifier's unit tests and `spearguard` CLI tests).
const NO_CASES: &[&str] = &["classifier", "behaviour"];

#[test]
fn every_analyser_passes_its_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let all = analysers::build(&AnalysersConfig::default(), &BuildOptions::default())
        .expect("default analysers build");
    let mut failures = Vec::new();
    for a in all.iter().filter(|a| !NO_CASES.contains(&a.id())) {
        let path = dir.join(format!("{}.cases", a.id()));
        if !path.exists() {
            failures.push(format!(
                "analyser {} has no tests/cases/{}.cases",
                a.id(),
                a.id()
            ));
            continue;
        }
        failures.extend(run_file(&path));
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// Runs one analyser's cases (set CASES=<id> to focus while developing).
#[test]
fn focused_cases() {
    let Ok(id) = std::env::var("CASES") else {
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/cases/{id}.cases"));
    let failures = run_file(&path);
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}
