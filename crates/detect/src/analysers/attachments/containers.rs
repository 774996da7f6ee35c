//! Checks on attachments that contain other files: ZIP archives (walked recursively), OOXML
//! and OLE documents (searched for macros), and archive formats that cannot be opened here.
//!
//! Decompression is bounded per message, not only per archive: every walk gets what is left
//! of the message's `max_total_uncompressed` and `max_entries`, so a message with hundreds of
//! small bombs costs no more than one.

use super::archive::{ArchiveEntry, ArchiveLimits, ArchiveReport, BombReason, walk_zip};
use super::file_checks::{kind_label, shown_name};
use super::filetype::{ExtKind, FileKind, double_extension, has_bidi_override};
use super::office::{ole_has_vba, ooxml_has_macros};
use super::{
    ARCHIVE_BOMB, ARCHIVE_ENCRYPTED, ARCHIVE_HOLDS_EXECUTABLE, ARCHIVE_UNINSPECTABLE,
    ATTACHMENT_DOUBLE_EXTENSION, File, Findings, OFFICE_MACRO,
};
use crate::signal::Signal;

/// Archive state shared by all attachments of one message.
pub(super) struct Scan<F> {
    /// The configured limits; `max_total_uncompressed` and `max_entries` are per message.
    limits: ArchiveLimits,
    bytes_left: u64,
    entries_left: u32,
    /// Whether the message gives a password, computed the first time an archive needs it.
    password: Option<bool>,
    password_given: F,
}

/// Whether a file of this kind runs code or mounts hidden content when opened.
fn runs_code(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::PeExecutable | FileKind::Elf | FileKind::MachO | FileKind::Lnk | FileKind::Iso
    )
}

/// Archive and compression formats this module cannot look inside.
fn is_opaque(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Rar
            | FileKind::SevenZip
            | FileKind::Cab
            | FileKind::Gzip
            | FileKind::Bzip2
            | FileKind::Xz
    )
}

fn uninspectable(file: &File<'_>, why: &str, reason: &str) -> Signal {
    file.at(
        Signal::new(&ARCHIVE_UNINSPECTABLE, format!("{} {why}", file.shown))
            .fact("reason", reason)
            .fact("kind", kind_label(file.kind))
            .fact("ext", file.ext_text()),
    )
}

impl<F: FnMut() -> bool> Scan<F> {
    pub(super) fn new(limits: ArchiveLimits, password_given: F) -> Self {
        Scan {
            limits,
            bytes_left: limits.max_total_uncompressed,
            entries_left: limits.max_entries,
            password: None,
            password_given,
        }
    }

    /// Checks one attachment if it is a container.
    pub(super) fn check(&mut self, file: &File<'_>, found: &mut Findings) {
        let data = &file.att.data;
        let mut macro_reason = (file.ext == ExtKind::OfficeMacro)
            .then(|| format!("has the macro-enabled extension .{}", file.ext_text()));
        match file.kind {
            kind if kind.is_zip() => {
                if let Some(report) = self.walk(file, found)
                    && let Some(reason) = self.judge(file, &report, found)
                {
                    macro_reason = Some(reason);
                }
            }
            FileKind::Ole if ole_has_vba(data) => {
                macro_reason = Some("holds a VBA project".to_owned());
            }
            kind if is_opaque(kind) => found.add(uninspectable(
                file,
                &format!("is a {} archive that cannot be inspected", kind_label(kind)),
                "format",
            )),
            // An archive name on content of no known type: try it as a ZIP with a prefix
            // (self-extractor stubs, junk prepended to fool sniffers) before giving up.
            FileKind::Unknown | FileKind::Text
                if file.ext == ExtKind::Archive && !data.is_empty() =>
            {
                match self.walk(file, found) {
                    Some(report) if report.entries.is_empty() => found.add(uninspectable(
                        file,
                        &format!("is a .{} archive that cannot be inspected", file.ext_text()),
                        "format",
                    )),
                    Some(report) => macro_reason = self.judge(file, &report, found),
                    None => {}
                }
            }
            _ => {}
        }
        if let Some(reason) = macro_reason {
            found.add(
                file.at(
                    Signal::new(&OFFICE_MACRO, format!("{} {reason}", file.shown))
                        .fact("kind", kind_label(file.kind))
                        .fact("ext", file.ext_text()),
                ),
            );
        }
    }

    /// Walks a ZIP with what is left of the message's limits; `None` (and a signal) when
    /// nothing is left.
    fn walk(&mut self, file: &File<'_>, found: &mut Findings) -> Option<ArchiveReport> {
        if self.bytes_left == 0 || self.entries_left == 0 {
            found.add(uninspectable(
                file,
                "was not opened: the message's archive limits are spent",
                "budget",
            ));
            return None;
        }
        let limits = ArchiveLimits {
            max_total_uncompressed: self.bytes_left,
            max_entries: self.entries_left,
            ..self.limits
        };
        let mut report = walk_zip(&file.att.data, &limits);
        self.bytes_left = self.bytes_left.saturating_sub(report.decompressed_total);
        let listed = u32::try_from(report.entries.len()).unwrap_or(u32::MAX);
        self.entries_left = self.entries_left.saturating_sub(listed);
        // Running out of a budget that earlier attachments shrank is not this archive's doing.
        let shrunk = limits.max_total_uncompressed < self.limits.max_total_uncompressed;
        if shrunk && matches!(report.bomb, Some(BombReason::TotalSize { .. })) {
            report.bomb = None;
            found.add(uninspectable(
                file,
                "was not fully inspected: the message's decompression limit was reached",
                "budget",
            ));
        }
        Some(report)
    }

    /// Turns a walked ZIP into signals; returns why it counts as a macro document, if it does.
    fn judge(
        &mut self,
        file: &File<'_>,
        report: &ArchiveReport,
        found: &mut Findings,
    ) -> Option<String> {
        // An Office document is a ZIP whose part names follow a schema: its parts are not
        // files a victim opens, so only macros, native code and bombs count inside it.
        let document = report.is_ooxml || file.kind == FileKind::Ooxml;
        if let Some(bomb) = &report.bomb {
            found.add(
                file.at(
                    Signal::new(&ARCHIVE_BOMB, format!("{}: {bomb}", file.shown))
                        .fact("reason", bomb_label(bomb)),
                ),
            );
        }
        if report.encrypted {
            self.encrypted(file, report, found);
        }
        let dangerous =
            |e: &&ArchiveEntry| runs_code(e.kind) || (!document && e.ext.is_dangerous());
        let executables: Vec<&ArchiveEntry> = report.entries.iter().filter(dangerous).collect();
        if let Some(first) = executables.first() {
            let what = if runs_code(first.kind) {
                kind_label(first.kind)
            } else {
                "by its extension"
            };
            found.add(
                file.at(Signal::new(
                    &ARCHIVE_HOLDS_EXECUTABLE,
                    format!("{} holds {} ({what})", file.shown, shown_name(&first.path)),
                )
                .fact("kind", kind_label(first.kind))
                .fact("ext", entry_ext(first))
                .fact("depth", first.depth)
                .fact("entries", executables.len())),
            );
        }
        if !document {
            self.entry_names(file, report, found);
            self.unopened(file, report, found);
        }
        let macro_entry = report
            .entries
            .iter()
            .find(|e| e.ext == ExtKind::OfficeMacro);
        if ooxml_has_macros(report) {
            Some(if document {
                "holds a VBA project or macro sheets".to_owned()
            } else {
                "holds a document with a VBA project or macro sheets".to_owned()
            })
        } else {
            macro_entry.map(|e| format!("holds the macro document {}", shown_name(&e.path)))
        }
    }

    fn encrypted(&mut self, file: &File<'_>, report: &ArchiveReport, found: &mut Findings) {
        let given = *self.password.get_or_insert_with(&mut self.password_given);
        let locked = report.entries.iter().filter(|e| e.encrypted).count();
        let summary = if given {
            format!(
                "{} is password-protected and the message gives the password",
                file.shown
            )
        } else {
            format!("{} is password-protected", file.shown)
        };
        found.add(
            file.at(Signal::new(&ARCHIVE_ENCRYPTED, summary)
                .fact("encrypted_entries", locked)
                .fact("password_in_message", if given { "yes" } else { "no" })
                .weighted(if given { 1.0 } else { 0.5 })),
        );
    }

    /// Double extensions and bidi tricks on the names inside an archive.
    fn entry_names(&self, file: &File<'_>, report: &ArchiveReport, found: &mut Findings) {
        let base = |e: &ArchiveEntry| e.path.rsplit('/').next().unwrap_or_default().to_owned();
        let tricked = report.entries.iter().find_map(|e| {
            let name = base(e);
            let double = double_extension(&name);
            (double.is_some() || has_bidi_override(&name)).then_some((e, double))
        });
        if let Some((entry, double)) = tricked {
            let mut s = Signal::new(
                &ATTACHMENT_DOUBLE_EXTENSION,
                format!("{} holds {}", file.shown, shown_name(&entry.path)),
            )
            .fact("in_archive", "yes");
            if let Some((inner, outer)) = double {
                s = s.fact("inner", inner).fact("outer", outer);
            }
            found.add(file.at(s));
        }
    }

    /// Nested archives that could not be opened, and archives the limits cut short.
    fn unopened(&self, file: &File<'_>, report: &ArchiveReport, found: &mut Findings) {
        // Unreadable entries include ones packed with a method this walker lacks (LZMA,
        // bzip2, PPMd…), a known way to slip content past scanners.
        let opaque = report.entries.iter().find(|e| {
            let unread = e.decompressed.is_none() && !e.encrypted;
            let unknown_archive = e.ext == ExtKind::Archive && e.kind == FileKind::Unknown;
            is_opaque(e.kind) || unread || (unknown_archive && !e.encrypted)
        });
        if let Some(entry) = opaque {
            let why = format!(
                "holds {}, which cannot be inspected",
                shown_name(&entry.path)
            );
            found.add(uninspectable(file, &why, "nested"));
        } else if report.truncated {
            let why = "was not fully inspected: it exceeds the archive limits";
            found.add(uninspectable(file, why, "limits"));
        } else if report.entries.is_empty() && !report.errors.is_empty() && report.bomb.is_none() {
            let reason = if file.att.truncated {
                "too_large"
            } else {
                "corrupt"
            };
            let why = if file.att.truncated {
                "cannot be opened: it is larger than the message parser keeps".to_owned()
            } else {
                "cannot be opened as an archive: it is corrupt".to_owned()
            };
            found.add(uninspectable(file, &why, reason));
        }
    }
}

fn entry_ext(entry: &ArchiveEntry) -> String {
    super::filetype::last_extension(&entry.path).unwrap_or_else(|| "none".to_owned())
}

fn bomb_label(bomb: &BombReason) -> &'static str {
    match bomb {
        BombReason::Ratio { .. } => "ratio",
        BombReason::TotalSize { .. } => "total_size",
        BombReason::TooDeep { .. } => "too_deep",
        BombReason::SelfSimilar { .. } => "self_similar",
    }
}
