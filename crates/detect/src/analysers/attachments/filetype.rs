//! True file type of an attachment, judged by its bytes and by its name.
//!
//! [`sniff`] looks only at fixed signatures (magic bytes at known offsets), so it costs a few
//! comparisons and never scans more than a few kilobytes, except for the ISO 9660 check which reads
//! three fixed offsets. [`extension_kind`] classifies what the file *name* claims, the way Windows
//! would read it: the last extension, case-insensitive, after trailing dots and spaces are stripped
//! and invisible bidi/format controls are removed. [`double_extension`] and [`has_bidi_override`]
//! flag the two classic tricks for hiding a dangerous extension from a reader.

use memchr::memmem;

/// What a file really is, judged by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Windows PE (or DOS/NE/LE) executable: `MZ` header pointing at an executable signature.
    PeExecutable,
    /// ELF executable or shared object.
    Elf,
    /// Mach-O executable (thin or fat).
    MachO,
    /// ZIP archive.
    Zip,
    /// Office Open XML document: a ZIP holding `[Content_Types].xml`.
    Ooxml,
    /// OLE2 compound file (legacy `.doc`, `.xls`, `.ppt`, `.msi`).
    Ole,
    /// PDF document.
    Pdf,
    /// RAR archive.
    Rar,
    /// 7-Zip archive.
    SevenZip,
    /// gzip stream.
    Gzip,
    /// bzip2 stream.
    Bzip2,
    /// xz stream.
    Xz,
    /// Microsoft Cabinet archive.
    Cab,
    /// ISO 9660 disk image.
    Iso,
    /// Windows shortcut (`.lnk`).
    Lnk,
    /// HTML (or SVG) document.
    Html,
    /// Rich Text Format document.
    Rtf,
    /// Script with a `#!` interpreter line.
    Script,
    /// Common raster image (PNG, JPEG, GIF, BMP, TIFF, WebP, HEIF/AVIF).
    Image,
    /// Plain text without control bytes.
    Text,
    /// Anything else, including empty input.
    Unknown,
}

impl FileKind {
    /// Whether the content can be walked as a ZIP archive.
    pub fn is_zip(self) -> bool {
        matches!(self, Self::Zip | Self::Ooxml)
    }

    /// Whether the content runs code when opened: native executables, shortcuts and scripts.
    pub fn is_executable(self) -> bool {
        matches!(
            self,
            Self::PeExecutable | Self::Elf | Self::MachO | Self::Lnk | Self::Script
        )
    }
}

const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const LNK_MAGIC: &[u8] = b"\x4C\x00\x00\x00\x01\x14\x02\x00";

/// Signatures at offset 0, checked in order.
const PREFIXES: &[(&[u8], FileKind)] = &[
    (b"\x7FELF", FileKind::Elf),
    (b"\xFE\xED\xFA\xCE", FileKind::MachO),
    (b"\xFE\xED\xFA\xCF", FileKind::MachO),
    (b"\xCE\xFA\xED\xFE", FileKind::MachO),
    (b"\xCF\xFA\xED\xFE", FileKind::MachO),
    (b"PK\x03\x04", FileKind::Zip),
    (b"PK\x05\x06", FileKind::Zip),
    (b"PK\x07\x08", FileKind::Zip),
    (OLE_MAGIC, FileKind::Ole),
    (b"Rar!\x1A\x07", FileKind::Rar),
    (b"7z\xBC\xAF\x27\x1C", FileKind::SevenZip),
    (b"\x1F\x8B\x08", FileKind::Gzip),
    (b"\xFD7zXZ\x00", FileKind::Xz),
    (b"MSCF\x00\x00\x00\x00", FileKind::Cab),
    (LNK_MAGIC, FileKind::Lnk),
    (b"\x89PNG\r\n\x1A\n", FileKind::Image),
    (b"\xFF\xD8\xFF", FileKind::Image),
    (b"GIF87a", FileKind::Image),
    (b"GIF89a", FileKind::Image),
    (b"II*\x00", FileKind::Image),
    (b"MM\x00*", FileKind::Image),
    (b"{\\rt", FileKind::Rtf), // Word accepts `{\rt` followed by anything, not only `{\rtf1`.
    (b"#!", FileKind::Script),
];

/// Tags that open an HTML (or SVG) document, compared case-insensitively.
const HTML_OPENERS: &str =
    "<!doctype html|<html|<head|<body|<script|<form|<meta|<title|<iframe|<style|<svg";

/// How much of the start of a file the text and HTML checks look at.
const SAMPLE: usize = 8192;

/// Returns the true type of `data` from its magic bytes; see [`FileKind`] for the signatures.
pub fn sniff(data: &[u8]) -> FileKind {
    if is_pe(data) {
        return FileKind::PeExecutable;
    }
    if let Some(kind) = prefix_kind(data) {
        return if kind == FileKind::Zip && first_entry_is_ooxml(data) {
            FileKind::Ooxml
        } else {
            kind
        };
    }
    if let Some(kind) = structured_kind(data) {
        return kind;
    }
    let sample = data.get(..SAMPLE).unwrap_or(data);
    if memmem::find(data.get(..1024).unwrap_or(data), b"%PDF").is_some() {
        FileKind::Pdf
    } else if looks_like_html(sample) {
        FileKind::Html
    } else if looks_like_text(sample) {
        FileKind::Text
    } else {
        FileKind::Unknown
    }
}

fn prefix_kind(data: &[u8]) -> Option<FileKind> {
    PREFIXES
        .iter()
        .find(|(magic, _)| data.starts_with(magic))
        .map(|&(_, kind)| kind)
}

/// Signatures that need more than a fixed prefix.
fn structured_kind(data: &[u8]) -> Option<FileKind> {
    if is_bzip2(data) {
        Some(FileKind::Bzip2)
    } else if is_fat_macho(data) {
        Some(FileKind::MachO)
    } else if is_iso(data) {
        Some(FileKind::Iso)
    } else if is_other_image(data) {
        Some(FileKind::Image)
    } else {
        None
    }
}

fn u32_le(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

fn u16_le(data: &[u8], at: usize) -> Option<u16> {
    let bytes: [u8; 2] = data.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_le_bytes(bytes))
}

/// `MZ`, then `e_lfanew` pointing at a PE/NE/LE/LX signature, or (for a truncated sample) past
/// its end but at a plausible offset.
fn is_pe(data: &[u8]) -> bool {
    if !data.starts_with(b"MZ") {
        return false;
    }
    let Some(offset) = u32_le(data, 0x3C).and_then(|o| usize::try_from(o).ok()) else {
        return false;
    };
    match data.get(offset..offset.saturating_add(2)) {
        Some(sig) => matches!(sig, b"PE" | b"NE" | b"LE" | b"LX"),
        None => offset < 0x1_0000,
    }
}

fn is_bzip2(data: &[u8]) -> bool {
    let level_ok = matches!(data.get(3), Some(b'1'..=b'9'));
    let block = data.get(4..10);
    data.starts_with(b"BZh")
        && level_ok
        && matches!(block, Some(b"1AY&SY") | Some(b"\x17\x72\x45\x38\x50\x90"))
}

/// Fat Mach-O shares `CAFEBABE` with Java class files; a small architecture count tells them apart.
fn is_fat_macho(data: &[u8]) -> bool {
    let count = data
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes);
    data.starts_with(b"\xCA\xFE\xBA\xBE") && matches!(count, Some(1..=20))
}

fn is_iso(data: &[u8]) -> bool {
    [0x8001usize, 0x8801, 0x9001]
        .iter()
        .any(|&at| data.get(at..at + 5) == Some(b"CD001"))
}

fn is_other_image(data: &[u8]) -> bool {
    let webp = data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WEBP");
    let heif = data.get(4..8) == Some(b"ftyp")
        && matches!(data.get(8..12), Some(b"heic" | b"heix" | b"mif1" | b"avif"));
    // BMP: "BM", then a known DIB header size at offset 14.
    let bmp =
        data.starts_with(b"BM") && matches!(u16_le(data, 14), Some(12 | 40 | 52 | 56 | 108 | 124));
    webp || heif || bmp
}

/// Whether a ZIP's first local header names `[Content_Types].xml` or `_rels/.rels`, which is
/// where Office writers put them. The archive walker gives the definitive answer.
fn first_entry_is_ooxml(data: &[u8]) -> bool {
    let Some(len) = u16_le(data, 26).map(usize::from) else {
        return false;
    };
    let name = data.get(30..30 + len);
    matches!(name, Some(b"[Content_Types].xml" | b"_rels/.rels"))
}

/// Skips a UTF-8 BOM, whitespace, `<?xml …?>` and `<!-- … -->` before the first real tag.
fn skip_preamble(mut s: &[u8]) -> &[u8] {
    s = s.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(s);
    loop {
        s = s.trim_ascii_start();
        let end_marker: &[u8] = if s.starts_with(b"<!--") {
            b"-->"
        } else if s.starts_with(b"<?") {
            b"?>"
        } else {
            return s;
        };
        match memmem::find(s, end_marker).and_then(|at| s.get(at + end_marker.len()..)) {
            Some(rest) => s = rest,
            None => return &[],
        }
    }
}

fn looks_like_html(sample: &[u8]) -> bool {
    let start = skip_preamble(sample);
    HTML_OPENERS.split('|').map(str::as_bytes).any(|tag| {
        start
            .get(..tag.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(tag))
    })
}

/// Non-empty, and no control bytes other than tab, newlines, form feed and ESC (ISO-2022-JP).
fn looks_like_text(sample: &[u8]) -> bool {
    let utf16_bom = sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF");
    utf16_bom
        || (!sample.is_empty()
            && sample
                .iter()
                .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)))
}

/// What a file name claims to be, from its last extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtKind {
    /// Native executable or library (`exe scr com pif cpl msi dll sys xll msp`).
    Executable,
    /// Script or script host file (`js vbs hta ps1 bat cmd reg jar …`).
    Script,
    /// Shortcut (`lnk url`).
    Shortcut,
    /// Disk image that Windows mounts on double-click (`iso img vhd vhdx`).
    DiskImage,
    /// Archive (`zip rar 7z gz tar cab …`).
    Archive,
    /// Macro-enabled Office Open XML document (`docm xlsm pptm …`).
    OfficeMacro,
    /// Other Office or RTF document (`doc xls ppt docx xlsx pptx rtf …`).
    Office,
    /// PDF document.
    Pdf,
    /// HTML or SVG document (`htm html shtml xhtml svg`).
    Html,
    /// Raster image.
    Image,
    /// Plain text or CSV.
    Text,
    /// Unknown extension, or no extension at all.
    Other,
}

impl ExtKind {
    /// Whether opening a file with this extension can run code or mount hidden content.
    pub fn is_dangerous(self) -> bool {
        matches!(
            self,
            Self::Executable | Self::Script | Self::Shortcut | Self::DiskImage
        )
    }

    /// Whether this extension looks like an ordinary document a victim expects to open.
    fn looks_harmless(self) -> bool {
        !self.is_dangerous() && self != Self::Other
    }
}

/// Extensions per kind, space-separated, lowercase.
const EXTENSIONS: &[(ExtKind, &str)] = &[
    (
        ExtKind::Executable,
        "exe scr com pif cpl msi dll sys xll msp",
    ),
    (
        ExtKind::Script,
        "js jse vbs vbe wsf wsh hta ps1 psm1 bat cmd reg jar vba sct wsc chm msc",
    ),
    (ExtKind::Shortcut, "lnk url"),
    (ExtKind::DiskImage, "iso img vhd vhdx"),
    (
        ExtKind::Archive,
        "zip zipx rar 7z lzh lha gz tgz bz2 xz tar cab ace arj",
    ),
    (
        ExtKind::OfficeMacro,
        "docm xlsm pptm dotm xltm xlam ppsm potm sldm",
    ),
    (
        ExtKind::Office,
        "doc xls ppt docx xlsx pptx rtf dot xlt pps ppsx xlsb odt ods odp",
    ),
    (ExtKind::Pdf, "pdf"),
    (ExtKind::Html, "htm html shtml xhtml svg"),
    (
        ExtKind::Image,
        "jpg jpeg png gif bmp tif tiff webp heic ico",
    ),
    (ExtKind::Text, "txt csv log"),
];

/// Classifies a file name by its last extension (see the module documentation for the rules).
pub fn extension_kind(name: &str) -> ExtKind {
    let clean = clean_name(name);
    clean
        .rsplit_once('.')
        .map_or(ExtKind::Other, |(_, ext)| classify_ext(ext))
}

/// The last extension of a file name, lowercased, cleaned as for [`extension_kind`]
/// (`"Scan.PDF.exe. "` gives `"exe"`); `None` without one.
pub fn last_extension(name: &str) -> Option<String> {
    let clean = clean_name(name);
    clean
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_lowercase())
        .filter(|ext| !ext.is_empty())
}

fn classify_ext(ext: &str) -> ExtKind {
    let ext = ext.to_ascii_lowercase();
    EXTENSIONS
        .iter()
        .find(|(_, list)| list.split(' ').any(|known| known == ext))
        .map_or(ExtKind::Other, |&(kind, _)| kind)
}

/// Bidi controls: embeddings, overrides, isolates and marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Invisible characters that do not change what Windows treats as the extension.
fn is_invisible(c: char) -> bool {
    is_bidi_control(c) || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Characters used to pad a fake extension away from the real one.
fn is_padding(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '_' | '\u{2800}' | '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}'
        )
}

/// Last path component, invisible characters removed, trailing dots and whitespace stripped.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let visible: String = base.chars().filter(|&c| !is_invisible(c)).collect();
    visible
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
        .to_owned()
}

/// Detects a harmless-looking extension followed by a dangerous one (`scan.pdf.exe`,
/// `report.doc   .scr`, `statement.pdf.html`); returns `(inner, outer)` lowercased.
pub fn double_extension(name: &str) -> Option<(String, String)> {
    let clean = clean_name(name);
    let (stem, outer) = clean.rsplit_once('.')?;
    let outer_kind = classify_ext(outer);
    if !(outer_kind.is_dangerous() || outer_kind == ExtKind::Html) {
        return None;
    }
    let (_, inner) = stem.trim_end_matches(is_padding).rsplit_once('.')?;
    let inner = inner.trim_matches(is_padding);
    let inner_kind = classify_ext(inner);
    (inner_kind.looks_harmless() && inner_kind != outer_kind)
        .then(|| (inner.to_ascii_lowercase(), outer.to_ascii_lowercase()))
}

/// Whether the name contains a bidi control (RTLO U+202E and friends) that can reorder how it
/// is displayed, e.g. `invoice\u{202E}fdp.exe` shown as `invoiceexe.pdf`. Only embeddings,
/// overrides and isolates count: the marks (LRM, RLM, ALM) cannot reverse a run of Latin
/// letters, and right-to-left file names use them legitimately.
pub fn has_bidi_override(name: &str) -> bool {
    name.chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pe_bytes() -> Vec<u8> {
        let mut pe = vec![0u8; 0x100];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe
    }

    fn iso_bytes(at: usize) -> Vec<u8> {
        let mut iso = vec![0u8; 0x9010];
        iso[at..at + 5].copy_from_slice(b"CD001");
        iso
    }

    fn zip_with_first_name(name: &[u8]) -> Vec<u8> {
        let mut z = b"PK\x03\x04".to_vec();
        z.extend_from_slice(&[0u8; 22]);
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z.extend_from_slice(name);
        z
    }

    #[test]
    fn sniff_table() {
        let cases: Vec<(Vec<u8>, FileKind)> = vec![
            (pe_bytes(), FileKind::PeExecutable),
            (b"MZ\x90\x00".to_vec(), FileKind::Unknown), // too short for a DOS header
            (b"\x7FELF\x02\x01\x01".to_vec(), FileKind::Elf),
            (b"\xCF\xFA\xED\xFE\x07\x00".to_vec(), FileKind::MachO),
            (
                b"\xCA\xFE\xBA\xBE\x00\x00\x00\x02".to_vec(),
                FileKind::MachO,
            ),
            (
                b"\xCA\xFE\xBA\xBE\x00\x00\x00\x34".to_vec(),
                FileKind::Unknown,
            ), // Java class
            (zip_with_first_name(b"word/document.xml"), FileKind::Zip),
            (zip_with_first_name(b"[Content_Types].xml"), FileKind::Ooxml),
            (b"PK\x05\x06".to_vec(), FileKind::Zip),
            (OLE_MAGIC.to_vec(), FileKind::Ole),
            (b"%PDF-1.7\n".to_vec(), FileKind::Pdf),
            (
                [vec![b' '; 900], b"%PDF-1.4".to_vec()].concat(),
                FileKind::Pdf,
            ),
            (
                [vec![b' '; 1100], b"%PDF-1.4".to_vec()].concat(),
                FileKind::Text,
            ),
            (b"Rar!\x1A\x07\x01\x00".to_vec(), FileKind::Rar),
            (b"7z\xBC\xAF\x27\x1C\x00\x04".to_vec(), FileKind::SevenZip),
            (b"\x1F\x8B\x08\x00".to_vec(), FileKind::Gzip),
            (b"BZh91AY&SY".to_vec(), FileKind::Bzip2),
            (b"BZh9 is not bzip".to_vec(), FileKind::Text),
            (b"\xFD7zXZ\x00\x00".to_vec(), FileKind::Xz),
            (b"MSCF\0\0\0\0\x10".to_vec(), FileKind::Cab),
            (iso_bytes(0x8001), FileKind::Iso),
            (iso_bytes(0x8801), FileKind::Iso),
            (iso_bytes(0x9001), FileKind::Iso),
            (LNK_MAGIC.to_vec(), FileKind::Lnk),
            (
                b"\xEF\xBB\xBF  \r\n<!DOCTYPE HTML><html>".to_vec(),
                FileKind::Html,
            ),
            (
                b"<!-- saved from url=(0014)about:internet -->\n<HTML>".to_vec(),
                FileKind::Html,
            ),
            (
                b"\n\t<ScRiPt>location='x'</script>".to_vec(),
                FileKind::Html,
            ),
            (b"<form action=x>".to_vec(), FileKind::Html),
            (
                b"<?xml version=\"1.0\"?><svg onload=alert(1)>".to_vec(),
                FileKind::Html,
            ),
            (b"{\\rtf1\\ansi".to_vec(), FileKind::Rtf),
            (b"#!/bin/sh\necho hi\n".to_vec(), FileKind::Script),
            (b"\x89PNG\r\n\x1A\n\0\0".to_vec(), FileKind::Image),
            (b"\xFF\xD8\xFF\xE0".to_vec(), FileKind::Image),
            (b"GIF89a\x01\x00".to_vec(), FileKind::Image),
            (b"RIFF\0\0\0\0WEBPVP8 ".to_vec(), FileKind::Image),
            (b"Hello, world.\r\nRegards\x1B$B".to_vec(), FileKind::Text),
            (b"plain <html> later".to_vec(), FileKind::Text),
            (b"\x00\x01\x02\x03".to_vec(), FileKind::Unknown),
            (Vec::new(), FileKind::Unknown),
        ];
        for (data, want) in cases {
            assert_eq!(
                sniff(&data),
                want,
                "input {:?}",
                String::from_utf8_lossy(&data[..data.len().min(40)])
            );
        }
    }

    #[test]
    fn sniff_never_panics_on_short_prefixes() {
        let pe = pe_bytes();
        for len in 0..pe.len() {
            let _ = sniff(&pe[..len]);
        }
        let _ = sniff(b"MZ\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xFF\xFF\xFF\xFF");
        let _ = sniff(b"<!--");
        let _ = sniff(b"PK\x03\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xFF\xFF");
    }

    #[test]
    fn fuzz_never_panics() {
        const CHARS: &[char] = &[
            '.', ' ', 'e', 'x', 'p', 'd', 'f', '/', '\\', '_', '\u{202E}', '\u{2800}', '請',
        ];
        let mut state = 0x1234_5678_9ABC_DEF1u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = sniff(&bytes);
            let name: String = (0..len)
                .map(|_| CHARS[(next() % CHARS.len() as u64) as usize])
                .collect();
            let _ = (
                extension_kind(&name),
                double_extension(&name),
                has_bidi_override(&name),
            );
        }
    }

    #[test]
    fn extension_kind_table() {
        let cases = [
            ("invoice.EXE", ExtKind::Executable),
            ("setup.msi", ExtKind::Executable),
            ("screen.scr. . .", ExtKind::Executable),
            ("C:\\fakepath\\run.bat", ExtKind::Script),
            ("dir/payload.HTA", ExtKind::Script),
            ("x.ps1", ExtKind::Script),
            ("app.jar", ExtKind::Script),
            ("link.lnk", ExtKind::Shortcut),
            ("site.url", ExtKind::Shortcut),
            ("disk.iso", ExtKind::DiskImage),
            ("disk.vhdx", ExtKind::DiskImage),
            ("a.tar.gz", ExtKind::Archive),
            ("a.7z", ExtKind::Archive),
            ("m.docm", ExtKind::OfficeMacro),
            ("m.XLAM", ExtKind::OfficeMacro),
            ("r.docx", ExtKind::Office),
            ("r.rtf", ExtKind::Office),
            ("r.pdf", ExtKind::Pdf),
            ("p.shtml", ExtKind::Html),
            ("i.svg", ExtKind::Html),
            ("photo.JPEG", ExtKind::Image),
            ("notes.txt", ExtKind::Text),
            ("README", ExtKind::Other),
            ("weird.xyz", ExtKind::Other),
            ("", ExtKind::Other),
            (".", ExtKind::Other),
            ("invoice\u{202E}fdp.exe", ExtKind::Executable),
            ("photo\u{202E}gpj.scr", ExtKind::Executable),
            ("doc.pdf\u{200B}", ExtKind::Pdf),
        ];
        for (name, want) in cases {
            assert_eq!(extension_kind(name), want, "{name:?}");
        }
    }

    #[test]
    fn last_extension_cleans_like_windows() {
        assert_eq!(last_extension("Scan.PDF.exe. ").as_deref(), Some("exe"));
        assert_eq!(last_extension("dir/a.tar.GZ").as_deref(), Some("gz"));
        assert_eq!(
            last_extension("invoice\u{202E}fdp.exe").as_deref(),
            Some("exe")
        );
        assert_eq!(last_extension("README"), None);
        assert_eq!(last_extension("trailing."), None);
    }

    #[test]
    fn double_extension_positive() {
        let cases = [
            ("scan.pdf.exe", ("pdf", "exe")),
            ("invoice.PDF.Exe", ("pdf", "exe")),
            ("report.doc   .scr", ("doc", "scr")),
            ("report.doc\u{2800}\u{2800}.scr", ("doc", "scr")),
            ("photo.jpg_____.js", ("jpg", "js")),
            ("statement.pdf.html", ("pdf", "html")),
            ("payroll.xlsx.iso", ("xlsx", "iso")),
            ("archive.zip.lnk", ("zip", "lnk")),
            ("C:\\tmp\\scan.pdf.exe. .", ("pdf", "exe")),
        ];
        for (name, (inner, outer)) in cases {
            assert_eq!(
                double_extension(name),
                Some((inner.to_owned(), outer.to_owned())),
                "{name:?}"
            );
        }
    }

    #[test]
    fn double_extension_negative() {
        for name in [
            "report.final.pdf",
            "archive.tar.gz",
            "setup.exe",
            "jquery.min.js",
            "v1.2.exe",
            "index.htm.html",
            "setup.exe.exe",
            "pdf.exe",
            "",
            "noext",
        ] {
            assert_eq!(double_extension(name), None, "{name:?}");
        }
    }

    #[test]
    fn bidi_detection() {
        assert!(has_bidi_override("invoice\u{202E}fdp.exe"));
        assert!(has_bidi_override("a\u{2066}b"));
        assert!(has_bidi_override("a\u{2067}b\u{2069}"));
        assert!(
            !has_bidi_override("\u{05E9}\u{200F}.pdf"),
            "RLM cannot reorder Latin text"
        );
        assert!(!has_bidi_override("invoice.pdf"));
        assert!(!has_bidi_override("請求書.pdf"));
    }
}
