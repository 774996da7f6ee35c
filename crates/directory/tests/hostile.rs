//! Random and mutated bytes never panic either parser, and whatever loads is consistent.

use sg_directory::{Directory, LdifOptions};
use sg_testkit::Rng;

const CSV: &[u8] = b"address,name,department,published\r\n\
a@pension.example,\"Yamada, Taro\",jinji,true\r\n\
b@pension.example,\"say \"\"hi\"\"\",koho,false\r\n";
const LDIF: &[u8] =
    b"version: 1\n\ndn: uid=a\ncn:: 5bGx55Sw\nmail: a@pension.ex\n ample\nflag: TRUE\n";

/// Bytes that matter to the parsers, so mutations hit the interesting paths.
const SPECIAL: &[u8] = b"\",\r\n :<#=@\xef\xbb\xbf\x00\xff";

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..=rng.below(6) {
        let at = rng.below(v.len() + 1);
        match rng.below(4) {
            0 if !v.is_empty() => {
                v.remove(at.min(v.len() - 1));
            }
            1 => v.insert(at, SPECIAL[rng.below(SPECIAL.len())]),
            2 => v.insert(at, rng.next_u64() as u8),
            _ => {
                let from = rng.below(v.len() + 1);
                let chunk: Vec<u8> = v[from..].iter().take(rng.below(20)).copied().collect();
                v.splice(at..at, chunk);
            }
        }
    }
    v
}

fn check(dir: &Directory) {
    assert_eq!(dir.published_count() + dir.undisclosed_count(), dir.len());
    for e in dir.entries() {
        assert!(dir.is_staff(&e.address), "{e:?} findable");
        assert_eq!(e.address, e.address.to_lowercase());
        assert!(
            dir.domains()
                .iter()
                .any(|d| e.address.ends_with(d.as_str()))
        );
    }
}

#[test]
fn mutated_and_random_inputs_never_panic() {
    let mut rng = Rng::new(0x5eed_d1ec);
    let ldif = LdifOptions {
        published_attribute: Some("flag".into()),
    };
    for round in 0..20_000 {
        let input = match round % 3 {
            0 => mutate(&mut rng, CSV),
            1 => mutate(&mut rng, LDIF),
            _ => {
                let n = rng.below(200);
                rng.bytes(n)
            }
        };
        if let Ok(dir) = Directory::parse_csv(&input) {
            check(&dir);
        }
        if let Ok(dir) = Directory::parse_ldif(&input, &ldif) {
            check(&dir);
        }
    }
}

#[test]
fn errors_on_hostile_input_stay_small() {
    // A megabyte of quotes and commas: one unterminated field, one short message.
    let input: Vec<u8> = b"address,name,department,published\n\""
        .iter()
        .copied()
        .chain(std::iter::repeat_n(b',', 1 << 20))
        .collect();
    let err = Directory::parse_csv(&input).unwrap_err();
    assert!(err.to_string().len() < 200, "{err}");
    let long = format!(
        "address,name,department,published\n{}@x,a,b,true\n",
        "\u{3042}".repeat(100_000)
    );
    let err = Directory::parse_csv(long.as_bytes()).unwrap_err();
    assert!(err.to_string().len() < 300, "{err}");
}
