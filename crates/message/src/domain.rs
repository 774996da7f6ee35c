//! Domain names normalised once: IDNA to ASCII, lowercase, and the registrable domain
//! from the Public Suffix List, so analysers compare like with like.

use std::net::IpAddr;

/// A syntactically valid domain name, IDNA-normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain {
    ascii: String,
    unicode: Option<String>,
    registrable_len: usize,
}

impl Domain {
    /// Parses a host name as found in an address or URL; `None` when it cannot be a domain.
    pub fn parse(raw: &str) -> Option<Domain> {
        let raw = raw.trim().trim_end_matches('.');
        if raw.is_empty() || raw.len() > 253 {
            return None;
        }
        let needs_idna = !raw.is_ascii() || raw.contains("xn--") || raw.contains("XN--");
        let ascii = if needs_idna {
            idna::domain_to_ascii(raw).ok()?
        } else {
            raw.to_ascii_lowercase()
        };
        let valid = !ascii.is_empty()
            && ascii.contains('.')
            && ascii
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
            && ascii.split('.').all(|l| !l.is_empty() && l.len() <= 63);
        if !valid {
            return None;
        }
        let unicode = if ascii.contains("xn--") {
            let (u, result) = idna::domain_to_unicode(&ascii);
            result.ok().map(|()| u).filter(|u| *u != ascii)
        } else {
            None
        };
        let registrable_len = psl::domain_str(&ascii).map_or(ascii.len(), str::len);
        Some(Domain {
            ascii,
            unicode,
            registrable_len,
        })
    }

    /// The ASCII (punycode) form, lowercase.
    pub fn as_str(&self) -> &str {
        &self.ascii
    }

    /// The Unicode form when the name is an IDN, else the ASCII form.
    pub fn unicode(&self) -> &str {
        self.unicode.as_deref().unwrap_or(&self.ascii)
    }

    /// Whether any label is punycode (an internationalised name).
    pub fn is_idn(&self) -> bool {
        self.unicode.is_some()
    }

    /// The registrable domain ("example.co.jp" for "www.example.co.jp").
    pub fn registrable(&self) -> &str {
        let start = self.ascii.len().saturating_sub(self.registrable_len);
        self.ascii.get(start..).unwrap_or(&self.ascii)
    }

    /// The last label ("jp" for "www.example.co.jp").
    pub fn tld(&self) -> &str {
        self.ascii.rsplit('.').next().unwrap_or(&self.ascii)
    }

    /// Whether this is `other` or a subdomain of it.
    pub fn is_within(&self, other: &str) -> bool {
        self.ascii == other
            || (self.ascii.ends_with(other)
                && self
                    .ascii
                    .as_bytes()
                    .get(self.ascii.len() - other.len() - 1)
                    == Some(&b'.'))
    }
}

/// The host part of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A domain name.
    Domain(Domain),
    /// An IP literal (IPv4, including the decimal/hex/octal forms browsers accept, or IPv6).
    Ip(IpAddr),
}

impl Host {
    /// The domain, when the host is one.
    pub fn domain(&self) -> Option<&Domain> {
        match self {
            Host::Domain(d) => Some(d),
            Host::Ip(_) => None,
        }
    }

    /// The host as text (ASCII form for domains).
    pub fn to_text(&self) -> String {
        match self {
            Host::Domain(d) => d.as_str().to_string(),
            Host::Ip(ip) => ip.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domain_uses_public_suffix_list() {
        let d = Domain::parse("WWW.Example.CO.JP.").unwrap();
        assert_eq!(d.as_str(), "www.example.co.jp");
        assert_eq!(d.registrable(), "example.co.jp");
        assert_eq!(d.tld(), "jp");
        assert!(!d.is_idn());
    }

    #[test]
    fn unicode_domain_is_converted_to_punycode() {
        let d = Domain::parse("例え.jp").unwrap();
        assert_eq!(d.as_str(), "xn--r8jz45g.jp");
        assert_eq!(d.unicode(), "例え.jp");
        assert!(d.is_idn());
    }

    #[test]
    fn garbage_is_not_a_domain() {
        for bad in ["", "localhost", "a..b", "exa mple.com", "-", "ex@mple.com"] {
            assert!(Domain::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn is_within_requires_label_boundary() {
        let d = Domain::parse("mail.example.org").unwrap();
        assert!(d.is_within("example.org"));
        assert!(!d.is_within("ample.org"));
        assert!(d.is_within("mail.example.org"));
    }
}
