//! The shape of a message, as opposed to its wording: text hidden from the reader, bodies that
//! are little more than a link or a picture, and charsets that do not add up. Each is a pure
//! function of the parsed [`Message`].

use sg_message::{Anomaly, HtmlFacts, LinkOrigin, Message};

/// The HTML part hiding the most text, when it hides at least `min_chars` characters and
/// at least `min_percent` % as much as it shows.
pub(super) fn hidden_text(
    msg: &Message,
    min_chars: usize,
    min_percent: usize,
) -> Option<&HtmlFacts> {
    msg.html
        .iter()
        .filter(|h| {
            h.hidden_chars >= min_chars
                && h.hidden_chars.saturating_mul(100) >= h.visible_chars.saturating_mul(min_percent)
        })
        .max_by_key(|h| h.hidden_chars)
}

/// Index of the first web link of the body's HTML a reader can click: an anchor, form or
/// refresh, not a bare URL in plain text (mailing-list and feed mail is full of those) nor
/// anything inside an attachment.
pub(super) fn first_web_link(msg: &Message) -> Option<usize> {
    msg.links.iter().position(|l| {
        matches!(
            l.origin,
            LinkOrigin::Anchor | LinkOrigin::FormAction | LinkOrigin::MetaRefresh
        ) && matches!(l.scheme.as_str(), "http" | "https")
            && l.host.is_some()
    })
}

/// Non-white-space characters of visible text, counting no further than `cap`.
pub(super) fn visible_chars(text: &str, cap: usize) -> usize {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .take(cap)
        .count()
}

/// An HTML body part that shows images but (almost) no text.
pub(super) fn image_only(msg: &Message, max_chars: usize) -> Option<&HtmlFacts> {
    msg.html
        .iter()
        .find(|h| h.images > 0 && h.visible_chars <= max_chars)
}

/// A charset problem worth a (weak) signal: what kind, and the label involved.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum CharsetOddity<'a> {
    /// A text part declared a charset nobody knows.
    Unknown(&'a str),
    /// A text part had no usable label and was decoded by guessing a legacy Japanese charset.
    GuessedJapanese(&'a str),
    /// The Subject is encoded in one Japanese legacy charset family, the body in another.
    SubjectBody(&'static str, &'static str),
}

/// Looks for a charset oddity. Undeclared Western 8-bit text is everyday in old mailers and is
/// not reported; what is reported is rarer and typical of mail put together by a kit.
pub(super) fn charset_oddity(msg: &Message) -> Option<CharsetOddity<'_>> {
    for a in &msg.anomalies {
        match a {
            // Exchange labels its DSNs "unicode-1-1-utf-7"; that is old, not odd.
            Anomaly::UnknownCharset(l) if !l.to_ascii_lowercase().contains("utf-7") => {
                return Some(CharsetOddity::Unknown(l));
            }
            Anomaly::CharsetGuessed(l) if japanese_family(l).is_some() => {
                return Some(CharsetOddity::GuessedJapanese(l));
            }
            _ => {}
        }
    }
    let subject = msg.header("subject").and_then(encoded_word_charset)?;
    let subject = japanese_family(subject).or_else(|| is_utf8(subject).then_some("utf-8"))?;
    let body = msg
        .parts
        .iter()
        .filter(|p| p.content_type.starts_with("text/") && !p.is_attachment)
        .find_map(|p| p.charset.as_deref())?;
    let body = japanese_family(body).or_else(|| is_utf8(body).then_some("utf-8"))?;
    // Both legacy Japanese but different families; UTF-8 mixed with one of them is how many
    // ordinary mailers behave and is left alone.
    (subject != body && subject != "utf-8" && body != "utf-8")
        .then_some(CharsetOddity::SubjectBody(subject, body))
}

/// The charset of the first RFC 2047 encoded word in a raw header value.
fn encoded_word_charset(raw: &str) -> Option<&str> {
    let start = raw.find("=?")? + 2;
    let rest = raw.get(start..)?;
    let end = rest.find('?')?;
    let label = rest.get(..end)?;
    // RFC 2231 language suffix: =?iso-2022-jp*ja?B?…?=
    Some(label.split('*').next().unwrap_or(label))
}

fn is_utf8(label: &str) -> bool {
    let l = label.trim().trim_matches('"');
    l.eq_ignore_ascii_case("utf-8") || l.eq_ignore_ascii_case("utf8")
}

/// The Japanese legacy charset family of a label, if it is one.
fn japanese_family(label: &str) -> Option<&'static str> {
    let l = label.trim().trim_matches('"').to_ascii_lowercase();
    if l.starts_with("iso-2022-jp") || l.starts_with("iso2022jp") || l.starts_with("cp5022") {
        Some("iso-2022-jp")
    } else if l.contains("shift") && l.contains("jis")
        || matches!(
            l.as_str(),
            "sjis" | "cp932" | "ms932" | "windows-31j" | "windows-932" | "x-sjis"
        )
    {
        Some("shift_jis")
    } else if l.contains("euc") && l.contains("jp") || l == "cp51932" {
        Some("euc-jp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_word_charset_is_read() {
        assert_eq!(
            encoded_word_charset("=?ISO-2022-JP?B?GyRC?="),
            Some("ISO-2022-JP")
        );
        assert_eq!(
            encoded_word_charset("x =?shift_jis*ja?Q?a?="),
            Some("shift_jis")
        );
        assert_eq!(encoded_word_charset("plain"), None);
    }

    #[test]
    fn japanese_families() {
        assert_eq!(japanese_family("Shift_JIS"), Some("shift_jis"));
        assert_eq!(japanese_family("cp932"), Some("shift_jis"));
        assert_eq!(japanese_family("ISO-2022-JP-2"), Some("iso-2022-jp"));
        assert_eq!(japanese_family("EUC-JP"), Some("euc-jp"));
        assert_eq!(japanese_family("iso-8859-1"), None);
    }

    #[test]
    fn visible_chars_ignores_white_space_and_stops_at_cap() {
        assert_eq!(visible_chars(" a b\nc ", 10), 3);
        assert_eq!(visible_chars("abcdef", 4), 4);
    }
}
