//! The per-link checks behind each signal.

use sg_message::{Host, Link, LinkOrigin, Message};

use super::files::FileKind;
use super::tally::{Sender, Tallies};
use super::*;
use crate::analyser::Context;
use crate::signal::{Location, Signal};

/// Weight of a mismatch whose text is a bare name ("Example.com") rather than an address.
const BARE_SHOWN_WEIGHT: f32 = 0.7;
/// Weight of a mismatch between two domains with the same name under different suffixes.
const SAME_NAME_WEIGHT: f32 = 0.3;
/// Weight of a mismatch whose text shows the sender's own domain.
const SENDER_SHOWN_WEIGHT: f32 = 0.5;
/// Weight of a `javascript:` link in the message body: mail clients do not run it; a
/// browser opening an attached page does.
const BODY_SCRIPT_WEIGHT: f32 = 0.5;
/// Weight of a host written in styled Unicode (𝚎𝚡𝚊𝚖𝚙𝚕𝚎.com) or percent escapes that a
/// browser folds to plain ASCII: hides the host from filters, imitates nothing in particular.
const STYLED_HOST_WEIGHT: f32 = 0.8;
/// Weight of a link written out in plain text: the reader sees where it goes.
const VISIBLE_WEIGHT: f32 = 0.5;
/// Weight of an external form without a password field (search boxes in newsletters).
const FORM_NO_PASSWORD_WEIGHT: f32 = 0.3;

impl LinksAnalyser {
    /// Checks that need only the host (and path): IP, lists, TLD, look-alikes. `target` is a
    /// link, or the destination embedded in a redirect link (`via_redirect`), whose findings
    /// point at the outer link `i`.
    pub(super) fn host(
        &self,
        t: &mut Tallies,
        target: &Link,
        i: usize,
        via_redirect: bool,
        cx: &Context<'_>,
        lookalike: bool,
    ) {
        let via = if via_redirect {
            " behind a redirect"
        } else {
            ""
        };
        let d = match &target.host {
            Some(Host::Domain(d)) => d,
            Some(Host::Ip(ip)) => {
                if is_public(ip) {
                    let weight = if target.origin == LinkOrigin::Text {
                        VISIBLE_WEIGHT
                    } else {
                        1.0
                    };
                    t.ip.add(weight, || {
                        Signal::new(&LINK_IP_HOST, format!("link goes to IP address {ip}{via}"))
                            .at(Location::Link(i))
                            .fact("host", ip)
                    });
                }
                return;
            }
            None => return,
        };
        let name = d.as_str();
        if self.shorteners.contains(name) {
            t.shortener.add(1.0, || {
                Signal::new(
                    &LINK_SHORTENER,
                    format!("link goes through shortener {name}{via}"),
                )
                .at(Location::Link(i))
                .fact("host", name)
            });
        }
        if self.free_hosting.matches(name, &target.path) {
            t.free_hosting.add(1.0, || {
                Signal::new(
                    &LINK_FREE_HOSTING,
                    format!("link goes to a page hosted on {}{via}", d.registrable()),
                )
                .at(Location::Link(i))
                .fact("host", name)
            });
        }
        if self.suspicious_tlds.contains(d.tld()) {
            t.tld.add(1.0, || {
                Signal::new(
                    &LINK_SUSPICIOUS_TLD,
                    format!("link goes to {name} under .{}{via}", d.tld()),
                )
                .at(Location::Link(i))
                .fact("tld", d.tld())
            });
        }
        if !lookalike {
            return;
        }
        let found = self.protected.imitation(d, cx.org).or_else(|| {
            (!via_redirect && lookalike::styled_authority(&target.raw, d)).then(|| {
                lookalike::Imitation {
                    target: name.to_string(),
                    how: "styled_characters",
                    weight: STYLED_HOST_WEIGHT,
                }
            })
        });
        if let Some(found) = found {
            t.confusable.add(found.weight, || {
                Signal::new(
                    &LINK_CONFUSABLE_HOST,
                    format!(
                        "link host {} imitates {} ({}){via}",
                        d.unicode(),
                        found.target,
                        found.how.replace('_', " ")
                    ),
                )
                .at(Location::Link(i))
                .fact("host", name)
                .fact("imitates", &found.target)
                .fact("how", found.how)
            });
        }
    }

    pub(super) fn download(&self, t: &mut Tallies, link: &Link, i: usize) {
        let Some((kind, name)) = self.files.find(link) else {
            return;
        };
        let (tally, def, weight) = match kind {
            FileKind::Executable => (&mut t.executable, &LINK_EXECUTABLE, 1.0),
            // A source tarball pasted into a mailing-list post is no disguise.
            FileKind::Archive if link.origin == LinkOrigin::Text => {
                (&mut t.archive, &LINK_ARCHIVE, VISIBLE_WEIGHT)
            }
            FileKind::Archive => (&mut t.archive, &LINK_ARCHIVE, 1.0),
        };
        tally.add(weight, || {
            Signal::new(def, format!("link downloads {name}"))
                .at(Location::Link(i))
                .fact("file", name)
                .fact("host", host_text(link))
        });
    }

    pub(super) fn javascript(&self, t: &mut Tallies, link: &Link, i: usize) {
        let weight = if link.origin == LinkOrigin::Attachment {
            1.0
        } else {
            BODY_SCRIPT_WEIGHT
        };
        t.javascript.add(weight, || {
            Signal::new(&LINK_JAVASCRIPT, "link runs javascript: code").at(Location::Link(i))
        });
    }

    pub(super) fn data_uri(&self, t: &mut Tallies, link: &Link, i: usize) {
        let media = data_media_type(&link.raw);
        let image = media
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("image/"));
        // Inline pictures are content; a page, script or SVG (which can script) is not.
        if image && !media.eq_ignore_ascii_case("image/svg+xml") {
            return;
        }
        t.data.add(1.0, || {
            let shown = if media.is_empty() {
                "text/plain".to_string()
            } else {
                media.to_ascii_lowercase()
            };
            Signal::new(
                &LINK_DATA_URI,
                format!("link is a data: URI holding {shown}"),
            )
            .at(Location::Link(i))
            .fact("media_type", &shown)
        });
    }

    pub(super) fn userinfo(&self, t: &mut Tallies, link: &Link, i: usize) {
        let Some(user) = link.userinfo.as_deref() else {
            return;
        };
        if user.is_empty() {
            return;
        }
        let host = host_text(link);
        // The user name may be the recipient's address: only a host name is shown.
        match shown::domain_like_prefix(user) {
            Some(fake) => t.userinfo.add(1.0, || {
                Signal::new(
                    &LINK_USERINFO,
                    format!("link shows {fake} before '@' but goes to {host}"),
                )
                .at(Location::Link(i))
                .fact("shown", fake)
                .fact("host", host)
            }),
            None => t.userinfo.add(0.6, || {
                Signal::new(
                    &LINK_USERINFO,
                    format!("link to {host} carries a user name"),
                )
                .at(Location::Link(i))
                .fact("host", host)
            }),
        }
    }

    pub(super) fn mismatch(
        &self,
        t: &mut Tallies,
        link: &Link,
        i: usize,
        sender: &Sender<'_>,
        cx: &Context<'_>,
    ) {
        if !matches!(link.origin, LinkOrigin::Anchor | LinkOrigin::Attachment) {
            return;
        }
        let (Some(text), Some(target)) = (link.text.as_deref(), link.host.as_ref()) else {
            return;
        };
        let Some(shown) = shown::shown_host(text, &self.files) else {
            return;
        };
        if !shown::differs(&shown.host, target) {
            return;
        }
        if let Host::Domain(d) = target {
            // The sender's own redirector or tracker, or the organisation's: not a disguise.
            if sender.owns(d, cx) {
                return;
            }
        }
        // A wrapper (safe-links rewriter, click tracker) whose embedded target is the shown site.
        let shown_name = shown::registrable_text(&shown.host);
        if shown::embeds_host(&link.query, &shown_name)
            || shown::embeds_host(&link.path, &shown_name)
        {
            return;
        }
        // Showing the sender's own site over a third-party link is how mailing services track
        // clicks (shop.example → list-manage, sendgrid …); phishers mostly show someone else's.
        let own_site = sender.registrable == Some(shown_name.as_str());
        // amazon.com shown over amazon.co.jp: one owner, many suffixes.
        let same_name = match (&shown.host, target) {
            (Host::Domain(a), Host::Domain(b)) => {
                lookalike::registrable_label(a) == lookalike::registrable_label(b)
            }
            _ => false,
        };
        let weight = if same_name {
            SAME_NAME_WEIGHT
        } else if own_site {
            SENDER_SHOWN_WEIGHT
        } else if shown.explicit {
            1.0
        } else {
            BARE_SHOWN_WEIGHT
        };
        let target_text = host_text(link);
        t.mismatch.add(weight, || {
            Signal::new(
                &LINK_TEXT_HOST_MISMATCH,
                format!("link text shows {shown_name}, link goes to {target_text}"),
            )
            .at(Location::Link(i))
            .fact("shown", &shown_name)
            .fact("host", &target_text)
        });
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn form(
        &self,
        t: &mut Tallies,
        msg: &Message,
        link: &Link,
        host: &Host,
        i: usize,
        sender: &Sender<'_>,
        cx: &Context<'_>,
    ) {
        if let Host::Domain(d) = host
            && sender.owns(d, cx)
        {
            return;
        }
        let password = msg
            .html
            .iter()
            .any(|h| h.part == link.part && h.password_input);
        let weight = if password {
            1.0
        } else {
            FORM_NO_PASSWORD_WEIGHT
        };
        let target = host_text(link);
        t.form.add(weight, || {
            let what = if password {
                "form with a password field"
            } else {
                "form"
            };
            Signal::new(&LINK_FORM_EXTERNAL, format!("{what} submits to {target}"))
                .at(Location::Link(i))
                .fact("host", &target)
                .fact("password", password)
        });
    }
}

/// The link's host as text (Unicode form for IDNs, so a person sees what the reader saw).
fn host_text(link: &Link) -> String {
    match &link.host {
        Some(Host::Domain(d)) => d.unicode().to_string(),
        Some(Host::Ip(ip)) => ip.to_string(),
        None => String::new(),
    }
}

/// The destination a redirect link carries in its query or path
/// (`https://www.search.example/url?q=https://evil.example/`), when it is another host.
pub(super) fn redirect_target(link: &Link) -> Option<Link> {
    let find = |s: &str| {
        let lower_at = |p: &str| {
            s.as_bytes()
                .windows(p.len())
                .position(|w| w.eq_ignore_ascii_case(p.as_bytes()))
        };
        lower_at("https://").or_else(|| lower_at("http://"))
    };
    let (hay, at) = [link.query.as_str(), link.path.as_str()]
        .into_iter()
        .find_map(|s| find(s).map(|at| (s, at)))?;
    let rest = hay.get(at..)?;
    let end = rest.find(['&', ' ']).unwrap_or(rest.len());
    let inner = Link::parse(rest.get(..end)?, link.origin, link.part, None)?;
    let other = match (&inner.host, &link.host) {
        (Some(Host::Domain(a)), Some(Host::Domain(b))) => a.registrable() != b.registrable(),
        (Some(a), Some(b)) => a != b,
        _ => false,
    };
    other.then_some(inner)
}

/// Whether an IP could host a page for anyone: private, loopback and link-local ones cannot.
fn is_public(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast())
        }
        std::net::IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local, RFC 4193
                || (first & 0xffc0) == 0xfe80) // link-local
        }
    }
}

/// The media type of a `data:` URI as written ("" when absent).
fn data_media_type(raw: &str) -> &str {
    let rest = raw.get(5..).unwrap_or_default();
    let end = rest.find([';', ',']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_media_type_is_read_before_parameters() {
        assert_eq!(data_media_type("data:text/html;base64,PGh0"), "text/html");
        assert_eq!(data_media_type("data:,hello"), "");
        assert_eq!(data_media_type("data:image/png,xx"), "image/png");
        assert_eq!(data_media_type("data:"), "");
    }

    #[test]
    fn private_and_loopback_addresses_are_not_public() {
        for ip in [
            "10.0.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
        ] {
            assert!(!is_public(&ip.parse().unwrap()), "{ip}");
        }
        for ip in ["192.0.2.7", "198.51.100.1", "2001:db8::1"] {
            assert!(is_public(&ip.parse().unwrap()), "{ip}");
        }
    }

    fn link(url: &str) -> Link {
        Link::parse(url, LinkOrigin::Anchor, 0, None).unwrap()
    }

    #[test]
    fn redirect_targets_on_other_hosts_are_found() {
        let inner = redirect_target(&link(
            "https://www.search.example/url?q=https://evil.example/a&sa=D",
        ));
        assert_eq!(
            inner.and_then(|l| l.host).map(|h| h.to_text()).as_deref(),
            Some("evil.example")
        );
        let inner = redirect_target(&link("https://r.example/CL0/https:%2F%2Fbad.example%2Fx/1"));
        assert_eq!(
            inner.and_then(|l| l.host).map(|h| h.to_text()).as_deref(),
            Some("bad.example")
        );
        assert!(redirect_target(&link("https://a.example/r?u=https://www.a.example/x")).is_none());
        assert!(redirect_target(&link("https://a.example/r?u=example.org")).is_none());
    }
}
