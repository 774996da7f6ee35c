//! `[http]`: where the API listens and the token it requires.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// `[http]` in `spearguard.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the HTTP API, health check and metrics (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Bearer token for /api/v1 ("" = generate one into DATA/api-token at first start).
    pub token: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8025)),
            token: String::new(),
        }
    }
}
