//! What a message looks like to campaign detection, and when two messages look alike.

use sg_message::Message;
use xxhash_rust::xxh3::xxh3_64;

use crate::simhash::{SimHash, hamming};
use crate::skeleton::{link_key, subject_skeleton};

/// At most this many distinct link keys per message are kept (a newsletter may have hundreds).
const MAX_LINK_KEYS: usize = 32;
/// Texts at most this many bits apart are near-duplicates (unrelated texts average 32 bits
/// apart, σ = 4; a salutation and a link token changed in a short letter move about 9)…
const NEAR_TEXT_BITS: u32 = 10;
/// …when both have at least this many shingles (short texts collide by chance).
const MIN_SHINGLES: u32 = 32;

/// The parts of a message that stay the same across a campaign's variations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// Envelope or From address, lowercased ("" when unknown).
    pub sender: String,
    /// Its registrable domain ("" when unknown).
    pub sender_domain: String,
    /// Normalised link targets with a path ([`link_key`]), sorted, unique.
    pub link_keys: Vec<String>,
    /// Registrable domains of the link hosts, sorted, unique.
    pub link_domains: Vec<String>,
    /// SimHash of the visible text.
    pub text: SimHash,
    /// [`subject_skeleton`] of the Subject.
    pub subject: String,
    /// xxh3 of each attachment's bytes, sorted, unique.
    pub attachments: Vec<u64>,
}

/// Why two fingerprints belong together, strongest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resemblance {
    /// Both carry the same attachment bytes.
    SameAttachment,
    /// Both link to the same target (per-recipient tokens masked).
    SameLinkTarget(String),
    /// Their texts are near-duplicates.
    NearText {
        /// SimHash bits apart.
        distance: u32,
    },
}

impl Fingerprint {
    /// Fingerprints a parsed message; `sender` is the envelope sender when known.
    pub fn of(message: &Message, sender: Option<&str>) -> Fingerprint {
        let from = message.from.as_ref();
        let sender = sender
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase)
            .or_else(|| from.map(|f| f.address.clone()))
            .unwrap_or_default();
        let sender_domain = sg_message::Domain::parse(sender.rsplit('@').next().unwrap_or(""))
            .map(|d| d.registrable().to_string())
            .unwrap_or_default();
        let mut link_keys: Vec<String> = message
            .links
            .iter()
            .filter_map(link_key)
            .filter(|k| k.contains('/'))
            .collect();
        link_keys.sort();
        link_keys.dedup();
        link_keys.truncate(MAX_LINK_KEYS);
        let mut link_domains: Vec<String> = message
            .links
            .iter()
            .filter_map(|l| {
                l.host
                    .as_ref()?
                    .domain()
                    .map(|d| d.registrable().to_string())
            })
            .collect();
        link_domains.sort();
        link_domains.dedup();
        let mut attachments: Vec<u64> = message
            .attachments
            .iter()
            .filter(|a| !a.data.is_empty())
            .map(|a| xxh3_64(&a.data))
            .collect();
        attachments.sort_unstable();
        attachments.dedup();
        Fingerprint {
            sender,
            sender_domain,
            link_keys,
            link_domains,
            text: SimHash::of(&message.text),
            subject: subject_skeleton(&message.subject),
            attachments,
        }
    }

    /// Whether `other` looks like the same mail sent again (to someone else, or with
    /// small changes), and why; `None` when nothing ties them.
    pub fn resembles(&self, other: &Fingerprint) -> Option<Resemblance> {
        if self
            .attachments
            .iter()
            .any(|a| other.attachments.contains(a))
        {
            return Some(Resemblance::SameAttachment);
        }
        if let Some(k) = self.link_keys.iter().find(|k| other.link_keys.contains(k)) {
            return Some(Resemblance::SameLinkTarget(k.clone()));
        }
        // Similar wording alone is common between unrelated businesses (templates, the same
        // greeting and closing): it ties two messages only from the same sender domain or
        // when they also link to a common domain.
        let related = (!self.sender_domain.is_empty() && self.sender_domain == other.sender_domain)
            || self
                .link_domains
                .iter()
                .any(|d| other.link_domains.contains(d));
        let distance = hamming(self.text.bits, other.text.bits);
        let enough = self.text.shingles >= MIN_SHINGLES && other.text.shingles >= MIN_SHINGLES;
        (related && enough && distance <= NEAR_TEXT_BITS)
            .then_some(Resemblance::NearText { distance })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sg_message::Limits;

    fn message(from: &str, to: &str, subject: &str, body: &str) -> Message {
        let raw = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        );
        Message::parse(raw.as_bytes(), &Limits::default()).expect("parses")
    }

    const BODY: &str = "いつもお世話になっております。標記の件につきまして、意見書を作成いたしましたので\
        ご確認ください。資料は以下よりダウンロードいただけます。";

    #[test]
    fn a_wave_resembles_itself_across_names_tokens_subjects_and_senders() {
        let a = message(
            "a1@mail.example",
            "tanaka@org.example",
            "年金制度改正に関する資料の送付",
            &format!("田中 様\n{BODY}\nhttp://files.example.net/up/2015/05/k3v9x2qa/shiryo.exe\n"),
        );
        let b = message(
            "b2@mail.example",
            "sato@org.example",
            "【重要】年金記録の確認について",
            &format!("佐藤 様\n{BODY}\nhttp://files.example.net/up/2015/05/zz81kq0p/shiryo.exe\n"),
        );
        let fa = Fingerprint::of(&a, None);
        let fb = Fingerprint::of(&b, Some("B2@mail.example"));
        assert_eq!(fb.sender, "b2@mail.example");
        assert_eq!(fa.sender_domain, "mail.example");
        assert_eq!(fa.link_domains, ["example.net"]);
        assert_eq!(
            fa.resembles(&fb),
            Some(Resemblance::SameLinkTarget(
                "files.example.net/up/2015/05/*/shiryo.exe".into()
            ))
        );
        // Without the links, the text alone still ties them.
        let (mut ta, mut tb) = (fa.clone(), fb.clone());
        ta.link_keys.clear();
        tb.link_keys.clear();
        assert!(
            matches!(ta.resembles(&tb), Some(Resemblance::NearText { .. })),
            "{} bits apart, {} shingles",
            hamming(ta.text.bits, tb.text.bits),
            ta.text.shingles
        );
    }

    #[test]
    fn unrelated_mail_and_shared_home_pages_do_not_resemble() {
        let a = message(
            "citizen@mail.example",
            "info@org.example",
            "年金の受給開始時期について教えてください",
            "ご担当者様\n先月引っ越したのですが、手続きは必要でしょうか。https://www.portal.example/\n",
        );
        let b = message(
            "other@mail.example",
            "info@org.example",
            "年金手帳を紛失しました",
            "窓口に行く前に必要な書類を知りたいです。どうぞよろしくお願いいたします。https://www.portal.example/\n",
        );
        let (fa, fb) = (Fingerprint::of(&a, None), Fingerprint::of(&b, None));
        assert!(
            fa.link_keys.is_empty(),
            "a bare home page is no campaign key"
        );
        assert_eq!(fa.resembles(&fb), None);
    }
}
