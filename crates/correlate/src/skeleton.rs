//! Normal forms that survive an attacker's per-message variations: link targets with
//! per-recipient tokens masked, and subjects without reply prefixes, tags and numbers.

use sg_message::Link;

/// A link reduced to what a campaign shares: `host/path` with query and fragment dropped,
/// the host lowercased, and every path segment that looks like a per-recipient token
/// (long runs mixing letters and digits, long hex or digit runs, UUIDs, base64-ish blobs)
/// replaced by `*`. `None` for links without a host (mailto:, data:, relative).
pub fn link_key(link: &Link) -> Option<String> {
    let host = link.host.as_ref()?.to_text();
    let mut key = host.to_ascii_lowercase();
    for segment in link.path.split('/').filter(|s| !s.is_empty()) {
        key.push('/');
        if looks_like_token(segment) {
            key.push('*');
        } else {
            key.push_str(&segment.to_ascii_lowercase());
        }
    }
    Some(key)
}

/// Whether a path segment is more likely an identifier minted per message than a name.
fn looks_like_token(segment: &str) -> bool {
    let len = segment.chars().count();
    let digits = segment.chars().filter(char::is_ascii_digit).count();
    let letters = segment.chars().filter(char::is_ascii_alphabetic).count();
    let hexish = segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let has_dot = segment.contains('.');
    if has_dot {
        // A file name ("shiryo.exe", "2015.pdf"): its stem may still be a token.
        let stem = segment.rsplit_once('.').map_or(segment, |(s, _)| s);
        return stem.len() >= 12 && looks_like_token(stem);
    }
    (len >= 6 && digits > 0 && letters > 0 && digits * 5 >= len)
        || (len >= 8 && hexish && digits > 0)
        || (len >= 5 && digits == len)
        || (len >= 20
            && letters + digits + 2 >= len
            && segment.chars().any(|c| c.is_ascii_uppercase()))
}

/// Reply and forward prefixes, in the languages our mail comes in.
const PREFIXES: &[&str] = &[
    "re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "sv:", "返信:", "転送:", "re：", "fw：",
];

/// A subject reduced for comparison: reply/forward prefixes stripped (repeatedly), bracketed
/// tags such as `【重要】` or `[EXT]` removed, lowercased, digits folded to `0`, runs of
/// spaces and punctuation collapsed.
pub fn subject_skeleton(subject: &str) -> String {
    let mut s = subject.trim().to_lowercase();
    loop {
        let before = s.len();
        for p in PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.trim_start().to_string();
            }
        }
        for (open, close) in [('【', '】'), ('[', ']'), ('［', '］')] {
            if s.starts_with(open)
                && let Some(end) = s.find(close)
            {
                s = s[end + close.len_utf8()..].trim_start().to_string();
            }
        }
        if s.len() == before {
            break;
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(if c.is_numeric() { '0' } else { c });
        } else {
            gap = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sg_message::LinkOrigin;

    fn key(url: &str) -> Option<String> {
        link_key(&Link::parse(url, LinkOrigin::Text, 0, None).expect("a link"))
    }

    #[test]
    fn per_recipient_tokens_are_masked_and_names_kept() {
        let a = key("http://Files.Example.net/uploads/2015/05/k3v9x2qa/shiryo.exe?u=17");
        let b = key("http://files.example.net/uploads/2015/05/p0d8m1zz/shiryo.exe?u=99");
        assert_eq!(a, b);
        assert_eq!(
            a.as_deref(),
            Some("files.example.net/uploads/2015/05/*/shiryo.exe")
        );
        assert_eq!(
            key("https://news.example.org/issues/weekly/latest").as_deref(),
            Some("news.example.org/issues/weekly/latest")
        );
        let u1 = key("https://t.example.com/c/3f2b9c1e-8a4d-4e2b-9f1a-2c3d4e5f6a7b");
        let u2 = key("https://t.example.com/c/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
        assert_eq!(u1, u2);
        assert_ne!(
            key("https://a.example/login"),
            key("https://a.example/logout")
        );
        assert_eq!(key("mailto:x@example.org"), None);
    }

    #[test]
    fn subjects_lose_prefixes_tags_and_numbers() {
        assert_eq!(
            subject_skeleton("Re: RE: Fwd: Invoice 4411"),
            "invoice 0000"
        );
        assert_eq!(
            subject_skeleton("【重要】年金記録の確認について"),
            subject_skeleton("年金記録の確認について")
        );
        assert_eq!(
            subject_skeleton("[EXT] Payroll  update!!"),
            "payroll update"
        );
        assert_eq!(subject_skeleton(""), "");
        assert_eq!(subject_skeleton("【unclosed"), "unclosed");
    }
}
