//! The correlator over a small synthetic history and attack, message by message: what a
//! campaign, a first contact and the undisclosed-address alarm look like at arrival, and
//! what ordinary mail (partners, a newsletter, internal announcements, citizens) must not
//! trigger. Names and hosts are made up per test run from a seed, so nothing keys on them.

use sg_correlate::{
    Assessment, CorrelateConfig, Correlator, Fingerprint, Observation, Published, Recipient,
};
use sg_message::{Limits, Message};
use sg_testkit::Rng;

const DAY: i64 = 86_400;

fn word(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b'a' + (rng.below(26) as u8)))
        .collect()
}

struct World {
    rng: Rng,
    org: String,
    correlator: Correlator,
    n: usize,
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let org = format!("{}.example", word(&mut rng, 7));
        World {
            rng,
            org,
            correlator: Correlator::new(CorrelateConfig::default()),
            n: 0,
        }
    }

    fn staff(&self, i: usize) -> Recipient {
        Recipient {
            address: format!("staff{i}@{}", self.org),
            published: if i < 3 { Published::Yes } else { Published::No },
        }
    }

    /// Observes one message; `deliver` says whether the gateway delivered it (history).
    #[allow(clippy::too_many_arguments)]
    fn arrive(
        &mut self,
        at: i64,
        sender: &str,
        freemail: bool,
        internal: bool,
        bulk: bool,
        rcpts: Vec<Recipient>,
        subject: &str,
        body: &str,
        deliver: bool,
    ) -> Assessment {
        self.n += 1;
        let raw = format!(
            "From: {sender}\r\nTo: x@{}\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
            self.org
        );
        let msg = Message::parse(raw.as_bytes(), &Limits::default()).expect("parses");
        let obs = Observation {
            id: format!("m{}", self.n),
            at,
            fingerprint: Fingerprint::of(&msg, Some(sender)),
            freemail,
            internal_sender: internal,
            bulk,
            recipients: rcpts,
        };
        let a = self.correlator.assess(&obs);
        if deliver {
            self.correlator.learn(&obs);
        }
        a
    }
}

const LURE: &str = "いつもお世話になっております。標記の件につきまして、意見書を作成いたしましたので\
    ご確認ください。資料は以下よりダウンロードいただけます。ご多忙のところ恐縮ですが、よろしくお願いいたします。";

fn run(seed: u64) {
    let mut w = World::new(seed);
    let provider = format!("{}.example", word(&mut w.rng, 6));
    let partner = format!("{}.example", word(&mut w.rng, 8));
    let news = format!("{}.example", word(&mut w.rng, 5));
    let link_host = format!("www.{}.example", word(&mut w.rng, 9));
    let t0 = 1_431_000_000;

    // Two weeks of ordinary mail from day -14: partners (a new person each time) to
    // undisclosed contacts, a newsletter to undisclosed subscribers, citizens to the public
    // address, an internal all-staff announcement.
    for day in -14..0 {
        let at = t0 + day * DAY;
        for k in 0..3 {
            let who = word(&mut w.rng, 6);
            let pick = 10 + w.rng.below(20);
            let to = w.staff(pick);
            let n = w.rng.below(900) + 100;
            let body = format!(
                "お世話になっております。{who}です。議事録をお送りします。 https://{partner}/minutes/{n}"
            );
            let a = w.arrive(
                at + k * 600,
                &format!("{who}@{partner}"),
                false,
                false,
                false,
                vec![to],
                "議事録の送付",
                &body,
                true,
            );
            assert!(
                a.leak.is_none() && a.campaign.is_none(),
                "partner mail on day {day}: {a:?}"
            );
        }
        if day % 3 == 0 {
            let subs: Vec<Recipient> = (40..60).map(|i| w.staff(i)).collect();
            for (k, to) in subs.into_iter().enumerate() {
                let a = w.arrive(at + 3600 + k as i64, &format!("bounce@mail.{news}"), false, false, true, vec![to],
                    &format!("News issue {}", 300 + day), &format!("Issue {} headlines: pension committee meets. Read more https://{news}/issues/{} unsubscribe https://{news}/unsubscribe", 300 + day, 300 + day), true);
                assert!(
                    a.leak.is_none() && a.campaign.is_none(),
                    "newsletter: {a:?}"
                );
            }
        }
        let citizen = format!("{}{}@{provider}", word(&mut w.rng, 5), w.rng.below(999));
        let public = w.staff(0);
        let a = w.arrive(
            at + 7200,
            &citizen,
            true,
            false,
            false,
            vec![public],
            "年金手帳を紛失しました",
            "窓口に行く前に必要な書類を知りたいです。どうぞよろしくお願いいたします。",
            true,
        );
        assert!(a.leak.is_none() && a.campaign.is_none(), "citizen: {a:?}");
        if day % 4 == 0 {
            let everyone: Vec<Recipient> = (0..60).map(|i| w.staff(i)).collect();
            let sender = format!("somu@{}", w.org);
            let a = w.arrive(
                at + 9000,
                &sender,
                false,
                true,
                false,
                everyone,
                "システムメンテナンスのお知らせ",
                "職員各位 詳細はイントラネットをご確認ください。総務部",
                true,
            );
            assert!(
                a.leak.is_none() && a.campaign.is_none(),
                "announcement: {a:?}"
            );
            assert!(
                a.first_contact.is_none(),
                "internal senders are never first contacts"
            );
        }
    }

    // A restart between the history and the attack: the state survives a snapshot.
    let snapshot = w.correlator.snapshot();
    assert!(snapshot.len() > 100);
    w.correlator = Correlator::restore(CorrelateConfig::default(), &snapshot).expect("restore");
    let partner_seen = w
        .correlator
        .history()
        .domain(&partner)
        .expect("partner domain known");
    assert_eq!(partner_seen.count, 42, "3 partner mails a day for 14 days");
    assert!(
        w.correlator.history().domain(&provider).is_none(),
        "free-mail domains teach nothing"
    );

    // Wave 1: one free-mail message with a link to the public address; tagged, not delivered.
    let attacker = format!("{}@{provider}", word(&mut w.rng, 10));
    let public = w.staff(1);
    let a = w.arrive(
        t0 + 3600,
        &attacker,
        true,
        false,
        false,
        vec![public],
        "意見",
        &format!("ご担当者 様\n{LURE}\nhttp://{link_host}/uploads/2015/05/mitoshi-iken.exe"),
        false,
    );
    let fc = a.first_contact.expect("outside sender");
    assert!(
        fc.sender && !fc.domain,
        "free mail: the address is new, the domain says nothing"
    );
    assert!(a.leak.is_none(), "the public address is no leak");

    // Wave 2, ten days later: the same account to undisclosed addresses, one per minute,
    // each with its own link token and a subject from a small set.
    let subjects = [
        "年金制度改正に関する資料の送付",
        "【重要】年金記録の確認について",
        "医療費通知の送付について",
    ];
    let mut first_leak = None;
    let mut campaign_at = None;
    let mut ids = Vec::new();
    for k in 0..12 {
        let token = word(&mut w.rng, 8) + &w.rng.below(99).to_string();
        let to = w.staff(100 + k);
        let subject = subjects[w.rng.below(3)];
        let a = w.arrive(
            t0 + 10 * DAY + k as i64 * 60,
            &attacker,
            true,
            false,
            false,
            vec![to.clone()],
            subject,
            &format!(
                "staff{} 様\n{LURE}\nhttp://{link_host}/uploads/2015/05/{token}/shiryo.exe",
                100 + k
            ),
            false,
        );
        ids.push(format!("m{}", w.n));
        assert_eq!(a.undisclosed, vec![to.address.clone()]);
        if let Some(leak) = &a.leak {
            first_leak.get_or_insert(k);
            assert_eq!(leak.sender, attacker);
            assert_eq!(leak.escalated, k >= 1);
        }
        match (&a.campaign, campaign_at) {
            (Some(c), None) => {
                campaign_at = Some(k);
                assert_eq!(
                    c.clawback,
                    ids[..ids.len() - 1].to_vec(),
                    "earlier members are clawed back"
                );
            }
            (Some(c), Some(_)) => assert!(c.clawback.is_empty()),
            (None, Some(_)) => panic!("wave-2 message {k} left the campaign"),
            (None, None) => {}
        }
    }
    assert_eq!(
        first_leak,
        Some(0),
        "a history-less free-mail sender at an undisclosed address"
    );
    // Wave 1 went to a published address and the K = 3 recipients come from wave 2.
    assert!(
        campaign_at.is_some_and(|k| k <= 2),
        "campaign recognised at wave-2 message {campaign_at:?}"
    );

    // After the attack, a partner keeps writing and a new partner domain writes once: no alarm.
    let newcomer = format!("{}@{}.example", word(&mut w.rng, 5), word(&mut w.rng, 7));
    let contact = w.staff(30);
    let a = w.arrive(
        t0 + 11 * DAY,
        &newcomer,
        false,
        false,
        false,
        vec![contact],
        "ご挨拶",
        "はじめまして。新しく担当になりました。今後ともよろしくお願いいたします。",
        true,
    );
    assert!(a.first_contact.is_some_and(|f| f.sender && f.domain));
    assert_eq!(a.undisclosed, vec![w.staff(30).address]);
    assert!(
        a.leak.is_none(),
        "one business first contact to one address is no leak: {a:?}"
    );
}

#[test]
fn the_attack_is_seen_and_ordinary_mail_is_not_across_seeds() {
    for seed in [1, 2, 3, 2015, 99_991] {
        run(seed);
    }
}
