//! Macro detection in Office documents, without parsing the document itself.
//!
//! Legacy Office files (`.doc`, `.xls`, and the `vbaProject.bin` part inside `.docm`/`.xlsm`) are
//! OLE2 compound files. Their VBA code lives in a storage named `VBA` (under `Macros` in Word and
//! `_VBA_PROJECT_CUR` in Excel) next to a `_VBA_PROJECT` stream. [`ole_has_vba`] finds those
//! directory entries without following the FAT: every directory entry is 128 bytes long and
//! every sector starts at a multiple of 512 bytes, so checking each 128-byte-aligned slot once
//! finds all of them in one linear pass, however the sector chains are laid out (or broken).
//! PowerPoint 97-2003 keeps its VBA inside the `PowerPoint Document` stream and is not covered.
//!
//! For OOXML packages the archive walker does the work; [`ooxml_has_macros`] reads its report.

use super::archive::ArchiveReport;

const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const DIR_ENTRY_LEN: usize = 128;
const HEADER_LEN: usize = 512;
const TYPE_STORAGE: u8 = 1;
const TYPE_STREAM: u8 = 2;

/// Storages that only exist in documents carrying a VBA project.
const VBA_STORAGES: &[&str] = &["VBA", "Macros", "_VBA_PROJECT_CUR"];
/// The stream every VBA project has.
const VBA_STREAM: &str = "_VBA_PROJECT";

/// Whether an OLE2/CFB file (legacy `.doc`/`.xls`, `vbaProject.bin`) contains a VBA project;
/// work is one pass over the input, 128 bytes at a time.
pub fn ole_has_vba(data: &[u8]) -> bool {
    data.starts_with(OLE_MAGIC)
        && data
            .get(HEADER_LEN..)
            .is_some_and(|body| body.chunks_exact(DIR_ENTRY_LEN).any(is_vba_entry))
}

fn is_vba_entry(entry: &[u8]) -> bool {
    match entry.get(0x42).copied() {
        Some(TYPE_STORAGE) => VBA_STORAGES.iter().any(|name| entry_name_is(entry, name)),
        Some(TYPE_STREAM) => entry_name_is(entry, VBA_STREAM),
        _ => false,
    }
}

/// Compares a directory entry's UTF-16LE name with `want`, ASCII case-insensitively (CFB names
/// compare case-insensitively). The length field counts bytes including the terminating NUL.
fn entry_name_is(entry: &[u8], want: &str) -> bool {
    let Some(len) = entry.get(0x40..0x42).and_then(le16).map(usize::from) else {
        return false;
    };
    if len != (want.len() + 1) * 2 {
        return false;
    }
    let Some(name) = entry.get(..len) else {
        return false;
    };
    let mut units = name.chunks_exact(2).filter_map(le16);
    let matches = want.bytes().all(|w| {
        units
            .next()
            .is_some_and(|u| u8::try_from(u).is_ok_and(|c| c.eq_ignore_ascii_case(&w)))
    });
    matches && units.next() == Some(0)
}

fn le16(bytes: &[u8]) -> Option<u16> {
    bytes.try_into().ok().map(u16::from_le_bytes)
}

/// Whether a walked OOXML package (or anything nested in it) carries macros: a VBA project
/// (`vbaProject.bin` or any OLE part holding VBA) or Excel 4.0 macro sheets (`xl/macrosheets/`).
pub fn ooxml_has_macros(report: &ArchiveReport) -> bool {
    report.has_vba_project
        || report
            .entries
            .iter()
            .any(|e| e.has_vba || is_macrosheet(&e.path))
}

fn is_macrosheet(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.starts_with("xl/macrosheets/") || lower.contains("/xl/macrosheets/")
}

#[cfg(test)]
mod tests {
    use super::super::archive::ArchiveEntry;
    use super::super::filetype::{ExtKind, FileKind};
    use super::*;

    /// A 128-byte directory entry with the given name and object type.
    fn dir_entry(name: &str, kind: u8) -> Vec<u8> {
        let mut entry = vec![0u8; DIR_ENTRY_LEN];
        let units: Vec<u16> = name.encode_utf16().collect();
        for (i, u) in units.iter().enumerate() {
            entry[i * 2..i * 2 + 2].copy_from_slice(&u.to_le_bytes());
        }
        entry[0x40..0x42].copy_from_slice(&(((units.len() + 1) * 2) as u16).to_le_bytes());
        entry[0x42] = kind;
        entry
    }

    /// A minimal OLE file: header sector, then one directory sector with these entries.
    fn ole_with(entries: &[(&str, u8)]) -> Vec<u8> {
        let mut data = OLE_MAGIC.to_vec();
        data.resize(HEADER_LEN, 0);
        data.extend(dir_entry("Root Entry", 5));
        for (name, kind) in entries {
            data.extend(dir_entry(name, *kind));
        }
        data.resize(HEADER_LEN * 2, 0);
        data
    }

    #[test]
    fn word_macros_detected() {
        let doc = ole_with(&[("WordDocument", 2), ("Macros", 1), ("VBA", 1), ("dir", 2)]);
        assert!(ole_has_vba(&doc));
    }

    #[test]
    fn vba_stream_detected_case_insensitively() {
        assert!(ole_has_vba(&ole_with(&[("_vba_project", 2)])));
        assert!(ole_has_vba(&ole_with(&[("_VBA_PROJECT_CUR", 1)])));
    }

    #[test]
    fn clean_documents_have_no_vba() {
        let doc = ole_with(&[
            ("WordDocument", 2),
            ("1Table", 2),
            ("\u{5}SummaryInformation", 2),
        ]);
        assert!(!ole_has_vba(&doc));
        // A *stream* called VBA or a longer name is not the VBA storage.
        assert!(!ole_has_vba(&ole_with(&[
            ("VBA", 2),
            ("VBAX", 1),
            ("_VBA_PROJECTS", 2)
        ])));
        // Not an OLE file at all.
        assert!(!ole_has_vba(&dir_entry("VBA", 1)));
        assert!(!ole_has_vba(b""));
        assert!(!ole_has_vba(OLE_MAGIC));
    }

    #[test]
    fn truncated_ole_never_panics() {
        let doc = ole_with(&[("Macros", 1)]);
        for len in 0..doc.len() {
            let _ = ole_has_vba(&doc[..len]);
        }
    }

    fn entry(path: &str, has_vba: bool) -> ArchiveEntry {
        ArchiveEntry {
            path: path.to_owned(),
            depth: 1,
            size: 1,
            compressed_size: 1,
            decompressed: Some(1),
            encrypted: false,
            kind: FileKind::Text,
            ext: ExtKind::Other,
            has_vba,
        }
    }

    #[test]
    fn ooxml_macro_sources() {
        let mut report = ArchiveReport::default();
        report.entries.push(entry("word/document.xml", false));
        assert!(!ooxml_has_macros(&report));
        report
            .entries
            .push(entry("xl/macrosheets/sheet1.xml", false));
        assert!(ooxml_has_macros(&report));
        let mut report = ArchiveReport::default();
        report
            .entries
            .push(entry("outer.zip/book.xlsm/XL/MacroSheets/s.xml", false));
        assert!(ooxml_has_macros(&report));
        let report = ArchiveReport {
            has_vba_project: true,
            ..ArchiveReport::default()
        };
        assert!(ooxml_has_macros(&report));
    }
}
