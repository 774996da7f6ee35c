//! The organisation's staff directory: who works here, under which address, and whether
//! that address is published (website, leaflets) or undisclosed.
//!
//! Pure data: the only I/O is [`load`] reading the one file it is given. Two formats:
//! CSV with the header `address,name,department,published` (RFC 4180 quoting, UTF-8 with or
//! without a BOM, CRLF or LF) and LDIF content records (RFC 2849 subset, see [`LdifOptions`]).
//! A file loads whole or not at all: every bad line is reported with its number (up to
//! [`MAX_PROBLEMS`]), and a duplicate address (ignoring case) names both lines.
//!
//! Three facts about an address are kept apart ([`Listing`]): listed and published, listed
//! and undisclosed (`published=false`: the directory-leak alarm is about these), and not
//! listed at all. An unlisted address is never called undisclosed; whether it is at one of
//! the organisation's [`Directory::domains`] is a separate question the caller can ask.
//!
//! ```
//! use sg_directory::{Directory, Listing};
//!
//! let csv = "address,name,department,published\n\
//!            info@pension.example,info,koho,true\n\
//!            t.yamada@pension.example,Yamada Taro,jinji,false\n";
//! let dir = Directory::parse_csv(csv.as_bytes()).unwrap();
//! assert_eq!(dir.listing("T.Yamada@pension.example"), Listing::Undisclosed);
//! assert_eq!(dir.listing("nobody@pension.example"), Listing::NotListed);
//! assert!(dir.is_published("info@pension.example"));
//! assert_eq!(dir.display_names(), ["Yamada Taro"]);
//! ```

mod builder;
mod csv;
mod error;
mod ldif;
mod value;

use std::collections::{BTreeSet, HashMap};
use std::io::Read as _;
use std::path::Path;

pub use error::{DirectoryError, MAX_PROBLEMS, Problem};
pub use ldif::LdifOptions;
pub use value::{normalise_address, parse_flag};

use builder::Builder;
use error::Problems;

/// Largest directory file [`load`] reads (64 MiB: millions of entries).
pub const MAX_FILE_SIZE: u64 = 64 << 20;

/// One address of the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The mail address, lowercase.
    pub address: String,
    /// Display name ("" when unknown).
    pub name: String,
    /// Department ("" when unknown).
    pub department: String,
    /// Published (`true`) or undisclosed (`false`).
    pub published: bool,
}

/// What the directory says about one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Listed and published.
    Published,
    /// Listed with `published=false`: it should only be known to those it was given to.
    Undisclosed,
    /// Not in the directory.
    NotListed,
}

/// The file formats [`load`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `address,name,department,published`.
    Csv,
    /// LDIF content records.
    Ldif,
}

impl Format {
    /// LDIF for `.ldif`/`.ldf` files, CSV otherwise.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("ldif") || e.eq_ignore_ascii_case("ldf") => {
                Format::Ldif
            }
            _ => Format::Csv,
        }
    }
}

/// The staff directory, indexed by address.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub(crate) entries: Vec<Entry>,
    pub(crate) index: HashMap<String, usize>,
    pub(crate) domains: BTreeSet<String>,
}

/// Reads and parses the directory file at `path` (at most [`MAX_FILE_SIZE`] bytes).
pub fn load(path: &Path, format: Format, ldif: &LdifOptions) -> Result<Directory, DirectoryError> {
    let read_err = |source| DirectoryError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(DirectoryError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_FILE_SIZE,
        });
    }
    Directory::parse(&bytes, format, ldif)
}

impl Directory {
    /// Parses a directory in `format`.
    pub fn parse(
        bytes: &[u8],
        format: Format,
        ldif: &LdifOptions,
    ) -> Result<Directory, DirectoryError> {
        match format {
            Format::Csv => Directory::parse_csv(bytes),
            Format::Ldif => Directory::parse_ldif(bytes, ldif),
        }
    }

    /// Parses CSV with the header `address,name,department,published` (columns in any
    /// order, extra columns ignored).
    pub fn parse_csv(bytes: &[u8]) -> Result<Directory, DirectoryError> {
        csv::parse(bytes)
    }

    /// Parses LDIF content records.
    pub fn parse_ldif(bytes: &[u8], opts: &LdifOptions) -> Result<Directory, DirectoryError> {
        ldif::parse(bytes, opts)
    }

    /// The directory as the store keeps it (rows were validated when imported). Rows that
    /// are no longer valid, and later duplicates, are skipped rather than failing.
    pub fn from_store(rows: &[sg_store::DirectoryEntry]) -> Directory {
        let mut b = Builder::default();
        let mut ignored = Problems::default();
        for (i, r) in rows.iter().enumerate() {
            b.add(
                i + 1,
                &r.address,
                &r.name,
                &r.department,
                Ok(r.published),
                &mut ignored,
            );
        }
        b.dir
    }

    /// The rows to hand to `Store::replace_directory`.
    pub fn to_store(&self) -> Vec<sg_store::DirectoryEntry> {
        self.entries
            .iter()
            .map(|e| sg_store::DirectoryEntry {
                address: e.address.clone(),
                name: e.name.clone(),
                department: e.department.clone(),
                published: e.published,
            })
            .collect()
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of published entries.
    pub fn published_count(&self) -> usize {
        self.entries.iter().filter(|e| e.published).count()
    }

    /// Number of undisclosed entries.
    pub fn undisclosed_count(&self) -> usize {
        self.len() - self.published_count()
    }

    /// The entry for `address` (any case, surrounding spaces and `<>` ignored).
    pub fn entry(&self, address: &str) -> Option<&Entry> {
        let a = address.trim().trim_start_matches('<').trim_end_matches('>');
        let key = normalise_address(a).ok()?;
        self.index.get(&key).and_then(|&i| self.entries.get(i))
    }

    /// Whether `address` is listed (published or not).
    pub fn is_staff(&self, address: &str) -> bool {
        self.entry(address).is_some()
    }

    /// Published, undisclosed or not listed.
    pub fn listing(&self, address: &str) -> Listing {
        match self.entry(address) {
            Some(e) if e.published => Listing::Published,
            Some(_) => Listing::Undisclosed,
            None => Listing::NotListed,
        }
    }

    /// Whether `address` is listed as published. An unlisted address is not known to be
    /// published, so this is `false` for it; see [`Directory::listing`] to tell the cases apart.
    pub fn is_published(&self, address: &str) -> bool {
        self.listing(address) == Listing::Published
    }

    /// Whether `address` is listed with `published=false` (never true for unlisted ones).
    pub fn is_undisclosed(&self, address: &str) -> bool {
        self.listing(address) == Listing::Undisclosed
    }

    /// The domains of the entries, lowercase, sorted.
    pub fn domains(&self) -> &BTreeSet<String> {
        &self.domains
    }

    /// People's display names, in file order without repeats: empty names and role
    /// mailboxes named after their own local part (`info@…` called "info") are left out,
    /// since an outsider writing "info" is not imitating a colleague.
    pub fn display_names(&self) -> Vec<String> {
        let squash = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '_'))
                .flat_map(char::to_lowercase)
                .collect()
        };
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for e in &self.entries {
            let local = e.address.rsplit_once('@').map_or("", |(l, _)| l);
            let key = squash(&e.name);
            if key.is_empty() || key == squash(local) || !seen.insert(key) {
                continue;
            }
            out.push(e.name.clone());
        }
        out
    }
}
