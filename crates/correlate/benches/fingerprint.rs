//! Cost of fingerprinting a message, against the baseline of parsing it (which every
//! message pays anyway): the campaign step must stay a small fraction of that.

use sg_correlate::Fingerprint;
use sg_message::{Limits, Message};

fn main() {
    divan::main();
}

fn sample() -> Vec<u8> {
    let mut body = String::new();
    for i in 0..40 {
        body.push_str(&format!(
            "Paragraph {i}: いつもお世話になっております。資料は以下よりダウンロードいただけます。 \
             https://files.example.net/uploads/2015/05/k3v9x2q{i}/doc.pdf see the minutes.\r\n"
        ));
    }
    format!(
        "From: Sender <s@mail.example>\r\nTo: a@org.example\r\nSubject: Re: 資料の送付\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
    .into_bytes()
}

#[divan::bench]
fn baseline_parse(bencher: divan::Bencher) {
    let raw = sample();
    let limits = Limits::default();
    bencher.bench(|| Message::parse(divan::black_box(&raw), &limits));
}

#[divan::bench]
fn fingerprint(bencher: divan::Bencher) {
    let msg = Message::parse(&sample(), &Limits::default()).expect("parses");
    bencher.bench(|| Fingerprint::of(divan::black_box(&msg), Some("s@mail.example")));
}
