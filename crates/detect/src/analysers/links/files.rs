//! Which file a link downloads: the last path segment, or a file name passed in the query
//! (`download.php?f=setup.exe`, `?u=https://cdn.example/a.zip`), judged by its extension.

use std::collections::HashSet;

use sg_message::Link;

use super::Config;
use crate::engine::ConfigError;

/// What kind of file a link downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    /// A program, script, shortcut or disk image.
    Executable,
    /// An archive.
    Archive,
}

/// Extension sets from config, lowercase and without dots.
#[derive(Debug, Default)]
pub(super) struct FileRules {
    executable: HashSet<String>,
    archive: HashSet<String>,
    ambiguous: HashSet<String>,
    handler: HashSet<String>,
    document: HashSet<String>,
}

/// The longest extension considered.
const MAX_EXT: usize = 16;

impl FileRules {
    /// Validates and normalises the extension lists.
    pub(super) fn new(cfg: &Config) -> Result<FileRules, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut set = |key: &str, list: &[String]| -> HashSet<String> {
            let mut out = HashSet::new();
            for raw in list {
                let ext = raw.trim().trim_start_matches('.').to_ascii_lowercase();
                if ext.is_empty()
                    || ext.len() > MAX_EXT
                    || !ext.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    errors.push(ConfigError::new(
                        format!("analysers.links.{key}"),
                        format!("{raw:?} is not a file extension (letters and digits, at most {MAX_EXT})"),
                    ));
                } else {
                    out.insert(ext);
                }
            }
            out
        };
        let rules = FileRules {
            executable: set("executable_extensions", &cfg.executable_extensions),
            archive: set("archive_extensions", &cfg.archive_extensions),
            ambiguous: set("ambiguous_extensions", &cfg.ambiguous_extensions),
            handler: set("handler_extensions", &cfg.handler_extensions),
            document: set("document_extensions", &cfg.document_extensions),
        };
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors)
        }
    }

    /// Whether `ext` (any case) names a kind of file we know: program, archive or document.
    pub(super) fn is_file_extension(&self, ext: &str) -> bool {
        let mut buf = [0u8; MAX_EXT];
        let Some(ext) = lower(ext, &mut buf) else {
            return false;
        };
        self.executable.contains(ext) || self.archive.contains(ext) || self.document.contains(ext)
    }

    /// The most dangerous file the link downloads, with its name.
    pub(super) fn find<'a>(&self, link: &'a Link) -> Option<(FileKind, &'a str)> {
        if !(link.is_web() || link.scheme == "ftp" || link.scheme == "file") {
            return None;
        }
        let in_path = link.path.rsplit('/').next().unwrap_or_default();
        let path_hit = self
            .classify(in_path, !link.query.is_empty())
            .map(|k| (k, in_path));
        if let Some((FileKind::Executable, _)) = path_hit {
            return path_hit;
        }
        let mut best = path_hit;
        for value in query_file_names(&link.query) {
            match self.classify(value, false) {
                Some(FileKind::Executable) => return Some((FileKind::Executable, value)),
                Some(FileKind::Archive) if best.is_none() => {
                    best = Some((FileKind::Archive, value))
                }
                _ => {}
            }
        }
        best
    }

    /// The kind of file `name` is. `handler_position`: a path segment followed by a query,
    /// where `x.dll` is a server-side handler rather than a download.
    fn classify(&self, name: &str, handler_position: bool) -> Option<FileKind> {
        let name = name.trim();
        if name.contains('@')
            || name
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("www."))
        {
            return None;
        }
        let (stem, ext) = name.rsplit_once('.')?;
        if stem.is_empty() {
            return None;
        }
        let mut buf = [0u8; MAX_EXT];
        let ext = lower(ext, &mut buf)?;
        let kind = if self.executable.contains(ext) {
            FileKind::Executable
        } else if self.archive.contains(ext) {
            FileKind::Archive
        } else {
            return None;
        };
        if handler_position && self.handler.contains(ext) {
            return None;
        }
        if self.ambiguous.contains(ext) && self.could_be_host(stem) {
            return None;
        }
        Some(kind)
    }

    /// Whether `stem.ext` could just as well be a host name ("example" + ".com"): host
    /// characters only and no inner file extension ("invoice.pdf" + ".com" is a file).
    fn could_be_host(&self, stem: &str) -> bool {
        stem.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !stem
                .rsplit_once('.')
                .is_some_and(|(_, inner)| self.is_file_extension(inner))
    }
}

/// Lowercases a short ASCII extension into `buf`; `None` when it cannot be one.
fn lower<'b>(ext: &str, buf: &'b mut [u8; MAX_EXT]) -> Option<&'b str> {
    let bytes = ext.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_EXT || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let out = buf.get_mut(..bytes.len())?;
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b.to_ascii_lowercase();
    }
    std::str::from_utf8(out).ok()
}

/// The file name each query parameter value ends in: the value up to any embedded `?`/`#`,
/// then its last `/` or `\` segment.
fn query_file_names(query: &str) -> impl Iterator<Item = &str> {
    query.split(['&', ';']).filter(|p| !p.is_empty()).map(|p| {
        let value = p.split_once('=').map_or(p, |(_, v)| v);
        let value = value.split(['?', '#']).next().unwrap_or_default();
        value.rsplit(['/', '\\']).next().unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sg_message::LinkOrigin;

    fn find(url: &str) -> Option<(FileKind, String)> {
        let rules = FileRules::new(&Config::default()).unwrap();
        let link = Link::parse(url, LinkOrigin::Anchor, 0, None).unwrap();
        rules.find(&link).map(|(k, n)| (k, n.to_string()))
    }

    #[test]
    fn downloads_in_path_and_query_are_found() {
        use FileKind::*;
        assert_eq!(
            find("https://x.example/dl/Setup.EXE"),
            Some((Executable, "Setup.EXE".into()))
        );
        assert_eq!(
            find("https://x.example/download.php?f=a.scr"),
            Some((Executable, "a.scr".into()))
        );
        assert_eq!(
            find("https://x.example/r?u=https%3A%2F%2Fcdn.example%2Fa.zip"),
            Some((Archive, "a.zip".into()))
        );
        assert_eq!(
            find("https://x.example/a.zip?x=b.lnk"),
            Some((Executable, "b.lnk".into()))
        );
        assert_eq!(
            find("https://x.example/fix_tool.com"),
            Some((Executable, "fix_tool.com".into()))
        );
        assert_eq!(
            find("https://x.example/invoice.pdf.com"),
            Some((Executable, "invoice.pdf.com".into()))
        );
    }

    #[test]
    fn hosts_addresses_and_handlers_are_not_downloads() {
        for url in [
            "https://x.example/",
            "https://x.example/page.html",
            "https://x.example/go/www.example.com",
            "https://x.example/r?to=example.com",
            "https://x.example/u?email=someone@example.com",
            "https://x.example/scripts/eBayISAPI.dll?ViewItem&item=1",
            "https://x.example/.zip",
            "mailto:a@example.com?subject=a.exe",
        ] {
            assert_eq!(find(url), None, "{url}");
        }
    }

    #[test]
    fn bad_extension_in_config_is_reported() {
        let cfg = Config {
            archive_extensions: vec!["zip".into(), "t ar".into()],
            ..Config::default()
        };
        let errors = FileRules::new(&cfg).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].key, "analysers.links.archive_extensions");
    }
}
