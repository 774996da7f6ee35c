//! The form of the From header (RFC 5322 §3.6.2): present, one mailbox, an address with a
//! domain, and a display name that is quoted where it must be. Phishing kits get this wrong
//! more often than real mailers do; some errors are deliberate, because clients then show
//! only the name (`Bank, Support <x@evil.example>` displays as "Bank").

use sg_message::Message;

use crate::signal::{Group, Location, Signal, SignalDef};

/// No From header at all.
pub static FROM_MISSING: SignalDef = SignalDef {
    name: "FROM_MISSING",
    score: 1.0,
    group: Group::Sender,
    description: "Message has no From header (RFC 5322 requires one)",
};

/// More than one From mailbox or From field.
pub static FROM_MULTIPLE: SignalDef = SignalDef {
    name: "FROM_MULTIPLE",
    score: 1.0,
    group: Group::Sender,
    description: "From lists more than one mailbox or appears more than once",
};

/// A From header without a usable address.
pub static FROM_MALFORMED: SignalDef = SignalDef {
    name: "FROM_MALFORMED",
    score: 1.0,
    group: Group::Sender,
    description: "From header is malformed: no usable address, or a name part without an address",
};

/// Header-form signals for the From field.
pub(super) fn check(msg: &Message) -> Vec<Signal> {
    let mut out = Vec::new();
    let fields = msg.headers_named("from").count();
    if fields == 0 {
        out.push(Signal::new(&FROM_MISSING, "no From header"));
    } else if msg.from_count > 1 || fields > 1 {
        let summary = format!("{fields} From fields with {} mailboxes", msg.from_count);
        out.push(
            Signal::new(&FROM_MULTIPLE, summary)
                .at(Location::Header("From"))
                .fact("mailboxes", msg.from_count)
                .fact("fields", fields),
        );
    }
    let usable = msg.from.as_ref().is_some_and(|m| m.domain.is_some());
    let Some(raw) = msg.header("from") else {
        return out;
    };
    let malformed = if !usable {
        (!is_bounce_convention(raw))
            .then_some(("no_address", "From header has no address with a domain"))
    } else {
        phrase_without_address(raw).then_some((
            "phrase_without_address",
            "From header has a name part without an address (unquoted comma)",
        ))
    };
    if let Some((reason, summary)) = malformed {
        out.push(
            Signal::new(&FROM_MALFORMED, summary)
                .at(Location::Header("From"))
                .fact("reason", reason),
        );
    }
    out
}

/// MTAs sign bounces as `MAILER-DAEMON`, `Mail Delivery System <>` or a bare `<>` (the
/// null reverse-path, RFC 5321 §4.5.5); that is convention, not a fault.
fn is_bounce_convention(raw: &str) -> bool {
    let v = raw.to_ascii_lowercase();
    let v = v.trim().trim_matches('"');
    v.contains("mailer-daemon")
        || v.contains("postmaster")
        || v.starts_with("mail delivery")
        || v.trim_start_matches(['"', ' ']).starts_with("<>")
}

/// Whether the raw From value has a comma outside quotes, comments and angle brackets that
/// leaves a part with no address: `Bank, Support <x@evil.example>` (RFC 5322 §3.4 wants
/// such a name quoted). Some clients then show only the name part; legitimate mailers quote.
fn phrase_without_address(raw: &str) -> bool {
    let (mut quoted, mut escaped, mut comment, mut angle) = (false, false, 0usize, false);
    let (mut parts, mut part_has_at, mut bare) = (1usize, false, false);
    for c in raw.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if comment == 0 => quoted = !quoted,
            _ if quoted => {}
            '(' => comment += 1,
            ')' => comment = comment.saturating_sub(1),
            _ if comment > 0 => {}
            '<' => angle = true,
            '>' => angle = false,
            '@' => part_has_at = true,
            ',' if !angle => {
                bare |= !part_has_at;
                part_has_at = false;
                parts += 1;
            }
            _ => {}
        }
    }
    parts > 1 && (bare || !part_has_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_comma_leaving_a_bare_name() {
        assert!(phrase_without_address("Bank, Support <x@evil.example>"));
        assert!(phrase_without_address("Team ,_<x@evil.example>"));
        assert!(phrase_without_address(
            "Shop, <a@x.example>, Shop, <a@x.example>"
        ));
    }

    #[test]
    fn quoted_or_commented_commas_and_address_lists_are_fine() {
        assert!(!phrase_without_address("\"Sato, Hanako\" <h@example.jp>"));
        assert!(!phrase_without_address("h@example.jp (Sato, Hanako)"));
        assert!(!phrase_without_address("a@example.com, b@example.net"));
        assert!(!phrase_without_address("Alice <a@example.com>"));
    }

    #[test]
    fn bounce_conventions() {
        assert!(is_bounce_convention("MAILER-DAEMON"));
        assert!(is_bounce_convention("Mail Delivery System <>"));
        assert!(is_bounce_convention("<>"));
        assert!(!is_bounce_convention("\"Facebook\" <>"));
    }
}
