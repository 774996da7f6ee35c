//! The headers spearguard adds to delivered mail, so users and downstream filters see the
//! verdict: `X-Spearguard-Verdict`, `X-Spearguard-Score`, `X-Spearguard-Signals`.

use sg_detect::Report;

/// Longest signal list written into a header (folded), in bytes.
const MAX_SIGNALS_LEN: usize = 900;

/// The header block to prepend to a delivered message (CRLF line endings).
pub(crate) fn verdict_headers(report: &Report) -> String {
    let mut signals = String::new();
    for s in &report.signals {
        let item = format!("{}({:+.1})", s.name, s.score);
        if signals.len() + item.len() + 2 > MAX_SIGNALS_LEN {
            signals.push_str(", …");
            break;
        }
        if !signals.is_empty() {
            signals.push_str(",\r\n\t");
        }
        signals.push_str(&item);
    }
    if signals.is_empty() {
        signals.push_str("none");
    }
    format!(
        "X-Spearguard-Verdict: {}\r\nX-Spearguard-Score: {:.2}\r\nX-Spearguard-Signals: {signals}\r\n",
        report.verdict, report.score
    )
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
