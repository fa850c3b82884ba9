//! The settings the HTTP service runs with: a plain value, resolved from the user's settings by
//! the command line (see [`crate::settings`]) or built directly by tests and embedders.

use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

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
    /// Writes (profile replace/delete, demand and event writes, through the API or the pages)
    /// allowed per client address and, separately, per token per minute; 0 disables (default 60).
    pub writes_per_minute: u32,
    /// Writes allowed per minute over all clients together, submissions included; 0 disables
    /// (default 600). Embedding a profile costs CPU whoever sends it: this bounds the total.
    pub global_writes_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (default none).
    pub trusted_proxies: Vec<IpNet>,
    /// Cookies without `Secure` and without the `__Host-` prefix, for plain-http local use only
    /// (default false: browsers then keep the cookies only over https or on localhost).
    pub insecure_http_cookies: bool,
    /// The URL users reach the service at; an `https://` one turns on HSTS (default none).
    pub public_url: String,
    /// A separate listen address for `/metrics`, served there without a token; when empty,
    /// `/metrics` is on the main address and needs an organiser token (default empty).
    pub metrics_addr: String,
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
            writes_per_minute: 60,
            global_writes_per_minute: 600,
            trusted_proxies: Vec::new(),
            insecure_http_cookies: false,
            public_url: String::new(),
            metrics_addr: String::new(),
            moderation: true,
            max_pending_per_client: 3,
            max_pending: 500,
        }
    }
}
