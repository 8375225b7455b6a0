//! Server configuration: compiled-in defaults, an optional file, then `COMMUNIQUE__SECTION__KEY`
//! environment variables, typed and validated. The loader takes the environment as an argument
//! so that tests never touch the process environment.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

const DEFAULTS: &str = include_str!("default_config.toml");
const ENV_PREFIX: &str = "COMMUNIQUE";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub server: ServerSection,
    pub store: StoreSection,
    pub seed: SeedSection,
    pub tls: TlsSection,
    pub auth: AuthSection,
    pub metrics: MetricsSection,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub listen_address: SocketAddr,
    pub max_message_bytes: usize,
    pub default_page_size: usize,
    pub max_page_size: usize,
    pub drain_seconds: u64,
    pub log_format: LogFormat,
    pub max_concurrent_requests: usize,
    /// A second, plaintext address serving only grpc.health.v1, for probes that cannot speak
    /// TLS; `None` (an empty string in the file) turns it off.
    #[serde(deserialize_with = "optional_address")]
    pub health_listen_address: Option<SocketAddr>,
}

fn optional_address<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.trim()
        .parse()
        .map(Some)
        .map_err(serde::de::Error::custom)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    pub data_dir: PathBuf,
    pub cache_capacity_mb: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSection {
    pub paths: Vec<PathBuf>,
    pub knowledge_base_paths: Vec<PathBuf>,
}

/// Paths are kept as given; an empty path means "not configured".
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub client_ca_path: PathBuf,
}

impl TlsSection {
    pub fn enabled(&self) -> bool {
        !self.cert_path.as_os_str().is_empty()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    pub tokens_file: PathBuf,
    pub require_for_reads: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Empty turns the endpoint off.
    pub listen_address: String,
}

impl MetricsSection {
    pub fn address(&self) -> Option<SocketAddr> {
        self.listen_address.parse().ok()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {key} {problem}")]
    Invalid { key: &'static str, problem: String },
}

impl ServerConfig {
    /// Loads defaults, then `file` if given, then variables from `environment` that start with
    /// `COMMUNIQUE__` (sections and keys separated by `__`; lists separated by commas).
    pub fn load(
        file: Option<&Path>,
        environment: HashMap<String, String>,
    ) -> Result<ServerConfig, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let environment = config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("__")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("seed.paths")
            .with_list_parse_key("seed.knowledge_base_paths")
            .try_parsing(true)
            .source(Some(environment));
        let config: ServerConfig = builder.add_source(environment).build()?.try_deserialize()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| ConfigError::Invalid {
            key,
            problem: problem.to_owned(),
        };
        let server = &self.server;
        if server.max_message_bytes < 1024 {
            return Err(invalid("server.max_message_bytes", "must be at least 1024"));
        }
        if server.max_page_size == 0 {
            return Err(invalid("server.max_page_size", "must be at least 1"));
        }
        if server.default_page_size == 0 || server.default_page_size > server.max_page_size {
            return Err(invalid(
                "server.default_page_size",
                "must be between 1 and server.max_page_size",
            ));
        }
        if server.max_concurrent_requests == 0 {
            return Err(invalid(
                "server.max_concurrent_requests",
                "must be at least 1",
            ));
        }
        let tls = &self.tls;
        if tls.cert_path.as_os_str().is_empty() != tls.key_path.as_os_str().is_empty() {
            return Err(invalid(
                "tls.cert_path",
                "and tls.key_path must be set together",
            ));
        }
        if !tls.enabled() && !tls.client_ca_path.as_os_str().is_empty() {
            return Err(invalid(
                "tls.client_ca_path",
                "needs tls.cert_path and tls.key_path: client certificates are checked over TLS",
            ));
        }
        if self.auth.require_for_reads && self.auth.tokens_file.as_os_str().is_empty() {
            return Err(invalid(
                "auth.require_for_reads",
                "needs auth.tokens_file: there would be no token to accept",
            ));
        }
        let metrics = &self.metrics.listen_address;
        if !metrics.is_empty() && self.metrics.address().is_none() {
            return Err(invalid(
                "metrics.listen_address",
                "must be an address such as 0.0.0.0:9090, or empty to turn metrics off",
            ));
        }
        if self.store.cache_capacity_mb == 0 {
            return Err(invalid("store.cache_capacity_mb", "must be at least 1"));
        }
        if self.store.data_dir.as_os_str().is_empty() {
            return Err(invalid("store.data_dir", "must not be empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_load() {
        let config = ServerConfig::load(None, HashMap::new()).unwrap();
        assert_eq!(config.server.listen_address.to_string(), "127.0.0.1:50051");
        assert_eq!(config.store.data_dir, PathBuf::from("./data"));
        assert_eq!(config.seed.paths, vec![PathBuf::from("seeds")]);
        assert_eq!(config.server.log_format, LogFormat::Text);
    }

    #[test]
    fn environment_overrides_defaults() {
        let config = ServerConfig::load(
            None,
            env(&[
                ("COMMUNIQUE__SERVER__LISTEN_ADDRESS", "0.0.0.0:6000"),
                ("COMMUNIQUE__SERVER__MAX_PAGE_SIZE", "50"),
                ("COMMUNIQUE__SERVER__LOG_FORMAT", "json"),
                ("COMMUNIQUE__SEED__PATHS", "a,b"),
                ("OTHER__SERVER__MAX_PAGE_SIZE", "7"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.listen_address.port(), 6000);
        assert_eq!(config.server.max_page_size, 50);
        assert_eq!(config.server.log_format, LogFormat::Json);
        assert_eq!(
            config.seed.paths,
            vec![PathBuf::from("a"), PathBuf::from("b")]
        );
    }

    #[test]
    fn bad_values_are_named() {
        let error = ServerConfig::load(
            None,
            env(&[("COMMUNIQUE__SERVER__DEFAULT_PAGE_SIZE", "500")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("server.default_page_size"), "{error}");
        let error = ServerConfig::load(
            None,
            env(&[("COMMUNIQUE__SERVER__LISTEN_ADDRESS", "nowhere")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("listen_address"), "{error}");
    }

    #[test]
    fn security_settings_must_be_complete() {
        let error = ServerConfig::load(None, env(&[("COMMUNIQUE__TLS__CERT_PATH", "/c.pem")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("tls.cert_path"), "{error}");
        let error = ServerConfig::load(
            None,
            env(&[("COMMUNIQUE__AUTH__REQUIRE_FOR_READS", "true")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("auth.require_for_reads"), "{error}");
        let error = ServerConfig::load(
            None,
            env(&[("COMMUNIQUE__METRICS__LISTEN_ADDRESS", "nowhere")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("metrics.listen_address"), "{error}");
    }

    #[test]
    fn a_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "[store]\ndata_dir = \"/var/lib/communique\"\n").unwrap();
        let config = ServerConfig::load(Some(&path), HashMap::new()).unwrap();
        assert_eq!(config.store.data_dir, PathBuf::from("/var/lib/communique"));
        assert_eq!(config.store.cache_capacity_mb, 256);
    }
}
