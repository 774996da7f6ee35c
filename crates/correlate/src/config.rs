//! The knobs of cross-message detection, with defaults meant for a gateway's first day.

/// Campaign, first-contact and alarm settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelateConfig {
    /// Distinct internal recipients that make resembling messages a campaign (K).
    pub campaign_recipients: usize,
    /// How far back resembling messages are joined into one campaign, in seconds (W): long
    /// enough for a slow drip over hours.
    pub campaign_window: i64,
    /// Seconds from the first message ever seen during which history is only learned and no
    /// alert is raised: every sender is new on a gateway's first day.
    pub learning_period: i64,
    /// Fingerprints compared per cluster (its first and latest members).
    pub cluster_samples: usize,
}

impl Default for CorrelateConfig {
    fn default() -> Self {
        CorrelateConfig {
            campaign_recipients: 3,
            campaign_window: 72 * 3600,
            learning_period: 24 * 3600,
            cluster_samples: 8,
        }
    }
}
