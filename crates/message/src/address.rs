//! Mailboxes from address headers: display name, address and its domain.

use crate::domain::Domain;

/// One mailbox from From, Reply-To, To, Cc or Sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Mailbox {
    /// Display name, decoded, trimmed; `None` when absent or empty.
    pub name: Option<String>,
    /// The address as written, lowercased (may be malformed).
    pub address: String,
    /// Domain of the address, when it has a syntactically usable one.
    pub domain: Option<Domain>,
}

impl Mailbox {
    /// Builds a mailbox from a display name and an address as found in a header.
    pub fn new(name: Option<&str>, address: &str) -> Self {
        let name = name
            .map(|n| n.trim().trim_matches('"').trim().to_string())
            .filter(|n| !n.is_empty());
        let address = address.trim().trim_matches(['<', '>']).to_lowercase();
        let domain = address
            .rsplit_once('@')
            .and_then(|(local, host)| (!local.is_empty()).then_some(host))
            .and_then(Domain::parse);
        Self {
            name,
            address,
            domain,
        }
    }

    /// The local part (before the last `@`), or the whole address when there is none.
    pub fn local_part(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or(self.address.as_str(), |(l, _)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_lowercased_and_domain_parsed() {
        let m = Mailbox::new(Some(" \"Alice\" "), "<Alice@Mail.Example.CO.JP>");
        assert_eq!(m.name.as_deref(), Some("Alice"));
        assert_eq!(m.address, "alice@mail.example.co.jp");
        assert_eq!(
            m.domain.as_ref().map(|d| d.registrable()),
            Some("example.co.jp")
        );
        assert_eq!(m.local_part(), "alice");
    }

    #[test]
    fn address_without_at_has_no_domain() {
        assert!(
            Mailbox::new(None, "undisclosed-recipients")
                .domain
                .is_none()
        );
        assert!(Mailbox::new(None, "@example.org").domain.is_none());
    }
}
