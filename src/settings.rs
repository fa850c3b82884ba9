//! Everything a user can set, resolved in one place and the same way for every command: a flag wins
//! over a `PITCHMATCH_*` environment variable, which wins over the TOML file given with
//! `--config FILE`, which wins over the default. Resolving and checking happen once, before any
//! command runs, so a bad value stops the program with a message naming the setting and the rule
//! instead of surfacing later as a failure somewhere in the engine or the server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, UserError};

/// Prefix of the environment variables: `PITCHMATCH_DATA_DIR` sets `data_dir`.
pub const ENV_PREFIX: &str = "PITCHMATCH_";

/// The keys, as spelt in the config file (and, upper-cased after [`ENV_PREFIX`], in the
/// environment). Other `PITCHMATCH_*` variables are not settings and are left alone.
pub const KEYS: [&str; 16] = [
    "data_dir",
    "models_dir",
    "threads",
    "addr",
    "submissions_per_minute",
    "max_body_bytes",
    "body_timeout_secs",
    "writes_per_minute",
    "global_writes_per_minute",
    "trusted_proxies",
    "insecure_http_cookies",
    "public_url",
    "metrics_addr",
    "moderation",
    "max_pending_per_client",
    "max_pending",
];

/// Most encoder threads anyone may ask for: far beyond any machine this runs on, low enough to
/// catch a typo before it starts thousands of threads.
const MAX_THREADS: usize = 1024;

/// The resolved settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where the store, the search index and the vectors live (default `index`).
    #[serde(deserialize_with = "string_like")]
    pub data_dir: PathBuf,
    /// The model files: encoder weights, tokenizer, glossary (default: `./models` when it holds
    /// the model, else the `models/` of the source tree the binary was built from).
    #[serde(deserialize_with = "string_like")]
    pub models_dir: PathBuf,
    /// Encoder threads; 0 = all cores (default 0).
    pub threads: usize,
    /// Listen address of `serve`, `HOST:PORT` (default `127.0.0.1:8080`).
    #[serde(deserialize_with = "string_like")]
    pub addr: String,
    /// Profile submissions per client IP per minute; 0 = unlimited (default 30).
    pub submissions_per_minute: u32,
    /// Largest accepted request body in bytes (default 256 KiB).
    pub max_body_bytes: usize,
    /// Seconds a request body may take to arrive after its headers; slower ones get a 408
    /// (default 15). Guards against clients that trickle a body byte by byte.
    pub body_timeout_secs: u64,
    /// Writes per client address and, separately, per token per minute (profile replace and
    /// delete, demand and event writes, through the API or the pages); 0 = unlimited (default 60).
    pub writes_per_minute: u32,
    /// Writes per minute over all clients together, submissions included; 0 = unlimited
    /// (default 600).
    pub global_writes_per_minute: u32,
    /// Addresses or CIDR blocks of the proxies in front of `serve` whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed (default none). In the environment: comma-separated.
    #[serde(deserialize_with = "string_or_list")]
    pub trusted_proxies: Vec<String>,
    /// Cookies without `Secure` and the `__Host-` prefix, for plain-http local use (default false).
    pub insecure_http_cookies: bool,
    /// The URL users reach the service at; an `https://` URL turns HSTS on (default empty).
    #[serde(deserialize_with = "string_like")]
    pub public_url: String,
    /// Serve `/metrics` on this `HOST:PORT` only, without a token; empty = on the main address,
    /// organisers only (default empty).
    #[serde(deserialize_with = "string_like")]
    pub metrics_addr: String,
    /// Public submissions wait for an organiser's approval before they are ranked (default true;
    /// false for closed deployments where every submitter is trusted).
    pub moderation: bool,
    /// Submissions one client IP may have waiting for approval; 0 = unbounded (default 3).
    pub max_pending_per_client: u32,
    /// Submissions that may wait for approval at once; 0 = unbounded (default 500).
    pub max_pending: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("index"),
            models_dir: crate::engine::default_models_dir(),
            threads: 0,
            addr: "127.0.0.1:8080".into(),
            submissions_per_minute: 30,
            max_body_bytes: 256 * 1024,
            body_timeout_secs: 15,
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

/// Values given as command-line flags; `None` = not given, so a lower layer decides.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--models-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models_dir: Option<PathBuf>,
    /// `--threads`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// `serve --addr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// `serve --submissions-per-minute`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submissions_per_minute: Option<u32>,
    /// `serve --max-body-bytes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
    /// `serve --body-timeout-secs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_timeout_secs: Option<u64>,
    /// `serve --writes-per-minute`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writes_per_minute: Option<u32>,
    /// `serve --global-writes-per-minute`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_writes_per_minute: Option<u32>,
    /// `serve --trusted-proxy` (repeatable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<Vec<String>>,
    /// `serve --insecure-http-cookies`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_http_cookies: Option<bool>,
    /// `serve --public-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// `serve --metrics-addr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_addr: Option<String>,
    /// `serve --moderation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation: Option<bool>,
    /// `serve --max-pending-per-client`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending_per_client: Option<u32>,
    /// `serve --max-pending`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending: Option<u32>,
}

impl Settings {
    /// Resolves the settings from the defaults, `file` (TOML), the process environment and
    /// `flags`, and checks them. Every failure is a [`UserError`] naming the setting.
    pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<Settings> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            // Read first: a missing file is an error here, and the message should say so plainly.
            std::fs::read_to_string(path)
                .map_err(|e| UserError::UnreadableInput { path: path.display().to_string(), reason: e.to_string() })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        let settings: Settings = figment
            .merge(Env::prefixed(ENV_PREFIX).only(&KEYS))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(from_figment)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the rules no type expresses.
    fn validate(&self) -> Result<()> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(bad("data_dir", "must not be empty"));
        }
        if !self.models_dir.join("config.json").is_file() {
            return Err(bad(
                "models_dir",
                &format!("{} does not hold the model files (no config.json)", self.models_dir.display()),
            ));
        }
        if self.threads > MAX_THREADS {
            return Err(bad("threads", &format!("must be at most {MAX_THREADS} (0 = all cores)")));
        }
        let port = self.addr.rsplit_once(':').filter(|(host, _)| !host.is_empty()).map(|(_, port)| port.parse::<u16>());
        if !matches!(port, Some(Ok(_))) {
            return Err(bad("addr", &format!("{:?} is not HOST:PORT (a port from 0 to 65535)", self.addr)));
        }
        if self.max_body_bytes < 1024 {
            return Err(bad("max_body_bytes", "must be at least 1024"));
        }
        if self.body_timeout_secs == 0 {
            return Err(bad("body_timeout_secs", "must be at least 1"));
        }
        self.trusted_proxy_nets()?;
        if !(self.public_url.is_empty()
            || self.public_url.starts_with("https://")
            || self.public_url.starts_with("http://"))
        {
            return Err(bad("public_url", &format!("{:?} is not an http:// or https:// URL", self.public_url)));
        }
        if !self.metrics_addr.is_empty() && self.metrics_addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(bad("metrics_addr", &format!("{:?} is not IP:PORT", self.metrics_addr)));
        }
        Ok(())
    }

    /// [`Settings::trusted_proxies`] as networks: an address alone is a block of one.
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<ipnet::IpNet>().or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).map_err(
                    |_| bad("trusted_proxies", &format!("{p:?} is not an IP address or CIDR block (e.g. 10.0.0.0/8)")),
                )
            })
            .collect()
    }

    /// [`Settings::body_timeout_secs`] as a duration.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }
}

fn bad(field: &str, message: &str) -> Error {
    UserError::BadArgument { field: field.into(), message: message.into() }.into()
}

/// The first problem figment found, as "KEY: WHAT (from WHERE)".
fn from_figment(e: figment::Error) -> Error {
    let source = e.metadata.as_ref().map(|md| match &md.source {
        Some(source) => source.to_string(),
        None if md.name.contains("environment") && !e.path.is_empty() => {
            format!("{ENV_PREFIX}{}", e.path.join("_").to_ascii_uppercase())
        }
        None => md.name.to_string(),
    });
    let field = match (&e.kind, e.path.is_empty()) {
        (figment::error::Kind::UnknownField(name, _), _) => name.clone(),
        (_, false) => e.path.join("."),
        (_, true) => "settings".to_string(),
    };
    let message = match (&e.kind, source) {
        (figment::error::Kind::UnknownField(name, _), Some(source)) => {
            format!("unknown setting {name:?} in {source}; the settings are {}", KEYS.join(", "))
        }
        (kind, Some(source)) => format!("{kind} (from {source})"),
        (kind, None) => kind.to_string(),
    };
    UserError::BadArgument { field, message }.into()
}

/// A list given as a list (TOML) or as one comma-separated string (the environment).
fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect(),
        OneOrMany::Many(list) => list,
    })
}

/// Accepts what the environment layer makes of a path or an address that looks like something
/// else (`PITCHMATCH_DATA_DIR=2024` reads as a number) and takes its text.
fn string_like<'de, D: serde::Deserializer<'de>, T: From<String>>(d: D) -> std::result::Result<T, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_char<E: serde::de::Error>(self, v: char) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(Text).map(T::from)
}

#[cfg(test)]
// `Jail`'s closures must return figment's (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    fn message(e: Error) -> String {
        assert!(e.is_user_error(), "{e}");
        e.to_string()
    }

    #[test]
    fn defaults_alone_are_valid() {
        Jail::expect_with(|_| {
            assert_eq!(Settings::load(None, &Overrides::default()).unwrap(), Settings::default());
            Ok(())
        });
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "pm.toml",
                "data_dir = \"/file\"\naddr = \"0.0.0.0:1\"\nsubmissions_per_minute = 5\nthreads = 3\n",
            )?;
            jail.set_env("PITCHMATCH_DATA_DIR", "/env");
            jail.set_env("PITCHMATCH_SUBMISSIONS_PER_MINUTE", "7");
            jail.set_env("PITCHMATCH_THREADS", "2");
            jail.set_env("PITCHMATCH_NOT_A_SETTING", "ignored");
            let flags = Overrides { threads: Some(1), ..Overrides::default() };
            let s = Settings::load(Some(Path::new("pm.toml")), &flags).unwrap();
            assert_eq!(s.threads, 1, "flag over env");
            assert_eq!(s.data_dir, PathBuf::from("/env"), "env over file");
            assert_eq!(s.submissions_per_minute, 7, "env over file");
            assert_eq!(s.addr, "0.0.0.0:1", "file over default");
            assert_eq!(s.max_body_bytes, 256 * 1024, "default");
            assert_eq!(s.body_timeout(), Duration::from_secs(15));
            Ok(())
        });
    }

    #[test]
    fn proxy_and_cookie_settings() {
        Jail::expect_with(|jail| {
            jail.set_env("PITCHMATCH_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16,fd00::/8");
            jail.set_env("PITCHMATCH_INSECURE_HTTP_COOKIES", "true");
            let s = Settings::load(None, &Overrides::default()).unwrap();
            let nets: Vec<String> = s.trusted_proxy_nets().unwrap().iter().map(ToString::to_string).collect();
            assert_eq!(nets, ["10.0.0.1/32", "192.168.0.0/16", "fd00::/8"]);
            assert!(s.insecure_http_cookies);
            jail.create_file("pm.toml", "trusted_proxies = [\"127.0.0.1\"]\nwrites_per_minute = 5\n")?;
            jail.clear_env();
            let s = Settings::load(Some(Path::new("pm.toml")), &Overrides::default()).unwrap();
            assert_eq!(s.trusted_proxies, ["127.0.0.1"]);
            assert_eq!((s.writes_per_minute, s.global_writes_per_minute), (5, 600));
            let flags = Overrides { trusted_proxies: Some(vec!["proxy.example".into()]), ..Overrides::default() };
            let m = message(Settings::load(None, &flags).unwrap_err());
            assert!(m.starts_with("trusted_proxies: \"proxy.example\" is not an IP address"), "{m}");
            let flags = Overrides { metrics_addr: Some("localhost".into()), ..Overrides::default() };
            assert!(message(Settings::load(None, &flags).unwrap_err()).starts_with("metrics_addr: "));
            let flags = Overrides { public_url: Some("example.org".into()), ..Overrides::default() };
            assert!(message(Settings::load(None, &flags).unwrap_err()).starts_with("public_url: "));
            Ok(())
        });
    }

    #[test]
    fn paths_that_look_like_numbers_stay_paths() {
        Jail::expect_with(|jail| {
            jail.set_env("PITCHMATCH_DATA_DIR", "2024");
            assert_eq!(Settings::load(None, &Overrides::default()).unwrap().data_dir, PathBuf::from("2024"));
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_the_setting_and_where_it_came_from() {
        Jail::expect_with(|jail| {
            jail.set_env("PITCHMATCH_THREADS", "lots");
            let m = message(Settings::load(None, &Overrides::default()).unwrap_err());
            assert!(m.starts_with("threads: ") && m.contains("PITCHMATCH_THREADS"), "{m}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("pm.toml", "max_body_bytes = \"big\"\n")?;
            let m = message(Settings::load(Some(Path::new("pm.toml")), &Overrides::default()).unwrap_err());
            assert!(m.starts_with("max_body_bytes: ") && m.contains("pm.toml"), "{m}");

            jail.create_file("typo.toml", "adress = \"0.0.0.0:80\"\n")?;
            let m = message(Settings::load(Some(Path::new("typo.toml")), &Overrides::default()).unwrap_err());
            assert!(m.starts_with("adress: unknown setting") && m.contains("typo.toml"), "{m}");

            let m = message(Settings::load(Some(Path::new("missing.toml")), &Overrides::default()).unwrap_err());
            assert!(m.contains("cannot read missing.toml"), "{m}");
            Ok(())
        });
    }

    #[test]
    fn rules_name_the_setting() {
        Jail::expect_with(|jail| {
            let load = |flags: Overrides| message(Settings::load(None, &flags).unwrap_err());
            let m = load(Overrides { max_body_bytes: Some(10), ..Overrides::default() });
            assert_eq!(m, "max_body_bytes: must be at least 1024");
            let m = load(Overrides { body_timeout_secs: Some(0), ..Overrides::default() });
            assert_eq!(m, "body_timeout_secs: must be at least 1");
            let m = load(Overrides { addr: Some("localhost".into()), ..Overrides::default() });
            assert!(m.starts_with("addr: \"localhost\" is not HOST:PORT"), "{m}");
            let m = load(Overrides { threads: Some(100_000), ..Overrides::default() });
            assert!(m.starts_with("threads: must be at most"), "{m}");
            let m = load(Overrides { models_dir: Some(jail.directory().to_path_buf()), ..Overrides::default() });
            assert!(m.starts_with("models_dir: ") && m.contains("no config.json"), "{m}");
            let m = load(Overrides { data_dir: Some(PathBuf::new()), ..Overrides::default() });
            assert_eq!(m, "data_dir: must not be empty");
            Ok(())
        });
    }
}
