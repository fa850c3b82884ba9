//! The settings the HTTP service runs with: a plain value, resolved from the user's settings by
//! the command line (see [`crate::settings`]) or built directly by tests and embedders.

use std::path::PathBuf;
use std::time::Duration;

/// Settings of the HTTP service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Listen address, `HOST:PORT` (default `127.0.0.1:8080`).
    pub addr: String,
    /// Data directory (default `index`).
    pub data_dir: PathBuf,
    /// Profile submissions allowed per client IP per minute; 0 disables the limit (default 30).
    pub submissions_per_minute: u32,
    /// Largest accepted request body in bytes (default 256 KiB).
    pub max_body_bytes: usize,
    /// Longest time a request body may take to arrive after its headers (default 15 s); slower
    /// bodies get a 408. Guards against slowloris-style clients that trickle a body byte by byte.
    pub body_timeout: Duration,
    /// Public submissions wait for an organiser's approval (default true).
    pub moderation: bool,
    /// Submissions one client IP may have waiting; 0 = unbounded (default 3).
    pub max_pending_per_client: u32,
    /// Submissions that may wait at once; 0 = unbounded (default 500).
    pub max_pending: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("index"),
            submissions_per_minute: 30,
            max_body_bytes: 256 * 1024,
            body_timeout: Duration::from_secs(15),
            moderation: true,
            max_pending_per_client: 3,
            max_pending: 500,
        }
    }
}
