//! Attachments: files that run code, hide what they are, or carry the phishing page itself.
//!
//! Links do most phishing, but the attachments are what compromise a machine. Attackers send
//! executables, scripts and shortcuts under a harmless-looking name (`invoice.pdf.exe`,
//! a right-to-left override that shows `…exe.pdf`), or with the wrong type. They wrap them in
//! archives that filters cannot open, or in password-protected ones with the password in the
//! body, or in disk images that Windows mounts on a double-click. They use macro documents,
//! PDFs with scripts and launch actions, and HTML files that are a complete fake login page
//! or a loader that decodes one. Each attachment is judged by its bytes ([`filetype::sniff`])
//! and by its name as Windows reads it ([`filetype::extension_kind`]). ZIPs (and OOXML
//! documents) are walked recursively under hard limits that are shared by the whole message
//! ([`archive`]), OLE documents are searched for VBA ([`office`]), HTML attachments for forms
//! and loaders ([`html_attachment`]), and PDFs through the facts the message crate computed.
//! Inline images are skipped. Each signal fires at most once per message. It keeps the
//! strongest finding and counts the others (`count`).

pub mod archive;
pub mod filetype;
pub mod html_attachment;
pub mod office;

mod containers;
mod file_checks;

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};
use sg_message::{Attachment, Message};

use self::archive::ArchiveLimits;
use self::filetype::{ExtKind, FileKind};
use crate::analyser::{Analyser, AnalyserError, Context};
use crate::engine::ConfigError;
use crate::lists::DomainList;
use crate::signal::{Group, Location, Signal, SignalDef};

/// A native executable, script, shortcut or disk image, by content or by name.
pub static ATTACHMENT_EXECUTABLE: SignalDef = SignalDef {
    name: "ATTACHMENT_EXECUTABLE",
    score: 6.0,
    group: Group::Attachments,
    description: "Attachment is an executable, script, shortcut or disk image (by content or name)",
};
/// The content's real type contradicts the name or the declared type.
pub static ATTACHMENT_TYPE_MISMATCH: SignalDef = SignalDef {
    name: "ATTACHMENT_TYPE_MISMATCH",
    score: 3.0,
    group: Group::Attachments,
    description: "Attachment's real type (by its bytes) contradicts its name or declared type",
};
/// A harmless extension in front of a dangerous one, or a bidi override in the name.
pub static ATTACHMENT_DOUBLE_EXTENSION: SignalDef = SignalDef {
    name: "ATTACHMENT_DOUBLE_EXTENSION",
    score: 4.0,
    group: Group::Attachments,
    description: "File name hides its real extension (invoice.pdf.exe, or a right-to-left override)",
};
/// Invisible characters woven into a file name.
pub static ATTACHMENT_NAME_OBFUSCATED: SignalDef = SignalDef {
    name: "ATTACHMENT_NAME_OBFUSCATED",
    score: 2.0,
    group: Group::Attachments,
    description: "File name contains invisible characters that break up words for filters",
};
/// An archive holds an executable, script, shortcut or disk image.
pub static ARCHIVE_HOLDS_EXECUTABLE: SignalDef = SignalDef {
    name: "ARCHIVE_HOLDS_EXECUTABLE",
    score: 6.0,
    group: Group::Attachments,
    description: "Archive (at any nesting level) holds an executable, script, shortcut or disk image",
};
/// A password-protected archive.
pub static ARCHIVE_ENCRYPTED: SignalDef = SignalDef {
    name: "ARCHIVE_ENCRYPTED",
    score: 3.0,
    group: Group::Attachments,
    description: "Archive is password-protected, so no filter can look inside (full weight when the body gives the password)",
};
/// A decompression bomb.
pub static ARCHIVE_BOMB: SignalDef = SignalDef {
    name: "ARCHIVE_BOMB",
    score: 4.0,
    group: Group::Attachments,
    description: "Archive is a decompression bomb (extreme ratio, size, nesting or self-reference)",
};
/// An archive or compressed file that could not be looked into.
pub static ARCHIVE_UNINSPECTABLE: SignalDef = SignalDef {
    name: "ARCHIVE_UNINSPECTABLE",
    score: 1.5,
    group: Group::Attachments,
    description: "Archive in a format or state we cannot look inside (RAR, 7z, CAB, gzip, ACE, corrupt, over limits)",
};
/// A document with VBA or Excel 4.0 macros, or a macro-enabled Office extension.
pub static OFFICE_MACRO: SignalDef = SignalDef {
    name: "OFFICE_MACRO",
    score: 4.0,
    group: Group::Attachments,
    description: "Office document carries macros (VBA project, Excel 4.0 sheets, or a macro-enabled extension)",
};
/// An HTML attachment that asks for credentials or posts a form to the web.
pub static HTML_ATTACHMENT_FORM: SignalDef = SignalDef {
    name: "HTML_ATTACHMENT_FORM",
    score: 5.0,
    group: Group::Attachments,
    description: "HTML attachment has a password field or a form that posts to a web host",
};
/// An HTML attachment that decodes a hidden payload or redirects to the web.
pub static HTML_ATTACHMENT_SCRIPT: SignalDef = SignalDef {
    name: "HTML_ATTACHMENT_SCRIPT",
    score: 4.0,
    group: Group::Attachments,
    description: "HTML attachment decodes and runs an obfuscated script, or redirects to a web page",
};
/// A PDF with JavaScript, launch actions, auto-run actions, embedded files or form submission.
pub static PDF_ACTIVE_CONTENT: SignalDef = SignalDef {
    name: "PDF_ACTIVE_CONTENT",
    score: 4.0,
    group: Group::Attachments,
    description: "PDF carries active content: Launch, JavaScript, auto-run action, embedded files, SubmitForm or XFA",
};

static SIGNALS: &[&SignalDef] = &[
    &ATTACHMENT_EXECUTABLE,
    &ATTACHMENT_TYPE_MISMATCH,
    &ATTACHMENT_DOUBLE_EXTENSION,
    &ATTACHMENT_NAME_OBFUSCATED,
    &ARCHIVE_HOLDS_EXECUTABLE,
    &ARCHIVE_ENCRYPTED,
    &ARCHIVE_BOMB,
    &ARCHIVE_UNINSPECTABLE,
    &OFFICE_MACRO,
    &HTML_ATTACHMENT_FORM,
    &HTML_ATTACHMENT_SCRIPT,
    &PDF_ACTIVE_CONTENT,
];

const MIB: u64 = 1024 * 1024;

/// `[analysers.attachments]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Whether the analyser runs.
    pub enabled: bool,
    /// Deepest archive nesting walked (entries of an attached ZIP are at depth 1); deeper
    /// nesting is reported as a bomb.
    pub max_depth: u32,
    /// Most archive entries examined per message, over all archives and nesting levels;
    /// beyond it the archive is reported as uninspectable.
    pub max_entries: u32,
    /// Most bytes decompressed per message, over all archives and nesting levels. A single
    /// archive that needs more is a bomb; a message whose archives together need more has
    /// the rest reported as uninspectable.
    pub max_total_uncompressed: u64,
    /// Most bytes decompressed from any one archive entry; a bigger entry is only sniffed.
    pub max_entry_size: u64,
    /// Largest decompressed/compressed ratio of an entry over 1 MiB before it is a bomb.
    pub max_ratio: u32,
    /// Words that introduce an archive's password in the subject or body. When one is followed
    /// closely by a password-like token with a digit ("password: inv2024", "パスワード：1234"),
    /// `ARCHIVE_ENCRYPTED` gets full weight: an archive whose password travels with it protects
    /// nothing and only blinds filters. Matched ASCII case-insensitively.
    pub password_words: Vec<String>,
    /// File of hosts whose forms are expected in HTML attachments, such as the portal of a
    /// secure-mail service whose envelope page asks for a password (one domain per line,
    /// `.domain` for its subdomains too). Empty: none, every form posting out counts.
    pub trusted_form_hosts: String,
}

impl Default for Config {
    fn default() -> Self {
        let limits = ArchiveLimits::default();
        Config {
            enabled: true,
            max_depth: limits.max_depth,
            max_entries: limits.max_entries,
            max_total_uncompressed: limits.max_total_uncompressed,
            max_entry_size: limits.max_entry_size,
            max_ratio: limits.max_ratio,
            password_words: [
                "password",
                "passwort",
                "passcode",
                "pass code",
                "pwd:",
                "pw:",
                "mot de passe",
                "contraseña",
                "senha",
                "wachtwoord",
                "パスワード",
                "パスコード",
                "暗証番号",
                "密码",
                "密碼",
                "비밀번호",
            ]
            .map(String::from)
            .to_vec(),
            trusted_form_hosts: String::new(),
        }
    }
}

impl Config {
    fn limits(&self) -> ArchiveLimits {
        ArchiveLimits {
            max_depth: self.max_depth,
            max_entries: self.max_entries,
            max_total_uncompressed: self.max_total_uncompressed,
            max_entry_size: self.max_entry_size,
            max_ratio: self.max_ratio,
        }
    }

    fn validate(&self) -> Vec<ConfigError> {
        let key = |k: &str| format!("analysers.attachments.{k}");
        let mut errors = Vec::new();
        let mut at_least = |ok: bool, k: &str, what: &str| {
            if !ok {
                errors.push(ConfigError::new(key(k), format!("must be at least {what}")));
            }
        };
        at_least(self.max_depth >= 1, "max_depth", "1");
        at_least(self.max_entries >= 1, "max_entries", "1");
        at_least(self.max_entry_size >= 1024, "max_entry_size", "1024");
        at_least(
            self.max_total_uncompressed >= self.max_entry_size,
            "max_total_uncompressed",
            "max_entry_size",
        );
        at_least(self.max_ratio >= 2, "max_ratio", "2");
        if self.max_total_uncompressed > 4096 * MIB {
            errors.push(ConfigError::new(
                key("max_total_uncompressed"),
                "must be at most 4 GiB: it bounds the work one message may cost",
            ));
        }
        if let Some(i) = self.password_words.iter().position(|w| w.trim().is_empty()) {
            errors.push(ConfigError::new(
                format!("{}[{i}]", key("password_words")),
                "must not be empty (it would match every message)",
            ));
        }
        errors
    }
}

/// Judges every attachment (see the module documentation).
#[derive(Debug)]
pub struct AttachmentsAnalyser {
    limits: ArchiveLimits,
    password_words: AhoCorasick,
    trusted_form_hosts: DomainList,
}

impl Analyser for AttachmentsAnalyser {
    fn id(&self) -> &'static str {
        "attachments"
    }

    fn signals(&self) -> &'static [&'static SignalDef] {
        SIGNALS
    }

    fn analyse(&self, msg: &Message, _cx: &Context<'_>) -> Result<Vec<Signal>, AnalyserError> {
        let mut found = Findings::default();
        let mut scan = containers::Scan::new(self.limits, || self.password_given(msg));
        for (index, att) in msg.attachments.iter().enumerate() {
            let name = att
                .name
                .as_deref()
                .or_else(|| msg.parts.get(att.part)?.filename.as_deref())
                .unwrap_or_default();
            let kind = filetype::sniff(&att.data);
            if is_inline_image(att, kind) {
                continue;
            }
            let file = File {
                index,
                att,
                name,
                shown: file_checks::shown_name(name),
                kind,
                ext: filetype::extension_kind(name),
            };
            file_checks::check(&file, &self.trusted_form_hosts, &mut found);
            scan.check(&file, &mut found);
        }
        Ok(found.into_signals())
    }
}

impl AttachmentsAnalyser {
    /// Whether the subject or visible text gives a password: a password word followed within
    /// a few characters by a token of 3+ password characters that includes a digit.
    fn password_given(&self, msg: &Message) -> bool {
        [msg.subject.as_str(), msg.text.as_str()]
            .iter()
            .any(|text| {
                self.password_words
                    .find_iter(text)
                    .any(|m| token_follows(text.as_bytes().get(m.end()..).unwrap_or_default()))
            })
    }
}

/// One attachment and what its bytes and name say it is.
struct File<'a> {
    index: usize,
    att: &'a Attachment,
    /// Declared name, or "" without one.
    name: &'a str,
    /// The name made safe for a summary line (controls escaped, length cut).
    shown: String,
    kind: FileKind,
    ext: ExtKind,
}

impl File<'_> {
    fn at(&self, signal: Signal) -> Signal {
        signal.at(Location::Attachment(self.index))
    }

    /// The name's last extension ("exe"), or "none".
    fn ext_text(&self) -> String {
        filetype::last_extension(self.name).unwrap_or_else(|| "none".to_owned())
    }
}

/// How far after a password word the password itself may start, in bytes.
const PASSWORD_GAP: usize = 40;

/// Whether `after` (the text following a password word) soon holds a password-like token.
fn token_follows(after: &[u8]) -> bool {
    let window = after.get(..PASSWORD_GAP).unwrap_or(after);
    let is_pw = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&*+-._@".contains(b);
    window
        .split(|b| !is_pw(b))
        .any(|t| t.len() >= 3 && t.iter().any(u8::is_ascii_digit))
}

/// An inline image (a logo in the body) that really is an image: nothing to judge.
fn is_inline_image(att: &Attachment, kind: FileKind) -> bool {
    att.inline
        && att.content_type.starts_with("image/")
        && matches!(kind, FileKind::Image | FileKind::Unknown)
}

/// Signals found so far: one per definition, the strongest kept, the rest counted.
#[derive(Default)]
struct Findings {
    best: Vec<(Signal, usize)>,
}

impl Findings {
    fn add(&mut self, signal: Signal) {
        match self
            .best
            .iter_mut()
            .find(|(kept, _)| std::ptr::eq(kept.def, signal.def))
        {
            Some((kept, count)) => {
                *count += 1;
                if signal.weight > kept.weight {
                    *kept = signal;
                }
            }
            None => self.best.push((signal, 1)),
        }
    }

    fn into_signals(self) -> Vec<Signal> {
        self.best
            .into_iter()
            .map(|(s, n)| if n > 1 { s.fact("count", n) } else { s })
            .collect()
    }
}

/// Builds the analyser from its config; `None` when disabled.
pub(crate) fn build(cfg: &Config) -> super::Built {
    if !cfg.enabled {
        return Ok(None);
    }
    let mut errors = cfg.validate();
    let trusted_form_hosts = DomainList::load(&cfg.trusted_form_hosts, "").map_err(|e| {
        ConfigError::new(
            "analysers.attachments.trusted_form_hosts",
            format!("{e}: {}", e.source),
        )
    });
    let password_words = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&cfg.password_words)
        .map_err(|e| {
            ConfigError::new(
                "analysers.attachments.password_words",
                format!("cannot build matcher: {e}"),
            )
        });
    match (trusted_form_hosts, password_words) {
        (Ok(trusted_form_hosts), Ok(password_words)) if errors.is_empty() => {
            Ok(Some(Box::new(AttachmentsAnalyser {
                limits: cfg.limits(),
                password_words,
                trusted_form_hosts,
            })))
        }
        (hosts, words) => {
            errors.extend(hosts.err());
            errors.extend(words.err());
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use flate2::{Compress, Compression, FlushCompress};
    use sg_message::{Direction, Envelope, Limits};

    use super::*;
    use crate::organisation::{Organisation, OrganisationConfig};

    fn analyser(cfg: &Config) -> Box<dyn Analyser> {
        build(cfg).expect("valid config").expect("enabled")
    }

    fn run(raw: &str) -> Vec<Signal> {
        run_with(raw, &Config::default())
    }

    fn run_with(raw: &str, cfg: &Config) -> Vec<Signal> {
        let msg = Message::parse(raw.as_bytes(), &Limits::default()).expect("parses");
        let org = Organisation::from_config(&OrganisationConfig::default());
        let env = Envelope::default();
        let cx = Context {
            envelope: &env,
            direction: Direction::Inbound,
            received_at: 0,
            org: &org,
            cross: None,
        };
        analyser(cfg).analyse(&msg, &cx).expect("analyses")
    }

    fn base64(data: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for (i, chunk) in data.chunks(3).enumerate() {
            if i > 0 && i % 19 == 0 {
                out.push_str("\r\n");
            }
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
            for k in 0..4 {
                if k <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// A message with each `(name, bytes)` as a base64 attachment.
    fn message(files: &[(&str, &[u8])]) -> String {
        typed_message("application/zip", files)
    }

    fn typed_message(content_type: &str, files: &[(&str, &[u8])]) -> String {
        let mut raw = String::from(
            "From: a@example.net\r\nTo: b@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
             Content-Type: text/plain\r\n\r\nsee attached\r\n",
        );
        for (name, data) in files {
            raw.push_str(&format!(
                "--b\r\nContent-Type: {content_type}\r\n\
                 Content-Disposition: attachment; filename=\"{name}\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                base64(data)
            ));
        }
        raw.push_str("--b--\r\n");
        raw
    }

    /// Raw deflate of `chunks` MiB of zeros, built from one repeated sync-flushed segment so
    /// that a stream inflating to gigabytes costs kilobytes to make.
    fn deflated_zeros(chunks: usize) -> Vec<u8> {
        let zeros = vec![0u8; 1 << 20];
        let mut compress = Compress::new(Compression::best(), false);
        let mut segment = |input: &[u8], flush| {
            let mut out = Vec::with_capacity(1 << 16);
            compress.compress_vec(input, &mut out, flush).unwrap();
            out
        };
        let first = segment(&zeros, FlushCompress::Sync);
        let repeated = segment(&zeros, FlushCompress::Sync);
        let last = segment(&[], FlushCompress::Finish);
        let mut stream = first;
        for _ in 1..chunks {
            stream.extend_from_slice(&repeated);
        }
        stream.extend_from_slice(&last);
        stream
    }

    /// A ZIP of deflated entries `(name, stream, declared size)`; CRCs are left at zero.
    fn raw_zip(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data, size) in entries {
            let offset = out.len() as u32;
            let common = |buf: &mut Vec<u8>| {
                for v in [20u16, 0, 8, 0, 0] {
                    buf.extend_from_slice(&v.to_le_bytes());
                }
                for v in [0u32, data.len() as u32, *size] {
                    buf.extend_from_slice(&v.to_le_bytes());
                }
                buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
                buf.extend_from_slice(&[0, 0]);
            };
            out.extend_from_slice(b"PK\x03\x04");
            common(&mut out);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(b"PK\x01\x02\x14\x00");
            common(&mut central);
            central.extend_from_slice(&[0u8; 10]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        let count = entries.len() as u16;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn names(signals: &[Signal]) -> Vec<&'static str> {
        let mut n: Vec<_> = signals.iter().map(|s| s.def.name).collect();
        n.sort_unstable();
        n
    }

    fn fact<'a>(signals: &'a [Signal], name: &str, key: &str) -> Option<&'a str> {
        let s = signals.iter().find(|s| s.def.name == name)?;
        let (_, v) = s.evidence.facts.iter().find(|(k, _)| *k == key)?;
        Some(v.as_str())
    }

    #[test]
    fn two_gib_bomb_is_reported_and_costs_little() {
        // 2 GiB of zeros in 2 MiB of deflate, honestly declared (the ZIP reader stops at a
        // smaller declared size by itself).
        let stream = deflated_zeros(2048);
        let zip = raw_zip(&[("report.pdf", &stream, 1 << 31)]);
        let raw = message(&[("report.zip", &zip)]);
        let started = Instant::now();
        let signals = run(&raw);
        // A hang guard, not a benchmark: the walk stops after about 1 MiB of inflation.
        assert!(started.elapsed() < Duration::from_secs(20));
        assert_eq!(names(&signals), ["ARCHIVE_BOMB"]);
        assert_eq!(fact(&signals, "ARCHIVE_BOMB", "reason"), Some("ratio"));
    }

    #[test]
    fn many_small_bombs_share_one_message_budget() {
        // Entries just under the 1 MiB ratio floor: each archive inflates 8 MiB, which no
        // per-archive limit stops. 60 of them would be 480 MiB; the message stops at 100.
        let stream = deflated_zeros(1);
        let names_: Vec<String> = (0..8).map(|i| format!("part{i}.txt")).collect();
        let entries: Vec<(&str, &[u8], u32)> = names_
            .iter()
            .map(|n| (n.as_str(), stream.as_slice(), 1 << 20))
            .collect();
        let zip = raw_zip(&entries);
        let files: Vec<(&str, &[u8])> = (0..60).map(|_| ("part.zip", zip.as_slice())).collect();
        let signals = run(&message(&files));
        assert_eq!(names(&signals), ["ARCHIVE_UNINSPECTABLE"]);
        assert_eq!(
            fact(&signals, "ARCHIVE_UNINSPECTABLE", "reason"),
            Some("budget")
        );
    }

    #[test]
    fn deep_nesting_is_a_bomb() {
        let mut zip = raw_zip(&[("core.txt", &deflated_zeros(1), 1 << 20)]);
        for _ in 0..50 {
            zip = stored_zip("n.zip", &zip);
        }
        let signals = run(&message(&[("nest.zip", &zip)]));
        assert_eq!(names(&signals), ["ARCHIVE_BOMB"]);
        assert_eq!(fact(&signals, "ARCHIVE_BOMB", "reason"), Some("too_deep"));
    }

    /// A ZIP with one stored entry.
    fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
        let mut zip = raw_zip(&[(name, data, data.len() as u32)]);
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let central = 30 + name.len() + data.len();
        // Method 8 -> 0 and the CRC, in the local and the central header.
        for (method, crc_at) in [(8, 14), (central + 10, central + 16)] {
            zip[method] = 0;
            zip[crc_at..crc_at + 4].copy_from_slice(&crc.sum().to_le_bytes());
        }
        zip
    }

    #[test]
    fn password_must_follow_a_password_word() {
        assert!(token_follows(b": 4821"));
        assert!(token_follows(" は「ab38q1」です".as_bytes()));
        assert!(!token_follows(b" will follow in a separate message"));
        assert!(!token_follows(b" is abc"));
        assert!(!token_follows(
            b"                                              1234"
        ));
    }

    #[test]
    fn findings_keep_the_strongest_and_count() {
        let mut f = Findings::default();
        f.add(Signal::new(&ARCHIVE_ENCRYPTED, "weak").weighted(0.5));
        f.add(Signal::new(&ARCHIVE_ENCRYPTED, "strong"));
        f.add(Signal::new(&ARCHIVE_BOMB, "bomb"));
        let out = f.into_signals();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].evidence.summary, "strong");
        assert_eq!(out[0].evidence.facts, vec![("count", "2".to_owned())]);
        assert!(out[1].evidence.facts.is_empty());
    }

    #[test]
    fn bad_config_reports_every_key() {
        let cfg = Config {
            max_depth: 0,
            max_ratio: 1,
            max_entry_size: 10,
            password_words: vec!["password".into(), " ".into()],
            trusted_form_hosts: "/nonexistent/trusted.txt".into(),
            ..Config::default()
        };
        let keys: Vec<String> = build(&cfg)
            .err()
            .unwrap()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(
            keys,
            [
                "analysers.attachments.max_depth",
                "analysers.attachments.max_entry_size",
                "analysers.attachments.max_ratio",
                "analysers.attachments.password_words[1]",
                "analysers.attachments.trusted_form_hosts",
            ]
        );
    }

    #[test]
    fn disabled_builds_nothing_and_defaults_round_trip() {
        let off = Config {
            enabled: false,
            ..Config::default()
        };
        assert!(build(&off).unwrap().is_none());
        let text = toml::to_string(&Config::default()).unwrap();
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), Config::default());
    }

    #[test]
    fn secure_mail_envelope_from_a_trusted_host_is_quiet() {
        let page = b"<html><form method=post action=\"https://portal.securemail.example/open\">\
            <input type=password name=pw></form></html>";
        let raw = typed_message("text/html", &[("securedoc.html", page)]);
        let signals = run(&raw);
        assert_eq!(names(&signals), ["HTML_ATTACHMENT_FORM"]);
        assert_eq!(
            fact(&signals, "HTML_ATTACHMENT_FORM", "host"),
            Some("portal.securemail.example")
        );
        let path = std::env::temp_dir().join(format!("sg-trusted-{}.txt", std::process::id()));
        std::fs::write(&path, "# secure mail portals\n.securemail.example\n").unwrap();
        let cfg = Config {
            trusted_form_hosts: path.to_string_lossy().into_owned(),
            ..Config::default()
        };
        let signals = run_with(&raw, &cfg);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(names(&signals), Vec::<&str>::new());
    }
}
