//! The gateway's Prometheus metrics: a small hand-written registry of atomics (no
//! `prometheus` crate), rendered in the text exposition format (version 0.0.4).
//!
//! Counters and the scan-time histogram are updated by the binary's pipeline and worker;
//! the spool gauges (queue depth, quarantine size) are read from the spool at scrape time.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// What became of one message, the `verdict` label of `spearguard_messages_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Delivered as is (with verdict headers).
    Deliver,
    /// Delivered with a subject tag.
    Tag,
    /// Held in quarantine.
    Quarantine,
    /// Refused (550).
    Reject,
    /// Refused for now (451), e.g. a lookup failed.
    Tempfail,
    /// Could not be stored (451): the spool failed or the scan crashed.
    NotStored,
}

impl Disposition {
    /// Every disposition, in exposition order.
    pub const ALL: [Disposition; 6] = [
        Disposition::Deliver,
        Disposition::Tag,
        Disposition::Quarantine,
        Disposition::Reject,
        Disposition::Tempfail,
        Disposition::NotStored,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Deliver => "deliver",
            Disposition::Tag => "tag",
            Disposition::Quarantine => "quarantine",
            Disposition::Reject => "reject",
            Disposition::Tempfail => "tempfail",
            Disposition::NotStored => "notstored",
        }
    }
}

/// Upper bounds (seconds) of the scan-time histogram buckets; `+Inf` is implied.
pub const SCAN_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The registry. All updates are lock-free; share it in an `Arc` or a `static`.
#[derive(Debug)]
pub struct Metrics {
    messages: [AtomicU64; Disposition::ALL.len()],
    delivery_attempts: AtomicU64,
    delivery_failures: AtomicU64,
    smtp_sessions: AtomicI64,
    /// Non-cumulative counts per bucket; the last one is `+Inf`.
    scan_buckets: [AtomicU64; SCAN_BUCKETS.len() + 1],
    scan_sum_nanos: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Spool sizes read at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolGauges {
    /// Messages waiting in `queue/`.
    pub queue: u64,
    /// Messages held in `quarantine/`.
    pub quarantine: u64,
}

impl Metrics {
    /// An empty registry (usable in a `static`).
    pub const fn new() -> Metrics {
        Metrics {
            messages: [const { AtomicU64::new(0) }; Disposition::ALL.len()],
            delivery_attempts: AtomicU64::new(0),
            delivery_failures: AtomicU64::new(0),
            smtp_sessions: AtomicI64::new(0),
            scan_buckets: [const { AtomicU64::new(0) }; SCAN_BUCKETS.len() + 1],
            scan_sum_nanos: AtomicU64::new(0),
        }
    }

    /// Counts one message.
    pub fn count_message(&self, d: Disposition) {
        self.messages[d as usize].fetch_add(1, Relaxed);
    }

    /// Messages counted with `d` so far.
    pub fn messages(&self, d: Disposition) -> u64 {
        self.messages[d as usize].load(Relaxed)
    }

    /// Counts one delivery attempt (one message, all its recipients).
    pub fn delivery_attempt(&self) {
        self.delivery_attempts.fetch_add(1, Relaxed);
    }

    /// Counts one failed delivery attempt.
    pub fn delivery_failure(&self) {
        self.delivery_failures.fetch_add(1, Relaxed);
    }

    /// An SMTP session began (`true`) or ended (`false`).
    pub fn smtp_session(&self, open: bool) {
        self.smtp_sessions
            .fetch_add(if open { 1 } else { -1 }, Relaxed);
    }

    /// Records how long one parse + scan took.
    pub fn observe_scan(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let bucket = SCAN_BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(SCAN_BUCKETS.len());
        self.scan_buckets[bucket].fetch_add(1, Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.scan_sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// The whole registry in the Prometheus text format.
    pub fn render(&self, spool: SpoolGauges) -> String {
        let mut out = String::with_capacity(2048);
        let _ = writeln!(
            out,
            "# HELP spearguard_messages_total Messages judged, by what became of them.\n\
             # TYPE spearguard_messages_total counter"
        );
        for d in Disposition::ALL {
            let n = self.messages(d);
            let _ = writeln!(
                out,
                "spearguard_messages_total{{verdict=\"{}\"}} {n}",
                d.as_str()
            );
        }
        let simple: [(&str, &str, &str, String); 5] = [
            (
                "spearguard_spool_queue_depth",
                "gauge",
                "Messages in the spool waiting for delivery.",
                spool.queue.to_string(),
            ),
            (
                "spearguard_quarantine_size",
                "gauge",
                "Messages held in quarantine.",
                spool.quarantine.to_string(),
            ),
            (
                "spearguard_delivery_attempts_total",
                "counter",
                "Delivery attempts (one per message and try).",
                self.delivery_attempts.load(Relaxed).to_string(),
            ),
            (
                "spearguard_delivery_failures_total",
                "counter",
                "Delivery attempts that failed for at least one recipient.",
                self.delivery_failures.load(Relaxed).to_string(),
            ),
            (
                "spearguard_smtp_sessions_active",
                "gauge",
                "SMTP sessions open now.",
                self.smtp_sessions.load(Relaxed).max(0).to_string(),
            ),
        ];
        for (name, kind, help, value) in simple {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        self.render_scan_histogram(&mut out);
        out
    }

    fn render_scan_histogram(&self, out: &mut String) {
        let name = "spearguard_scan_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time to parse and analyse one message.\n# TYPE {name} histogram"
        );
        let mut cumulative = 0u64;
        for (i, le) in SCAN_BUCKETS.iter().enumerate() {
            cumulative += self.scan_buckets[i].load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        cumulative += self.scan_buckets[SCAN_BUCKETS.len()].load(Relaxed);
        let sum = self.scan_sum_nanos.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_count_matches() {
        let m = Metrics::new();
        m.observe_scan(Duration::from_micros(500));
        m.observe_scan(Duration::from_millis(30));
        m.observe_scan(Duration::from_secs(60));
        let text = m.render(SpoolGauges::default());
        assert!(
            text.contains("spearguard_scan_seconds_bucket{le=\"0.001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("spearguard_scan_seconds_bucket{le=\"0.025\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("spearguard_scan_seconds_bucket{le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("spearguard_scan_seconds_bucket{le=\"10\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("spearguard_scan_seconds_bucket{le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("spearguard_scan_seconds_count 3\n"), "{text}");
        assert!(
            text.contains("spearguard_scan_seconds_sum 60.0305\n"),
            "{text}"
        );
    }

    #[test]
    fn every_verdict_label_is_exposed_even_at_zero() {
        let m = Metrics::new();
        m.count_message(Disposition::Quarantine);
        m.smtp_session(true);
        m.smtp_session(true);
        m.smtp_session(false);
        let text = m.render(SpoolGauges {
            queue: 4,
            quarantine: 2,
        });
        for d in Disposition::ALL {
            let n = u64::from(d == Disposition::Quarantine);
            let line = format!(
                "spearguard_messages_total{{verdict=\"{}\"}} {n}\n",
                d.as_str()
            );
            assert!(text.contains(&line), "{line} in {text}");
        }
        assert!(text.contains("spearguard_spool_queue_depth 4\n"));
        assert!(text.contains("spearguard_quarantine_size 2\n"));
        assert!(text.contains("spearguard_smtp_sessions_active 1\n"));
    }
}
