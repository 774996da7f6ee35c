//! The headers spearguard adds to delivered mail, so users and downstream filters see the
//! verdict: `X-Spearguard-Verdict`, `X-Spearguard-Score`, `X-Spearguard-Signals`.

use sg_detect::Report;

/// Longest signal list written into a header (folded), in bytes.
const MAX_SIGNALS_LEN: usize = 900;

/// The names of the verdict headers, in the order they are written.
pub(crate) const VERDICT_HEADER_NAMES: [&str; 3] = [
    "X-Spearguard-Verdict",
    "X-Spearguard-Score",
    "X-Spearguard-Signals",
];

/// The verdict headers as (name, value) pairs; `fold` (`"\r\n\t"` in a message, `"\n\t"`
/// for a milter) breaks the signal list into lines.
pub(crate) fn verdict_fields(report: &Report, fold: &str) -> [(&'static str, String); 3] {
    let mut signals = String::new();
    for s in &report.signals {
        let item = format!("{}({:+.1})", s.name, s.score);
        if signals.len() + item.len() + 2 > MAX_SIGNALS_LEN {
            signals.push_str(", …");
            break;
        }
        if !signals.is_empty() {
            signals.push(',');
            signals.push_str(fold);
        }
        signals.push_str(&item);
    }
    if signals.is_empty() {
        signals.push_str("none");
    }
    let [verdict, score, list] = VERDICT_HEADER_NAMES;
    [
        (verdict, report.verdict.to_string()),
        (score, format!("{:.2}", report.score)),
        (list, signals),
    ]
}

/// The header block to prepend to a delivered message (CRLF line endings).
pub(crate) fn verdict_headers(report: &Report) -> String {
    let mut out = String::new();
    for (name, value) in verdict_fields(report, "\r\n\t") {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&value);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sg_detect::{Evidence, Group, ScoredSignal, Verdict};

    #[test]
    fn headers_name_verdict_score_and_signals_without_injection() {
        let report = Report {
            signals: vec![ScoredSignal {
                name: "LINK_SHORTENER".into(),
                group: Group::Links,
                score: 2.0,
                evidence: Evidence::default(),
            }],
            score: 2.0,
            verdict: Verdict::Deliver,
        };
        let h = verdict_headers(&report);
        assert!(h.contains("X-Spearguard-Verdict: deliver\r\n"));
        assert!(h.contains("X-Spearguard-Score: 2.00\r\n"));
        assert!(h.contains("X-Spearguard-Signals: LINK_SHORTENER(+2.0)\r\n"));
        assert!(h.ends_with("\r\n"));
        assert!(!h.contains("\r\n\r\n"), "must not end the header block");
    }
}

/// The message with `prefix` in front of its Subject (see [`write_tagged`]).
#[cfg(test)]
pub(crate) fn tag_subject(message: &[u8], prefix: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + prefix.len() + 12);
    write_tagged(&mut out, message, prefix);
    out
}

/// Appends `message` to `out` with `prefix` in front of its Subject (adds a Subject when there
/// is none). Works on the raw header block; encoded words after the prefix stay as they are.
/// Idempotent: a subject that already starts with the prefix is left alone.
pub(crate) fn write_tagged(out: &mut Vec<u8>, message: &[u8], prefix: &str) {
    if prefix.is_empty() {
        out.extend_from_slice(message);
        return;
    }
    let header_end = find(message, b"\r\n\r\n")
        .map(|i| i + 2)
        .or_else(|| find(message, b"\n\n").map(|i| i + 1))
        .unwrap_or(message.len());
    let mut line_start = 0;
    while line_start < header_end {
        let line_end = find(&message[line_start..header_end], b"\n")
            .map_or(header_end, |i| line_start + i + 1);
        let line = &message[line_start..line_end];
        if line.len() >= 8 && line[..8].eq_ignore_ascii_case(b"subject:") {
            let mut value = line_start + 8;
            while value < line_end && (message[value] == b' ' || message[value] == b'\t') {
                value += 1;
            }
            if message[value..].starts_with(prefix.as_bytes()) {
                out.extend_from_slice(message);
                return;
            }
            out.extend_from_slice(&message[..line_start + 8]);
            out.push(b' ');
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(&message[value..]);
            return;
        }
        line_start = line_end;
    }
    out.extend_from_slice(format!("Subject: {prefix}\r\n").as_bytes());
    out.extend_from_slice(message);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tag_tests {
    use super::tag_subject;

    #[test]
    fn prefix_goes_before_the_subject_value_once() {
        let m = b"From: a@example.org\r\nSUBJECT:  Invoice\r\n\r\nSubject: body line\r\n";
        let t = tag_subject(m, "[SUSPICIOUS]");
        assert_eq!(
            t,
            b"From: a@example.org\r\nSUBJECT: [SUSPICIOUS]Invoice\r\n\r\nSubject: body line\r\n"
                .to_vec()
        );
        assert_eq!(tag_subject(&t, "[SUSPICIOUS]"), t, "idempotent");
    }

    #[test]
    fn missing_subject_is_added_and_body_lines_are_not_touched() {
        let m = b"From: a@example.org\n\nSubject: not a header\n";
        let t = tag_subject(m, "[S] ");
        assert!(t.starts_with(b"Subject: [S] \r\nFrom:"));
        assert!(t.ends_with(b"\n\nSubject: not a header\n"));
    }
}

/// The trace header spearguard adds when it accepts a message (RFC 5321 §4.4):
/// `Received: from HELO (IP) by HOSTNAME with PROTOCOL; DATE`.
pub(crate) fn received_header(
    helo: &str,
    peer: std::net::IpAddr,
    hostname: &str,
    protocol: &str,
    unix_time: i64,
) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_graphic() && !matches!(c, '(' | ')' | ';'))
            .take(255)
            .collect()
    };
    format!(
        "Received: from {} ({peer})\r\n\tby {} (spearguard) with {protocol};\r\n\t{}\r\n",
        clean(helo),
        clean(hostname),
        rfc5322_date(unix_time)
    )
}

/// `Thu, 26 Nov 2026 21:16:00 +0000` for a Unix time (UTC).
pub(crate) fn rfc5322_date(unix_time: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_time.div_euclid(86_400);
    let secs = unix_time.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod received_tests {
    use super::*;

    #[test]
    fn dates_are_rfc5322() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_795_728_960),
            "Thu, 26 Nov 2026 21:36:00 +0000"
        );
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn received_header_cannot_be_broken_by_the_helo() {
        let h = received_header(
            "evil)\r\nX-Injected: 1",
            "192.0.2.1".parse().unwrap(),
            "mx.example.org",
            "ESMTP",
            0,
        );
        assert!(h.starts_with("Received: from evilX-Injected:1 (192.0.2.1)\r\n\tby mx.example.org (spearguard) with ESMTP;"));
        assert_eq!(h.matches("\r\n").count(), 3);
        assert!(h.ends_with("+0000\r\n"));
    }
}
