//! Configuration from defaults, an optional TOML file and `RATHAUS_*`
//! environment variables (the environment wins).

use std::path::PathBuf;

use anyhow::Context;
use serde::Deserialize;

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address to listen on.
    pub listen: String,
    /// Folder for the SQLite database and local files.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: SQLite file in the data dir.
    pub database_url: Option<String>,
    /// Folder path or `s3://bucket/prefix`; default: `files/` in the data dir.
    pub storage_url: Option<String>,
    /// Public address (for links and the Secure cookie flag); default `http://<listen>`.
    pub public_url: Option<String>,
    /// Tenant served when the Host header names none.
    pub default_tenant: Option<String>,
    /// `text` or `json`.
    pub log_format: String,
    pub db_max_connections: u32,
    /// Outbox workers inside `serve` (0: only dedicated `rathaus worker` processes).
    pub workers: u32,
    pub worker_lease_secs: u64,
    pub login_attempts_per_minute: u32,
    /// Days an applicant's unsent draft is kept after its last change.
    pub draft_days: u32,
    /// New drafts and API submissions per client address and minute.
    pub submits_per_minute: u32,
    /// Absolute lifetime of a browser session in hours (from the login),
    /// however active it is; the idle expiry of 8 h applies as well.
    pub session_max_hours: u32,
    /// SMTP server for notifications (`smtp://host:25`, `smtps://user:pw@host`,
    /// `smtp://host:587?tls=required`); empty: emails are written as `.eml`
    /// files into `<data_dir>/mails`.
    pub smtp_url: Option<String>,
    /// PEM file of a certificate authority the SMTP TLS connection trusts
    /// besides the public roots (a private mail server's CA).
    pub smtp_ca_file: Option<PathBuf>,
    /// Sender of notifications.
    pub mail_from: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            storage_url: None,
            public_url: None,
            default_tenant: None,
            log_format: "text".into(),
            db_max_connections: 10,
            workers: 1,
            worker_lease_secs: 60,
            login_attempts_per_minute: 10,
            draft_days: 30,
            submits_per_minute: 20,
            session_max_hours: 12,
            smtp_url: None,
            smtp_ca_file: None,
            mail_from: "Serviceportal <noreply@localhost>".into(),
        }
    }
}

/// Secrets (database password) never appear in Debug output.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &rathaus_storage::redact_url(&self.database_url()),
            )
            .field("storage_url", &self.storage_url())
            .field("public_url", &self.public_url())
            .field("default_tenant", &self.default_tenant)
            .field("log_format", &self.log_format)
            .field("db_max_connections", &self.db_max_connections)
            .field("workers", &self.workers)
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(rathaus_storage::redact_url),
            )
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_from", &self.mail_from)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Loads defaults, then `file` (or `rathaus.toml` when present), then the environment.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder();
        match file {
            Some(path) => {
                builder = builder.add_source(config::File::from(path).required(true));
            }
            None => {
                builder =
                    builder.add_source(config::File::with_name("rathaus.toml").required(false));
            }
        }
        builder = builder.add_source(
            config::Environment::with_prefix("RATHAUS")
                .prefix_separator("_")
                .try_parsing(true),
        );
        let settings: Settings = builder
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("configuration values are invalid")?;
        Ok(settings)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    self.data_dir.join("rathaus.sqlite").display()
                )
            })
    }

    pub fn storage_url(&self) -> String {
        self.storage_url
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| self.data_dir.join("files").display().to_string())
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mails")
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_use_the_data_dir() {
        let s = Settings::default();
        assert_eq!(s.database_url(), "sqlite://./data/rathaus.sqlite?mode=rwc");
        assert_eq!(s.storage_url(), "./data/files");
        assert_eq!(s.public_url(), "http://127.0.0.1:8080");
    }

    #[test]
    fn debug_hides_the_database_password() {
        let s = Settings {
            database_url: Some("postgres://rathaus:supersecret@db:5432/rathaus".into()),
            ..Settings::default()
        };
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("supersecret"), "{dbg}");
        assert!(dbg.contains("***"));
    }

    #[test]
    fn file_values_are_read() {
        let dir = std::env::temp_dir().join(format!("rathaus-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rathaus.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\nworkers = 3\n").unwrap();
        let s = Settings::load(Some(&path)).unwrap();
        assert_eq!((s.listen.as_str(), s.workers), ("0.0.0.0:9000", 3));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
