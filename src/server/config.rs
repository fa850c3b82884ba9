//! Service configuration, layered so that deployments can keep settings in a file and still override
//! any of them per run: built-in defaults, then the TOML file (`--config FILE`), then `PITCHMATCH_*`
//! environment variables, then command-line flags (each later layer wins).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Result, UserError};

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
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("index"),
            submissions_per_minute: 30,
            max_body_bytes: 256 * 1024,
            body_timeout: Duration::from_secs(15),
        }
    }
}

/// The keys a config file may set (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    data_dir: Option<PathBuf>,
    submissions_per_minute: Option<u32>,
    max_body_bytes: Option<usize>,
    body_timeout_secs: Option<u64>,
}

/// Values given on the command line (`None` = not given).
#[derive(Debug, Default, Clone)]
pub struct ConfigOverrides {
    /// `--addr`.
    pub addr: Option<String>,
    /// `--data-dir`, only when given explicitly.
    pub data_dir: Option<PathBuf>,
    /// `--submissions-per-minute`.
    pub submissions_per_minute: Option<u32>,
    /// `--max-body-bytes`.
    pub max_body_bytes: Option<usize>,
}

fn bad(field: &str, message: String) -> crate::Error {
    UserError::BadArgument { field: field.into(), message }.into()
}

fn parse_env<T: std::str::FromStr>(env: &impl Fn(&str) -> Option<String>, var: &str) -> Result<Option<T>> {
    match env(var) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| bad(var, format!("cannot parse {v:?}"))),
    }
}

impl HttpConfig {
    /// Resolves the configuration: defaults < `file` < environment (read through `env`) < `flags`.
    pub fn load(
        file: Option<&Path>,
        flags: ConfigOverrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<HttpConfig> {
        let mut c = HttpConfig::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| UserError::UnreadableInput { path: path.display().to_string(), reason: e.to_string() })?;
            let f: FileConfig =
                toml::from_str(&text).map_err(|e| bad(&path.display().to_string(), format!("invalid config: {e}")))?;
            c.addr = f.addr.unwrap_or(c.addr);
            c.data_dir = f.data_dir.unwrap_or(c.data_dir);
            c.submissions_per_minute = f.submissions_per_minute.unwrap_or(c.submissions_per_minute);
            c.max_body_bytes = f.max_body_bytes.unwrap_or(c.max_body_bytes);
            c.body_timeout = f.body_timeout_secs.map_or(c.body_timeout, Duration::from_secs);
        }
        c.addr = env("PITCHMATCH_ADDR").unwrap_or(c.addr);
        c.data_dir = env("PITCHMATCH_DATA_DIR").map(PathBuf::from).unwrap_or(c.data_dir);
        c.submissions_per_minute =
            parse_env(&env, "PITCHMATCH_SUBMISSIONS_PER_MINUTE")?.unwrap_or(c.submissions_per_minute);
        c.max_body_bytes = parse_env(&env, "PITCHMATCH_MAX_BODY_BYTES")?.unwrap_or(c.max_body_bytes);
        c.body_timeout = parse_env(&env, "PITCHMATCH_BODY_TIMEOUT_SECS")?.map_or(c.body_timeout, Duration::from_secs);
        c.addr = flags.addr.unwrap_or(c.addr);
        c.data_dir = flags.data_dir.unwrap_or(c.data_dir);
        c.submissions_per_minute = flags.submissions_per_minute.unwrap_or(c.submissions_per_minute);
        c.max_body_bytes = flags.max_body_bytes.unwrap_or(c.max_body_bytes);
        if c.max_body_bytes < 1024 {
            return Err(bad("max_body_bytes", "must be at least 1024".into()));
        }
        if c.body_timeout.is_zero() {
            return Err(bad("body_timeout_secs", "must be at least 1".into()));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_flags_env_file_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pm.toml");
        std::fs::write(&file, "addr = \"0.0.0.0:1\"\ndata_dir = \"/file\"\nsubmissions_per_minute = 5\n").unwrap();
        let env = |k: &str| match k {
            "PITCHMATCH_DATA_DIR" => Some("/env".to_string()),
            "PITCHMATCH_SUBMISSIONS_PER_MINUTE" => Some("7".to_string()),
            _ => None,
        };
        let flags = ConfigOverrides { submissions_per_minute: Some(9), ..Default::default() };
        let c = HttpConfig::load(Some(&file), flags, env).unwrap();
        assert_eq!(c.addr, "0.0.0.0:1");
        assert_eq!(c.data_dir, PathBuf::from("/env"));
        assert_eq!(c.submissions_per_minute, 9);
        assert_eq!(c.max_body_bytes, 256 * 1024);
        assert_eq!(HttpConfig::load(None, ConfigOverrides::default(), |_| None).unwrap(), HttpConfig::default());
    }

    #[test]
    fn bad_file_and_env_are_user_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pm.toml");
        std::fs::write(&file, "adress = \"x\"\n").unwrap();
        assert!(HttpConfig::load(Some(&file), ConfigOverrides::default(), |_| None).unwrap_err().is_user_error());
        let env = |k: &str| (k == "PITCHMATCH_MAX_BODY_BYTES").then(|| "lots".to_string());
        assert!(HttpConfig::load(None, ConfigOverrides::default(), env).unwrap_err().is_user_error());
    }
}
