//! Host patterns with optional path prefixes, for services where only some hosts or paths
//! hold user content (`docs.google.com/forms/`, `bucket.s3.<region>.amazonaws.com`).
//!
//! Format: one entry per line, `#` comments. `host` matches that host; a leading `.` (or
//! `*.`) also matches every host under it; a `*` label matches any one label (not in the
//! last two labels, which index the list); `host/path` matches only paths starting `/path`.

use std::collections::HashMap;

/// A loaded pattern list, indexed by the last two labels of each pattern.
#[derive(Debug, Default)]
pub(super) struct HostPatterns {
    by_tail: HashMap<String, Vec<Pattern>>,
}

#[derive(Debug)]
struct Pattern {
    /// Labels from the right, `*` = any one label.
    labels: Vec<String>,
    /// Whether hosts below the pattern match too.
    subdomains: bool,
    /// Required path prefix (`/forms/`).
    path: Option<String>,
}

/// The last two labels of a host ("amazonaws.com"), or `None` for a single label.
fn tail(host: &str) -> Option<&str> {
    let last_dot = host.rfind('.')?;
    Some(
        host.get(..last_dot)
            .and_then(|h| h.rfind('.'))
            .map_or(host, |i| &host[i + 1..]),
    )
}

impl HostPatterns {
    /// Parses list text; the error names the first bad line.
    pub(super) fn parse(text: &str) -> Result<HostPatterns, String> {
        let mut list = HostPatterns::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let lower = line.to_ascii_lowercase();
            let (host, path) = match lower.find('/') {
                Some(i) => (&lower[..i], Some(lower[i..].to_string())),
                None => (lower.as_str(), None),
            };
            let (host, subdomains) =
                match host.strip_prefix("*.").or_else(|| host.strip_prefix('.')) {
                    Some(rest) => (rest, true),
                    None => (host, false),
                };
            let labels: Vec<String> = host.rsplit('.').map(str::to_string).collect();
            let bad = labels.len() < 2
                || labels.iter().any(|l| l.is_empty())
                || labels.iter().take(2).any(|l| l == "*");
            let Some(key) = tail(host).filter(|_| !bad) else {
                return Err(format!(
                    "line {}: {line:?} is not a host pattern (two fixed labels at the end)",
                    n + 1
                ));
            };
            list.by_tail
                .entry(key.to_string())
                .or_default()
                .push(Pattern {
                    labels,
                    subdomains,
                    path,
                });
        }
        Ok(list)
    }

    /// Loads the list from `path`, or parses `builtin` when `path` is empty.
    pub(super) fn load(path: &str, builtin: &str) -> Result<HostPatterns, String> {
        if path.is_empty() {
            return HostPatterns::parse(builtin);
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read list {path}: {e}"))?;
        HostPatterns::parse(&text).map_err(|e| format!("{path}: {e}"))
    }

    /// Whether the lowercase ASCII `host` with URL `path` matches an entry.
    pub(super) fn matches(&self, host: &str, path: &str) -> bool {
        let Some(candidates) = tail(host).and_then(|t| self.by_tail.get(t)) else {
            return false;
        };
        candidates.iter().any(|p| {
            let mut host_labels = host.rsplit('.');
            let labels_match = p.labels.iter().all(|want| {
                host_labels
                    .next()
                    .is_some_and(|got| want == "*" || want == got)
            });
            labels_match
                && (p.subdomains || host_labels.next().is_none())
                && p.path
                    .as_deref()
                    .is_none_or(|prefix| path.starts_with(prefix))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_hosts_subdomains_wildcards_and_paths() {
        let l = HostPatterns::parse(
            "# c\n.web.app\nstorage.googleapis.com\n.s3.*.amazonaws.com\ndocs.google.com/forms/\n",
        )
        .unwrap();
        assert!(l.matches("bank-x.web.app", "/"));
        assert!(l.matches("web.app", "/"));
        assert!(l.matches("storage.googleapis.com", "/b/x.html"));
        assert!(!l.matches("a.storage.googleapis.com", "/"));
        assert!(l.matches("bucket.s3.us-east-1.amazonaws.com", "/index.html"));
        assert!(!l.matches("sns.us-west-2.amazonaws.com", "/"));
        assert!(l.matches("docs.google.com", "/forms/d/e/1/viewform"));
        assert!(!l.matches("docs.google.com", "/document/d/1/edit"));
        assert!(!l.matches("example.org", "/"));
        assert!(!l.matches("app", "/"));
    }

    #[test]
    fn wildcard_in_the_indexed_tail_is_rejected() {
        assert!(HostPatterns::parse("x.*.example.com\n").is_ok());
        assert!(HostPatterns::parse("x.*.com\n").is_err());
        let err = HostPatterns::parse("ok.example\n*.*\n").unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
        assert!(HostPatterns::parse("example.*\n").is_err());
        assert!(HostPatterns::parse("localhost\n").is_err());
    }

    #[test]
    fn shipped_list_parses() {
        let text = include_str!("../../../../../data/lists/free_hosting.txt");
        assert!(HostPatterns::parse(text).is_ok());
    }
}
