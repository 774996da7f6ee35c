//! Field values: addresses, yes/no flags and free text, checked and normalised.

/// The address in canonical form (trimmed, lowercase), or why it is not a mail address.
///
/// Deliberately plain: `local@domain` with no spaces, quotes, angle brackets or control
/// characters, a non-empty local part, and a domain of dot-separated labels (letters, digits,
/// `-`, `_` or non-ASCII). A directory lists mailboxes, not RFC 5322 curiosities.
pub fn normalise_address(raw: &str) -> Result<String, String> {
    let a = raw.trim();
    if a.is_empty() {
        return Err("the address is empty".into());
    }
    let Some((local, domain)) = a.rsplit_once('@') else {
        return Err(format!("{} is not a mail address (no @)", shown(a)));
    };
    if local.is_empty() {
        return Err(format!("{} has nothing before the @", shown(a)));
    }
    if local.len() > 64 {
        return Err(format!("{} has a local part over 64 bytes", shown(a)));
    }
    if let Some(c) = local
        .chars()
        .find(|&c| c == '@' || c.is_whitespace() || c.is_control() || "\"<>(),;:[]\\".contains(c))
    {
        return Err(format!("{} has {c:?} in its local part", shown(a)));
    }
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() || domain.len() > 253 {
        return Err(format!("{} has no valid domain", shown(a)));
    }
    for label in domain.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii());
        if !ok || label.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{} has an invalid domain", shown(a)));
        }
    }
    Ok(format!("{local}@{domain}").to_lowercase())
}

/// The domain part of an already normalised address.
pub(crate) fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// `true|false|1|0|yes|no` (any case, surrounding spaces ignored); LDAP's `TRUE`/`FALSE` too.
pub fn parse_flag(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!(
            "published must be true or false (or 1/0, yes/no), found {}",
            shown(raw)
        )),
    }
}

/// Longest name or department accepted, in characters.
const MAX_TEXT: usize = 256;

/// A name or department: runs of white space (line breaks, tabs included) become one
/// space; other control characters are an error.
pub(crate) fn text(what: &str, raw: &str) -> Result<String, String> {
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().any(char::is_control) {
        return Err(format!("the {what} contains a control character"));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(format!("the {what} is longer than {MAX_TEXT} characters"));
    }
    Ok(t)
}

/// A value quoted for an error message, cut to a readable length.
pub(crate) fn shown(raw: &str) -> String {
    const MAX: usize = 60;
    if raw.chars().count() <= MAX {
        format!("{raw:?}")
    } else {
        let cut: String = raw.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            normalise_address(" Taro.Yamada@Pension.Example. ").unwrap(),
            "taro.yamada@pension.example"
        );
        assert_eq!(normalise_address("総務@例え.jp").unwrap(), "総務@例え.jp");
        for bad in [
            "",
            "nobody",
            "@pension.example",
            "a@",
            "a b@pension.example",
            "a@b@pension.example",
            "<a@pension.example>",
            "a@pension..example",
            "a@-pension.example",
            "a@pen sion.example",
            "a\0@pension.example",
        ] {
            assert!(normalise_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn flags() {
        for (raw, want) in [
            ("true", true),
            (" TRUE ", true),
            ("1", true),
            ("Yes", true),
            ("false", false),
            ("0", false),
            ("NO", false),
        ] {
            assert_eq!(parse_flag(raw), Ok(want), "{raw}");
        }
        for bad in ["", "maybe", "2", "t", "oui"] {
            assert!(parse_flag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(500);
        assert!(shown(&long).len() < 80);
        assert!(text("name", "a\u{7}b").is_err());
        assert_eq!(text("name", "  山田 太郎 ").unwrap(), "山田 太郎");
        assert_eq!(text("name", "Yamada\r\n\tTaro").unwrap(), "Yamada Taro");
    }
}
