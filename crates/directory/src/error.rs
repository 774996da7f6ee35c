//! What can be wrong with a directory file: every bad line, each with its line number.

use std::fmt;
use std::path::PathBuf;

/// At most this many problems are kept; the rest are only counted.
pub const MAX_PROBLEMS: usize = 50;

/// One bad line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number (for a CSV record spanning lines, its first line).
    pub line: usize,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`crate::MAX_FILE_SIZE`].
    #[error("{path} is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// Lines of the file are invalid; nothing was loaded.
    #[error("{}", problems_text(.problems, *.more))]
    Invalid {
        /// The first [`MAX_PROBLEMS`] problems, in line order.
        problems: Vec<Problem>,
        /// How many more were found but not kept.
        more: usize,
    },
}

fn problems_text(problems: &[Problem], more: usize) -> String {
    let total = problems.len() + more;
    let mut s = format!("{total} invalid line{}:", if total == 1 { "" } else { "s" });
    for p in problems {
        s.push_str("\n  ");
        s.push_str(&p.to_string());
    }
    if more > 0 {
        s.push_str(&format!("\n  … and {more} more"));
    }
    s
}

impl DirectoryError {
    /// The kept problems (empty for read errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            DirectoryError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// Collects problems up to the cap.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    kept: Vec<Problem>,
    more: usize,
}

impl Problems {
    /// Records a problem at `line`.
    pub(crate) fn add(&mut self, line: usize, message: impl Into<String>) {
        if self.kept.len() < MAX_PROBLEMS {
            self.kept.push(Problem {
                line,
                message: message.into(),
            });
        } else {
            self.more += 1;
        }
    }

    /// `Ok(value)` when nothing was recorded.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, DirectoryError> {
        if self.kept.is_empty() {
            return Ok(value);
        }
        self.kept.sort_by_key(|p| p.line);
        Err(DirectoryError::Invalid {
            problems: self.kept,
            more: self.more,
        })
    }
}
