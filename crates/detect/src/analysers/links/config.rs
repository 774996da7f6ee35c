//! `[analysers.links]`: the knobs, their defaults, and building the analyser from them.

use serde::{Deserialize, Serialize};

use super::{FileRules, HostPatterns, LinksAnalyser, Protected};
use crate::engine::ConfigError;
use crate::lists::DomainList;

const SHORTENERS: &str = include_str!("../../../../../data/lists/shorteners.txt");
const FREE_HOSTING: &str = include_str!("../../../../../data/lists/free_hosting.txt");
const SUSPICIOUS_TLDS: &str = include_str!("../../../../../data/lists/suspicious_tlds.txt");

/// `[analysers.links]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Whether the analyser runs.
    pub enabled: bool,
    /// URL shortener list file; empty = the shipped `data/lists/shorteners.txt`.
    pub shorteners: String,
    /// Free hosting / storage / form service list file (host patterns, see `hosts.rs`);
    /// empty = the shipped `data/lists/free_hosting.txt`.
    pub free_hosting: String,
    /// Abused top-level domain list file, one TLD per line;
    /// empty = the shipped `data/lists/suspicious_tlds.txt`.
    pub suspicious_tlds: String,
    /// Commonly imitated brands (Latin letters and digits are compared; at least three), checked
    /// against link hosts together with `[organisation] protected_names` and `domains`.
    pub brands: Vec<String>,
    /// File name extensions of programs, scripts, shortcuts and disk images (without the dot).
    pub executable_extensions: Vec<String>,
    /// File name extensions of archives (without the dot).
    pub archive_extensions: Vec<String>,
    /// Extensions that are also top-level domains: a name ending in one counts as a file only
    /// when it cannot be a host name (`fix_tool.com`, `invoice.pdf.com`; not `example.com`).
    pub ambiguous_extensions: Vec<String>,
    /// Extensions of server-side handlers: `/x.dll?query` runs on the server (IIS ISAPI),
    /// so it counts as a download only without a query string.
    pub handler_extensions: Vec<String>,
    /// Extensions of documents and web pages: link text ending in one ("report.pdf") is a
    /// file name, not a host name, and they mark double extensions ("invoice.pdf.com").
    pub document_extensions: Vec<String>,
    /// `LINK_UNRELATED_DOMAIN` fires only when the clickable links reach at most this many
    /// registrable domains (newsletters link to many; phishing to one or two); 0 turns it off.
    pub unrelated_max_domains: usize,
}

fn strings(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            shorteners: String::new(),
            free_hosting: String::new(),
            suspicious_tlds: String::new(),
            brands: strings(
                "paypal apple icloud microsoft office365 outlook onedrive amazon google gmail \
                 netflix facebook instagram whatsapp linkedin docusign dropbox adobe dhl fedex \
                 coinbase binance metamask americanexpress wellsfargo chase visa mastercard \
                 docomo rakuten mufg smbc mizuho resona japanpost jpbank sagawa kuronekoyamato \
                 nenkin aeon jcb saisoncard mercari softbank paypay yahoo nhk nta amex tepco",
            ),
            executable_extensions: strings(
                "exe scr com pif cpl msi msp msix appx appxbundle appinstaller dll js jse vbs \
                 vbe wsf wsh hta ps1 psm1 bat cmd jar lnk url scf reg chm iso img vhd vhdx \
                 apk dmg",
            ),
            archive_extensions: strings("zip rar 7z lzh lha cab gz tgz ace arj xz bz2 tar z uue"),
            ambiguous_extensions: strings("com"),
            handler_extensions: strings("dll"),
            document_extensions: strings(
                "pdf doc docx xls xlsx ppt pptx rtf txt csv htm html shtml php asp aspx jsp cgi \
                 jpg jpeg png gif bmp svg mp3 mp4 wav avi css xml json",
            ),
            unrelated_max_domains: 2,
        }
    }
}

/// Builds the analyser from its config; `None` when disabled.
pub(crate) fn build(cfg: &Config) -> crate::analysers::Built {
    if !cfg.enabled {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let mut list = |key: &str, path: &str, builtin: &str| match DomainList::load(path, builtin) {
        Ok(l) => l,
        Err(e) => {
            errors.push(ConfigError::new(
                format!("analysers.links.{key}"),
                format!("{e}: {}", e.source),
            ));
            DomainList::default()
        }
    };
    let shorteners = list("shorteners", &cfg.shorteners, SHORTENERS);
    let suspicious_tlds = list("suspicious_tlds", &cfg.suspicious_tlds, SUSPICIOUS_TLDS);
    let free_hosting = match HostPatterns::load(&cfg.free_hosting, FREE_HOSTING) {
        Ok(p) => p,
        Err(message) => {
            errors.push(ConfigError::new("analysers.links.free_hosting", message));
            HostPatterns::default()
        }
    };
    let files = match FileRules::new(cfg) {
        Ok(f) => f,
        Err(e) => {
            errors.extend(e);
            FileRules::default()
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(Box::new(LinksAnalyser {
        shorteners,
        free_hosting,
        suspicious_tlds,
        protected: Protected::new(&cfg.brands),
        files,
        unrelated_max_domains: cfg.unrelated_max_domains,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_builds() {
        assert!(build(&Config::default()).is_ok());
    }

    #[test]
    fn unreadable_list_is_a_config_error_with_its_key() {
        let cfg = Config {
            shorteners: "/nonexistent/shorteners.txt".into(),
            free_hosting: "/nonexistent/hosting.txt".into(),
            ..Config::default()
        };
        let Err(errors) = build(&cfg) else {
            panic!("expected errors")
        };
        let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            ["analysers.links.shorteners", "analysers.links.free_hosting"]
        );
    }
}
