//! Builds a directory entry by entry: checks each one, records problems and duplicates.

use crate::error::Problems;
use crate::value::{self, normalise_address};
use crate::{Directory, DirectoryError, Entry};

/// Builds a directory entry by entry, recording problems and duplicates.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    pub(crate) dir: Directory,
    lines: Vec<usize>,
}

impl Builder {
    /// Checks and adds one entry found at `line`.
    pub(crate) fn add(
        &mut self,
        line: usize,
        address: &str,
        name: &str,
        department: &str,
        published: Result<bool, String>,
        problems: &mut Problems,
    ) {
        let parts = (
            normalise_address(address),
            value::text("name", name),
            value::text("department", department),
            published,
        );
        let (address, name, department, published) = match parts {
            (Ok(a), Ok(n), Ok(d), Ok(p)) => (a, n, d, p),
            (a, n, d, p) => {
                for e in [a.err(), n.err(), d.err(), p.err()].into_iter().flatten() {
                    problems.add(line, e);
                }
                return;
            }
        };
        if let Some(&i) = self.dir.index.get(&address) {
            let first = self.lines.get(i).copied().unwrap_or(0);
            problems.add(
                line,
                format!("duplicate address {address} (first at line {first})"),
            );
            return;
        }
        self.dir
            .domains
            .insert(value::domain_of(&address).to_string());
        self.dir
            .index
            .insert(address.clone(), self.dir.entries.len());
        self.dir.entries.push(Entry {
            address,
            name,
            department,
            published,
        });
        self.lines.push(line);
    }

    /// The directory, or every problem found.
    pub(crate) fn finish(self, problems: Problems) -> Result<Directory, DirectoryError> {
        problems.finish(self.dir)
    }
}
