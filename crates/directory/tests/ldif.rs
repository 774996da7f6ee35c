//! LDIF directories: folding, base64, attribute choice, the published attribute, and refusals.

use sg_directory::{Directory, LdifOptions, Listing};

const EXPORT: &str = "version: 1\n\
\n\
# the organisation itself has no mail: skipped\n\
dn: ou=jinji,dc=pension,dc=example\n\
objectClass: organizationalUnit\n\
ou: jinji\n\
\n\
dn: uid=t.yamada,ou=jinji,dc=pension,dc=example\n\
cn: Taro Yamada\n\
displayName:: 5bGx55SwIOWkqumDjg==\n\
ou: jinji\n\
mail: T.Yamada@pension.example\n\
mail: yamada@pension.example\n\
spearguardPublished: FALSE\n\
jpegPhoto:: /9j/4AAQ\n\
\n\
dn: uid=h.sato,ou=koho,dc=pension,dc=exam\n\
\x20ple\n\
cn;lang-ja: 佐藤 花子\n\
cn: Hanako Sato\n\
departmentNumber: 042\n\
mail: h.sato@pen\n\
\x20sion.example\n";

fn opts(attr: Option<&str>) -> LdifOptions {
    LdifOptions {
        published_attribute: attr.map(str::to_string),
    }
}

#[test]
fn an_export_loads_one_entry_per_mail() {
    let dir = Directory::parse_ldif(EXPORT.as_bytes(), &opts(Some("spearguardpublished"))).unwrap();
    let e = dir.entries();
    assert_eq!(e.len(), 3, "{e:#?}");
    assert_eq!(e[0].address, "t.yamada@pension.example");
    assert_eq!(e[0].name, "山田 太郎", "displayName (base64) wins over cn");
    assert_eq!(e[0].department, "jinji");
    assert!(!e[0].published);
    assert_eq!(e[1].address, "yamada@pension.example");
    assert!(!e[1].published);
    assert_eq!(
        e[2].address, "h.sato@pension.example",
        "folded value joined"
    );
    assert_eq!(e[2].name, "Hanako Sato", "cn without options preferred");
    assert_eq!(e[2].department, "042");
    assert!(e[2].published, "no attribute on the entry: published");
    assert_eq!(dir.listing("Yamada@pension.example"), Listing::Undisclosed);
}

#[test]
fn without_a_published_attribute_everything_is_published() {
    let dir = Directory::parse_ldif(EXPORT.as_bytes(), &LdifOptions::default()).unwrap();
    assert_eq!(dir.undisclosed_count(), 0);
    assert_eq!(dir.display_names(), ["山田 太郎", "Hanako Sato"]);
}

#[test]
fn bad_records_are_reported_by_line() {
    let input = "dn: uid=a\n\
mail: a@pension.example\n\
flag: perhaps\n\
\n\
mail: orphan@pension.example\n\
\n\
dn: uid=b\n\
changetype: add\n\
mail: b@pension.example\n\
\n\
dn: uid=c\n\
mail:: !!!!\n\
photo:< file:///etc/passwd\n\
no colon here\n\
\n\
dn: uid=d\n\
mail: d@pension.example\n\
mail: D@pension.example\n\
\n\
\x20stray continuation\n";
    let err = Directory::parse_ldif(input.as_bytes(), &opts(Some("FLAG"))).unwrap_err();
    let p: Vec<String> = err.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        p,
        [
            "line 3: published must be true or false (or 1/0, yes/no), found \"perhaps\"",
            "line 5: a record must start with dn:",
            "line 8: change records (changetype) are not supported: export the entries as content records",
            "line 12: the mail:: value is not valid base64",
            "line 13: URL values (photo:<) are not supported",
            "line 14: expected attribute: value",
            "line 18: duplicate address d@pension.example (first at line 17)",
            "line 20: a continuation line (starting with a space) with nothing to continue",
        ]
    );
}

#[test]
fn crlf_and_bom_are_fine() {
    let input = "\u{feff}dn: uid=a\r\ncn: A Person\r\nmail: a@pension.example\r\n";
    let dir = Directory::parse_ldif(input.as_bytes(), &LdifOptions::default()).unwrap();
    assert_eq!(dir.entries()[0].name, "A Person");
}
