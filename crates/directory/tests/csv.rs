//! CSV directories: the generator's format, quoting, BOM, CRLF, blank lines, and every kind
//! of bad line reported with its number.

use sg_directory::{Directory, DirectoryError, Listing};

const HEADER: &str = "address,name,department,published\r\n";

fn problems(input: &str) -> Vec<String> {
    match Directory::parse_csv(input.as_bytes()) {
        Err(e @ DirectoryError::Invalid { .. }) => {
            e.problems().iter().map(ToString::to_string).collect()
        }
        other => panic!("expected invalid lines, got {other:?}"),
    }
}

#[test]
fn the_generator_format_loads_with_lookups() {
    let input = format!(
        "{HEADER}info@pension.example,info,koho,true\r\n\
         Watanabe-K@Pension.example,Watanabe Kaori,kosei-nenkin,false\r\n\
         s.ito@branch.pension.example,Ito Saki,jinji,false\r\n"
    );
    let dir = Directory::parse_csv(input.as_bytes()).unwrap();
    assert_eq!(dir.len(), 3);
    assert_eq!((dir.published_count(), dir.undisclosed_count()), (1, 2));
    assert_eq!(dir.entries()[1].address, "watanabe-k@pension.example");
    assert!(dir.is_staff("<WATANABE-K@pension.example>"));
    assert_eq!(
        dir.listing("watanabe-k@pension.example"),
        Listing::Undisclosed
    );
    assert!(dir.is_undisclosed("watanabe-k@pension.example"));
    assert!(!dir.is_published("watanabe-k@pension.example"));
    assert!(dir.is_published("info@pension.example"));
    assert_eq!(dir.listing("stranger@pension.example"), Listing::NotListed);
    assert!(!dir.is_published("stranger@pension.example"));
    assert!(!dir.is_undisclosed("stranger@pension.example"));
    assert!(dir.entry("not an address").is_none());
    assert_eq!(
        dir.domains().iter().collect::<Vec<_>>(),
        ["branch.pension.example", "pension.example"]
    );
    assert_eq!(dir.display_names(), ["Watanabe Kaori", "Ito Saki"]);
    assert_eq!(
        dir.entry("s.ito@branch.pension.example")
            .unwrap()
            .department,
        "jinji"
    );
}

#[test]
fn quoting_bom_lf_blank_lines_flag_spellings_and_column_order() {
    let input = "\u{feff}Published, Department ,NAME,address,extra\n\
                 \n\
                 YES,\"Sales, East\",\"Yamada \"\"Taro\"\"\",t.yamada@pension.example,x\n\
                 \x20\x20\n\
                 0,\"two\nlines\",山田 花子,h.yamada@pension.example,\n\
                 No,,,role@pension.example,";
    let dir = Directory::parse_csv(input.as_bytes()).unwrap();
    let e = dir.entries();
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].name, "Yamada \"Taro\"");
    assert_eq!(e[0].department, "Sales, East");
    assert!(e[0].published);
    assert_eq!(e[1].department, "two lines", "line breaks become spaces");
    assert!(!e[1].published && !e[2].published);
    assert_eq!(e[2].name, "");
    assert_eq!(dir.display_names(), ["Yamada \"Taro\"", "山田 花子"]);
}

#[test]
fn every_bad_line_is_reported_with_its_number() {
    let input = format!(
        "{HEADER}a@pension.example,A,x,true\r\n\
         b@pension.example,B,x,maybe\r\n\
         not-an-address,C,x,true\r\n\
         d@pension.example,D,x\r\n\
         \"e@pension.example,E,x,true\r\n"
    );
    let p = problems(&input);
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(
        p[0].starts_with("line 3: published must be true or false"),
        "{}",
        p[0]
    );
    assert!(
        p[1].starts_with("line 4: \"not-an-address\" is not a mail address"),
        "{}",
        p[1]
    );
    assert!(p[2].starts_with("line 5: expected 4 fields"), "{}", p[2]);
    assert!(
        p[3].starts_with("line 6: a quoted field is never closed"),
        "{}",
        p[3]
    );
}

#[test]
fn one_line_with_several_faults_reports_each() {
    let p = problems(&format!("{HEADER}x,\"bell\u{7}\",y,perhaps\r\n"));
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(p.iter().all(|l| l.starts_with("line 2: ")));
}

#[test]
fn duplicates_ignoring_case_name_both_lines() {
    let input = format!(
        "{HEADER}a@pension.example,A,x,true\r\n\
         b@pension.example,B,x,true\r\n\
         A@PENSION.example,A2,y,false\r\n"
    );
    assert_eq!(
        problems(&input),
        ["line 4: duplicate address a@pension.example (first at line 2)"]
    );
}

#[test]
fn header_problems() {
    assert!(problems("")[0].contains("line 1: the file is empty"));
    assert!(problems("\n\n")[0].contains("the file is empty"));
    let p = problems("address,name,published\na@pension.example,A,true\n");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("line 1: the header must name"), "{}", p[0]);
    assert!(p[0].contains("missing department"), "{}", p[0]);
    assert!(problems("address,address,name,department,published\n")[0].contains("twice"));
    // A header alone is an empty directory, not an error.
    assert!(Directory::parse_csv(HEADER.as_bytes()).unwrap().is_empty());
}

#[test]
fn not_utf8_is_named() {
    let mut input = HEADER.as_bytes().to_vec();
    input.extend_from_slice(b"a@pension.example,\x8e\x52\x93\x63,x,true\r\n");
    let err = Directory::parse_csv(&input).unwrap_err();
    assert_eq!(
        err.problems()[0].to_string(),
        "line 2: the name is not valid UTF-8 (save the file as UTF-8)"
    );
}

#[test]
fn problems_are_capped_and_counted() {
    let mut input = HEADER.to_string();
    for i in 0..120 {
        input.push_str(&format!("bad{i},x,y,true\r\n"));
    }
    let err = Directory::parse_csv(input.as_bytes()).unwrap_err();
    assert_eq!(err.problems().len(), sg_directory::MAX_PROBLEMS);
    let text = err.to_string();
    assert!(text.starts_with("120 invalid lines:"), "{text}");
    assert!(text.ends_with("… and 70 more"), "{text}");
}

#[test]
fn the_store_round_trip_keeps_everything() {
    let input =
        format!("{HEADER}a@pension.example,A A,x,true\r\nb@pension.example,B B,y,false\r\n");
    let dir = Directory::parse_csv(input.as_bytes()).unwrap();
    let rows = dir.to_store();
    assert_eq!(rows[1].address, "b@pension.example");
    assert!(!rows[1].published);
    let back = Directory::from_store(&rows);
    assert_eq!(back.entries(), dir.entries());
    assert_eq!(back.domains(), dir.domains());
}
