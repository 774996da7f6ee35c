//! The organisation being protected: its domains, its staff's names and the brands it
//! wants protected from imitation. Sender and link analysers compare against it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[organisation]` in the config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrganisationConfig {
    /// The organisation's own mail and web domains ("pension.example").
    pub domains: Vec<String>,
    /// Names outsiders might imitate (brands, services, the organisation's own name).
    pub protected_names: Vec<String>,
    /// Staff directory file, CSV (address,name,department,published) or LDIF (*.ldif), loaded
    /// at start and preferred over the copy saved by `spearguard directory import` (empty =
    /// use that copy). Read by the binary, which adds its domains and staff names below.
    pub directory: PathBuf,
}

/// Runtime view of the organisation, built from config and the staff directory.
#[derive(Debug, Clone, Default)]
pub struct Organisation {
    domains: Vec<String>,
    protected_names: Vec<String>,
    staff_names: Vec<String>,
}

impl Organisation {
    /// Builds the runtime view from config.
    pub fn from_config(cfg: &OrganisationConfig) -> Organisation {
        let norm = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().trim_end_matches('.').to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Organisation {
            domains: norm(&cfg.domains),
            protected_names: norm(&cfg.protected_names),
            staff_names: Vec::new(),
        }
    }

    /// Adds staff display names (from the directory).
    pub fn with_staff_names(mut self, names: impl IntoIterator<Item = String>) -> Organisation {
        self.staff_names.extend(
            names
                .into_iter()
                .map(|n| n.trim().to_lowercase())
                .filter(|n| n.len() > 2),
        );
        self
    }

    /// The organisation's own domains, lowercase.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// Protected names (brands), lowercase.
    pub fn protected_names(&self) -> &[String] {
        &self.protected_names
    }

    /// Staff display names, lowercase.
    pub fn staff_names(&self) -> &[String] {
        &self.staff_names
    }

    /// Whether `domain` is one of ours or a subdomain of one.
    pub fn is_own_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| {
            domain == d
                || (domain.len() > d.len()
                    && domain.ends_with(d.as_str())
                    && domain.as_bytes().get(domain.len() - d.len() - 1) == Some(&b'.'))
        })
    }
}
