//! Domain lists (free mail, URL shorteners, …) loaded from files, never compiled into code.
//!
//! Format: one domain per line, `#` comments. A leading dot (`.example.com`) or `*.` matches
//! every subdomain as well as the domain itself. The copies shipped in `data/lists/` are the
//! defaults; a config key pointing at another file replaces them.

use std::collections::HashSet;
use std::path::Path;

/// A set of domains with exact and subdomain-wildcard entries.
#[derive(Debug, Clone, Default)]
pub struct DomainList {
    exact: HashSet<String>,
    wildcard: HashSet<String>,
}

/// A list file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read list {path}")]
pub struct ListError {
    /// The path that failed.
    pub path: String,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl DomainList {
    /// Parses list text.
    pub fn parse(text: &str) -> DomainList {
        let mut list = DomainList::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix("*.").or_else(|| lower.strip_prefix('.')) {
                list.wildcard.insert(rest.to_string());
            } else {
                list.exact.insert(lower);
            }
        }
        list
    }

    /// Loads a list from `path`, or parses `builtin` when `path` is empty.
    pub fn load(path: &str, builtin: &str) -> Result<DomainList, ListError> {
        if path.is_empty() {
            return Ok(DomainList::parse(builtin));
        }
        std::fs::read_to_string(Path::new(path))
            .map(|t| DomainList::parse(&t))
            .map_err(|source| ListError {
                path: path.to_string(),
                source,
            })
    }

    /// Whether the lowercase ASCII `domain` is listed (exactly, or under a wildcard entry).
    pub fn contains(&self, domain: &str) -> bool {
        if self.exact.contains(domain) {
            return true;
        }
        if self.wildcard.is_empty() {
            return false;
        }
        let mut d = domain;
        loop {
            if self.wildcard.contains(d) {
                return true;
            }
            match d.split_once('.') {
                Some((_, rest)) if rest.contains('.') || !rest.is_empty() => d = rest,
                _ => return false,
            }
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.exact.len() + self.wildcard.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcard_entries() {
        let l = DomainList::parse("# c\nbit.ly\n.t.co # any\n*.x.example\n");
        assert!(l.contains("bit.ly"));
        assert!(!l.contains("a.bit.ly"));
        assert!(l.contains("t.co"));
        assert!(l.contains("go.t.co"));
        assert!(l.contains("a.b.x.example"));
        assert!(!l.contains("co"));
        assert_eq!(l.len(), 3);
    }
}
