//! Checks on one attachment as a file: its name, its real type against what it claims, and
//! the content of HTML and PDF attachments. Archives and Office containers are in
//! `containers.rs`.

use std::fmt::Write as _;

use sg_message::{Link, LinkOrigin};

use super::filetype::{ExtKind, FileKind, double_extension, has_bidi_override};
use super::html_attachment::inspect_html;
use super::{
    ATTACHMENT_DOUBLE_EXTENSION, ATTACHMENT_EXECUTABLE, ATTACHMENT_NAME_OBFUSCATED,
    ATTACHMENT_TYPE_MISMATCH, File, Findings, HTML_ATTACHMENT_FORM, HTML_ATTACHMENT_SCRIPT,
    PDF_ACTIVE_CONTENT,
};
use crate::lists::DomainList;
use crate::signal::Signal;

/// Longest file name shown in a summary, in characters.
const SHOWN_CHARS: usize = 80;

/// Runs every file-level check on one attachment; forms posting to `trusted_form_hosts` are
/// expected (a secure-mail portal's envelope page).
pub(super) fn check(file: &File<'_>, trusted_form_hosts: &DomainList, found: &mut Findings) {
    check_name(file, found);
    check_executable(file, found);
    check_mismatch(file, found);
    check_html(file, trusted_form_hosts, found);
    check_pdf(file, found);
}

/// The name as it can be shown safely: controls and invisible characters escaped as
/// `\u{202e}` (so a right-to-left override cannot reorder the report), cut to 80 characters.
pub(super) fn shown_name(name: &str) -> String {
    if name.is_empty() {
        return "(unnamed)".to_owned();
    }
    let mut out = String::with_capacity(name.len().min(SHOWN_CHARS * 4));
    for (i, c) in name.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || is_invisible(c) {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Bidi controls, zero-width and other invisible characters.
fn is_invisible(c: char) -> bool {
    is_filler(c)
        || matches!(
            c,
            '\u{200C}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}'
        )
}

/// Characters that render as nothing (or as blank) and have no business in a file name:
/// attackers weave them into names (`D\u{34f}e\u{34f}t\u{34f}a\u{34f}i\u{34f}l\u{34f}s`)
/// so that keyword filters and reviewers' searches miss them. ZWJ/ZWNJ are left out: emoji
/// and Indic or Persian names use them.
fn is_filler(c: char) -> bool {
    let word_joiners = '\u{2060}'..='\u{2064}';
    word_joiners.contains(&c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

fn check_name(file: &File<'_>, found: &mut Findings) {
    let bidi = has_bidi_override(file.name);
    let double = double_extension(file.name);
    if bidi || double.is_some() {
        let mut s = match &double {
            Some((inner, outer)) => Signal::new(
                &ATTACHMENT_DOUBLE_EXTENSION,
                format!("{} shows .{inner} but is really .{outer}", file.shown),
            )
            .fact("inner", inner)
            .fact("outer", outer),
            None => Signal::new(
                &ATTACHMENT_DOUBLE_EXTENSION,
                format!(
                    "{} contains a bidi control that reorders how it is displayed",
                    file.shown
                ),
            ),
        };
        if bidi {
            s = s.fact("bidi", "yes");
        }
        found.add(file.at(s));
    }
    let fillers = file.name.chars().filter(|&c| is_filler(c)).count();
    if fillers > 0 {
        // One stray character can come from a copy and paste; several are deliberate.
        let weight = if fillers >= 2 { 1.0 } else { 0.5 };
        found.add(
            file.at(Signal::new(
                &ATTACHMENT_NAME_OBFUSCATED,
                format!("{} contains {fillers} invisible characters", file.shown),
            )
            .fact("invisible", fillers)
            .weighted(weight)),
        );
    }
}

/// Native code, shortcuts and disk images by content; anything Windows runs by its name.
fn check_executable(file: &File<'_>, found: &mut Findings) {
    let what = match file.kind {
        FileKind::PeExecutable => "is a Windows executable".to_owned(),
        FileKind::Elf => "is an ELF executable".to_owned(),
        FileKind::MachO => "is a Mach-O executable".to_owned(),
        FileKind::Lnk => "is a Windows shortcut".to_owned(),
        FileKind::Iso => "is an ISO disk image".to_owned(),
        _ => match file.ext {
            ExtKind::Executable => format!("has the executable extension .{}", file.ext_text()),
            ExtKind::Script => format!("has the script extension .{}", file.ext_text()),
            ExtKind::Shortcut => format!("has the shortcut extension .{}", file.ext_text()),
            ExtKind::DiskImage => format!("has the disk image extension .{}", file.ext_text()),
            _ => return,
        },
    };
    found.add(
        file.at(
            Signal::new(&ATTACHMENT_EXECUTABLE, format!("{} {what}", file.shown))
                .fact("kind", kind_label(file.kind))
                .fact("ext", file.ext_text()),
        ),
    );
}

/// What the name or the declared type claims, when it claims a harmless kind of file.
fn declared_claim(content_type: &str) -> Option<ExtKind> {
    let (top, sub) = content_type.split_once('/')?;
    let claim = match (top, sub) {
        ("image", "svg+xml") | ("text", "html") | ("application", "xhtml+xml") => ExtKind::Html,
        ("image", _) => ExtKind::Image,
        ("text", "plain") => ExtKind::Text,
        ("application", "pdf") => ExtKind::Pdf,
        ("text" | "application", "rtf") | ("application", "msword") => ExtKind::Office,
        ("application", s)
            if s.starts_with("vnd.ms-")
                || s.starts_with("vnd.openxmlformats-officedocument.")
                || s.starts_with("vnd.oasis.opendocument.") =>
        {
            ExtKind::Office
        }
        (
            "application",
            "zip"
            | "x-zip"
            | "x-zip-compressed"
            | "x-rar-compressed"
            | "vnd.rar"
            | "x-rar"
            | "x-7z-compressed"
            | "gzip"
            | "x-gzip"
            | "x-tar"
            | "x-bzip2"
            | "x-xz"
            | "vnd.ms-cab-compressed",
        ) => ExtKind::Archive,
        _ => return None,
    };
    Some(claim)
}

/// Whether content of `kind` contradicts a file claiming to be `claim`. Only contradictions
/// that make a file more dangerous than it looks count: a `.pdf` that is really a JPEG is a
/// sender's mistake, a `.pdf` that is really an executable or a web page is a disguise.
fn contradicts(claim: ExtKind, kind: FileKind) -> bool {
    use ExtKind as E;
    use FileKind as K;
    let harmless_claim = matches!(
        claim,
        E::Pdf | E::Image | E::Text | E::Office | E::OfficeMacro | E::Html | E::Archive
    );
    harmless_claim
        && match kind {
            K::PeExecutable | K::Elf | K::MachO | K::Lnk | K::Iso => true,
            K::Zip | K::Ooxml => !matches!(claim, E::Archive | E::Office | E::OfficeMacro),
            // Word writes RTF under .doc, and web applications export HTML or CSV as .xls.
            K::Ole => !matches!(claim, E::Office | E::OfficeMacro),
            K::Rar | K::SevenZip | K::Gzip | K::Bzip2 | K::Xz | K::Cab => claim != E::Archive,
            K::Html => matches!(claim, E::Pdf | E::Image | E::Archive),
            K::Rtf => matches!(claim, E::Pdf | E::Image | E::Archive | E::Html),
            K::Script => matches!(claim, E::Pdf | E::Image | E::Office | E::Archive),
            K::Pdf | K::Image | K::Text | K::Unknown => false,
        }
}

fn check_mismatch(file: &File<'_>, found: &mut Findings) {
    if file.att.data.is_empty() {
        return;
    }
    let claim = if contradicts(file.ext, file.kind) {
        Some(("name", file.ext_text()))
    } else {
        declared_claim(&file.att.content_type)
            .filter(|&c| contradicts(c, file.kind))
            .map(|_| ("type", file.att.content_type.clone()))
    };
    if let Some((by, claimed)) = claim {
        let label = kind_label(file.kind);
        let shown = if by == "name" {
            format!("named .{claimed}")
        } else {
            format!("declared {claimed}")
        };
        found.add(
            file.at(Signal::new(
                &ATTACHMENT_TYPE_MISMATCH,
                format!("{} is {shown}, but the content is {label}", file.shown),
            )
            .fact("by", by)
            .fact("claimed", claimed)
            .fact("actual", label)),
        );
    }
}

/// Whether the attachment is an HTML (or SVG) document worth reading as one.
fn is_html(file: &File<'_>) -> bool {
    let says_html = file.ext == ExtKind::Html
        || matches!(
            file.att.content_type.as_str(),
            "text/html" | "application/xhtml+xml" | "image/svg+xml"
        );
    file.kind == FileKind::Html
        || (says_html && matches!(file.kind, FileKind::Text | FileKind::Unknown))
}

/// An absolute web URL (`https://host/…`, `//host/…`) with a host; relative targets resolve
/// to the local file and go nowhere.
fn web_link(url: &str, part: usize) -> Option<Link> {
    let url = url.trim();
    let absolute = url.starts_with("//")
        || url
            .get(..8)
            .is_some_and(|s| s.to_ascii_lowercase().starts_with("http"));
    Link::parse(url, LinkOrigin::Attachment, part, None)
        .filter(|l| absolute && l.is_web() && l.host.is_some())
}

/// Host of an absolute web URL, as text.
fn web_host(url: &str, part: usize) -> Option<String> {
    web_link(url, part)?.host.map(|h| h.to_text())
}

fn check_html(file: &File<'_>, trusted: &DomainList, found: &mut Findings) {
    if !is_html(file) {
        return;
    }
    let facts = inspect_html(&file.att.data);
    let part = file.att.part;
    // A file opened from disk has no origin: every absolute web target is someone else's.
    let targets: Vec<Link> = facts
        .form_actions
        .iter()
        .filter_map(|a| web_link(a, part))
        .collect();
    let is_trusted = |l: &Link| l.domain().is_some_and(|d| trusted.contains(d.as_str()));
    let all_trusted = !targets.is_empty() && targets.iter().all(is_trusted);
    let target = targets
        .iter()
        .find(|l| !is_trusted(l))
        .and_then(|l| l.host.as_ref())
        .map(|h| h.to_text());
    let summary = match (&target, facts.has_password_input && !all_trusted) {
        (Some(host), true) => Some(format!("asks for a password and posts to {host}")),
        (None, true) => Some("asks for a password".to_owned()),
        (Some(host), false) => Some(format!("has a form that posts to {host}")),
        (None, false) => None,
    };
    if let Some(summary) = summary {
        let summary = format!("{} {summary}", file.shown);
        let mut s = Signal::new(&HTML_ATTACHMENT_FORM, summary).fact(
            "password",
            if facts.has_password_input {
                "yes"
            } else {
                "no"
            },
        );
        if let Some(host) = target {
            s = s.fact("host", host);
        }
        // A login page is the point; a bare form (a saved page's search box) is weaker.
        found.add(file.at(s.weighted(if facts.has_password_input { 1.0 } else { 0.5 })));
    }
    let refresh = facts
        .meta_refresh
        .as_deref()
        .and_then(refresh_target)
        .and_then(|url| web_host(url, part));
    if facts.script_obfuscation || refresh.is_some() {
        let mut what = Vec::new();
        if facts.script_obfuscation {
            what.push("decodes and runs an obfuscated script".to_owned());
        }
        if let Some(host) = &refresh {
            what.push(format!("redirects to {host}"));
        }
        let mut s = Signal::new(
            &HTML_ATTACHMENT_SCRIPT,
            format!("{} {}", file.shown, what.join(" and ")),
        )
        .fact(
            "obfuscated",
            if facts.script_obfuscation {
                "yes"
            } else {
                "no"
            },
        );
        if let Some(host) = refresh {
            s = s.fact("host", host);
        }
        found.add(file.at(s));
    }
}

/// The URL of a meta refresh `content` (`"0; url=https://…"`, quotes optional).
fn refresh_target(content: &str) -> Option<&str> {
    let (_, rest) = content
        .split_once(';')
        .or_else(|| content.split_once(','))?;
    let rest = rest.trim_start();
    let url = rest
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("url="))
        .and_then(|_| rest.get(4..))
        .unwrap_or(rest);
    Some(url.trim().trim_matches(['\'', '"']))
}

fn check_pdf(file: &File<'_>, found: &mut Findings) {
    let Some(pdf) = &file.att.pdf else {
        return;
    };
    // (present, fact, words, weight): a launch action runs a program; JavaScript is the
    // exploit path, but fillable forms use it for field formatting (with field-level /AA
    // actions, which count as "run on open" too); embedded files, SubmitForm and XFA have
    // ordinary uses (e-invoices, government forms), so they weigh little alone.
    let features = [
        (pdf.launch, "launch", "a Launch action", 1.0),
        (pdf.javascript, "javascript", "JavaScript", 0.6),
        (pdf.submit_form, "submit_form", "a SubmitForm action", 0.4),
        (pdf.embedded_files, "embedded_files", "embedded files", 0.4),
        (pdf.open_action, "open_action", "an action run on open", 0.3),
        (pdf.xfa, "xfa", "an XFA form", 0.25),
    ];
    let present: Vec<_> = features.iter().filter(|f| f.0).collect();
    let Some(mut weight) = present.iter().map(|f| f.3).reduce(f32::max) else {
        return;
    };
    if pdf.javascript && pdf.open_action {
        weight = weight.max(0.8);
    }
    let facts: Vec<&str> = present.iter().map(|f| f.1).collect();
    let words: Vec<&str> = present.iter().map(|f| f.2).collect();
    found.add(
        file.at(Signal::new(
            &PDF_ACTIVE_CONTENT,
            format!("{} carries {}", file.shown, words.join(", ")),
        )
        .fact("features", facts.join(","))
        .weighted(weight)),
    );
}

/// Short lowercase name of a file kind, for facts and summaries.
pub(super) fn kind_label(kind: FileKind) -> &'static str {
    match kind {
        FileKind::PeExecutable => "pe",
        FileKind::Elf => "elf",
        FileKind::MachO => "macho",
        FileKind::Zip => "zip",
        FileKind::Ooxml => "ooxml",
        FileKind::Ole => "ole",
        FileKind::Pdf => "pdf",
        FileKind::Rar => "rar",
        FileKind::SevenZip => "7z",
        FileKind::Gzip => "gzip",
        FileKind::Bzip2 => "bzip2",
        FileKind::Xz => "xz",
        FileKind::Cab => "cab",
        FileKind::Iso => "iso",
        FileKind::Lnk => "lnk",
        FileKind::Html => "html",
        FileKind::Rtf => "rtf",
        FileKind::Script => "script",
        FileKind::Image => "image",
        FileKind::Text => "text",
        FileKind::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_name_escapes_reordering_and_invisible_characters() {
        assert_eq!(
            shown_name("invoice\u{202E}fdp.exe"),
            "invoice\\u{202e}fdp.exe"
        );
        assert_eq!(shown_name("a\u{34f}b"), "a\\u{034f}b");
        assert_eq!(shown_name("請求書.pdf"), "請求書.pdf");
        assert_eq!(shown_name(""), "(unnamed)");
        assert_eq!(
            shown_name(&"x".repeat(200)).chars().count(),
            SHOWN_CHARS + 1
        );
    }

    #[test]
    fn harmless_mismatches_do_not_count() {
        use ExtKind as E;
        use FileKind as K;
        for (claim, kind) in [
            (E::Pdf, K::Image),
            (E::Image, K::Pdf),
            (E::Office, K::Rtf),
            (E::Office, K::Html),
            (E::Office, K::Zip),
            (E::Text, K::Html),
            (E::Text, K::Unknown),
            (E::Archive, K::Rar),
            (E::Other, K::PeExecutable),
            (E::Executable, K::Zip),
        ] {
            assert!(!contradicts(claim, kind), "{claim:?} / {kind:?}");
        }
    }

    #[test]
    fn disguising_mismatches_count() {
        use ExtKind as E;
        use FileKind as K;
        for (claim, kind) in [
            (E::Pdf, K::PeExecutable),
            (E::Image, K::Html),
            (E::Image, K::Zip),
            (E::Pdf, K::Html),
            (E::Office, K::Lnk),
            (E::Text, K::Ole),
            (E::Archive, K::Html),
            (E::Office, K::Rar),
        ] {
            assert!(contradicts(claim, kind), "{claim:?} / {kind:?}");
        }
    }

    #[test]
    fn declared_claims() {
        assert_eq!(declared_claim("application/pdf"), Some(ExtKind::Pdf));
        assert_eq!(declared_claim("image/svg+xml"), Some(ExtKind::Html));
        assert_eq!(declared_claim("image/jpeg"), Some(ExtKind::Image));
        assert_eq!(
            declared_claim("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            Some(ExtKind::Office)
        );
        assert_eq!(declared_claim("application/octet-stream"), None);
        assert_eq!(declared_claim("garbage"), None);
    }

    #[test]
    fn refresh_targets() {
        assert_eq!(
            refresh_target("0; url=https://x.example/"),
            Some("https://x.example/")
        );
        assert_eq!(
            refresh_target("0;URL='//x.example/a'"),
            Some("//x.example/a")
        );
        assert_eq!(refresh_target("5"), None);
        assert_eq!(
            web_host("https://x.example/a?b", 0).as_deref(),
            Some("x.example")
        );
        assert_eq!(web_host("//X.example/a", 0).as_deref(), Some("x.example"));
        assert_eq!(web_host("post.php", 0), None);
        assert_eq!(web_host("mailto:a@example.org", 0), None);
        assert_eq!(web_host("www.example.org/x", 0), None);
    }
}
