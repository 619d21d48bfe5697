//! Layered configuration: defaults < TOML file < `SHOUHOU_*` environment < command-line flags.
//! clap gives flags precedence over the environment; the file fills what neither set.
use anyhow::Context as _;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub addr: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub secure_cookies: Option<bool>,
    pub log_format: Option<String>,
    pub max_connections: Option<u32>,
    pub keys_file: Option<PathBuf>,
    pub metrics_token: Option<String>,
    pub public_base_url: Option<String>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<FileConfig> {
        match path {
            None => Ok(FileConfig::default()),
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).with_context(|| format!("reading config file {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing config file {}", p.display()))
            }
        }
    }
}

/// The settings in force.
pub struct Settings {
    pub addr: String,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub secure_cookies: bool,
    pub log_format: String,
    pub max_connections: u32,
    /// The personal-data key file (default DATA_DIR/keys.txt; `SHOUHOU_KEYS` holds the text itself).
    pub keys_file: PathBuf,
    /// Bearer token that opens `/metrics` to callers other than loopback; none: loopback only.
    pub metrics_token: Option<String>,
    /// The site's address as customers reach it, for QR labels (`https://service.example.com`);
    /// none: each label takes the address it was asked on.
    pub public_base_url: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("addr", &self.addr)
            .field("database_url", &shouhou_store::redact_url(&self.database_url))
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

pub struct Layer {
    pub addr: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub keys_file: Option<PathBuf>,
    /// `SHOUHOU_METRICS_TOKEN` (no flag: a token in argv is visible to every local user).
    pub metrics_token: Option<String>,
}

impl Settings {
    pub fn resolve(l: Layer) -> anyhow::Result<Settings> {
        let file = FileConfig::load(l.config.as_deref())?;
        let data_dir = l.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = l
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("shouhou.db").display()));
        let keys_file = l.keys_file.or(file.keys_file).unwrap_or_else(|| data_dir.join("keys.txt"));
        Ok(Settings {
            keys_file,
            addr: l.addr.or(file.addr).unwrap_or_else(|| "127.0.0.1:8080".into()),
            database_url,
            data_dir,
            secure_cookies: file.secure_cookies.unwrap_or(false),
            log_format: file.log_format.unwrap_or_else(|| "text".into()),
            max_connections: file.max_connections.unwrap_or(8),
            metrics_token: l.metrics_token.or(file.metrics_token).filter(|t| !t.trim().is_empty()),
            public_base_url: std::env::var("SHOUHOU_PUBLIC_BASE_URL")
                .ok()
                .or(file.public_base_url)
                .map(|u| u.trim().trim_end_matches('/').to_string())
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("shouhou_cfg_{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("shouhou.toml");
        std::fs::write(&file, "addr = \"0.0.0.0:9000\"\ndata_dir = \"/srv/shouhou\"\n")?;
        let s = Settings::resolve(Layer {
            addr: Some("127.0.0.1:1".into()),
            database_url: None,
            data_dir: None,
            config: Some(file.clone()),
            keys_file: None,
            metrics_token: None,
        })?;
        assert_eq!(s.metrics_token, None);
        assert_eq!(s.addr, "127.0.0.1:1");
        assert_eq!(s.data_dir, PathBuf::from("/srv/shouhou"));
        assert_eq!(s.database_url, "sqlite:///srv/shouhou/shouhou.db");
        std::fs::write(&file, "adress = \"typo\"\n")?;
        assert!(
            Settings::resolve(Layer {
                addr: None,
                database_url: None,
                data_dir: None,
                config: Some(file),
                keys_file: None,
                metrics_token: None,
            })
            .is_err()
        );
        Ok(())
    }
}
