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
    /// Reverse proxies (addresses or networks, comma-separated) whose
    /// `Forwarded`/`X-Forwarded-For` headers name the client; empty: none.
    pub trusted_proxies: String,
    /// `/metrics` on the public listener needs `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Serve `/metrics` only on this (internal) address, e.g. `127.0.0.1:9090`.
    pub metrics_listen: Option<String>,
    /// Serve `/metrics` on the public listener without a token (the demo does).
    pub metrics_public: bool,
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
    /// Bytes all files of one draft (and of one answer) may have together
    /// (`RATHAUS_UPLOAD_QUOTA_BYTES`, default 50 MB).
    pub upload_quota_bytes: u64,
    /// Files one draft (and one answer) may hold (`RATHAUS_UPLOAD_QUOTA_FILES`, default 20).
    pub upload_quota_files: u32,
    /// Posts with files (wizard steps, answers) per client address and minute.
    pub uploads_per_minute: u32,
    /// Seconds an unreferenced upload is kept before the orphan sweep deletes it.
    pub orphan_grace_secs: u64,
    /// Seconds between orphan sweeps (an outbox job `storage.sweep`); 0: none.
    pub storage_sweep_secs: u64,
    /// The instance key (64 hex characters, `openssl rand -hex 32`) that
    /// seals secrets passing through the database, such as the applicant's
    /// access token in the receipt job. Every instance and worker of an
    /// installation needs the same. Unset: `secret.key` in the data dir,
    /// created on first start.
    pub secret_key: Option<String>,
    /// The pmPayment provider's API address (E-Payment); unset: no online
    /// payment (`demo` starts its test provider and sets it).
    pub payment_provider_url: Option<String>,
    /// The provider's address as the payer's browser sees it, when it
    /// differs from `payment_provider_url`.
    pub payment_provider_public_url: Option<String>,
    /// The shared secret of the provider's start hash.
    pub payment_secret: Option<String>,
    /// The municipality key (AGS) the provider knows this installation by.
    pub payment_ags: Option<String>,
    /// Seconds between reconciliation runs (every pending payment is asked
    /// at the provider; one without an answer for 90 minutes expires); 0: none.
    pub payment_reconcile_secs: u64,
    /// Where `demo` starts its test payment provider (another free port
    /// when this one is taken).
    pub demo_payment_listen: String,
    /// Appointment holds and bookings per client address and minute
    /// (`RATHAUS_BOOKINGS_PER_MINUTE`, per instance).
    pub bookings_per_minute: u32,
    /// Defect reports one Open311 app (API key) may send per minute
    /// (`RATHAUS_OPEN311_PER_MINUTE`, per instance).
    pub open311_per_minute: u32,
    /// The proof of work for anonymous bookings through the API: `on`
    /// (default) or `off` (`RATHAUS_BOOKING_POW`, e.g. for load tests).
    pub booking_pow: String,
    /// Bookings one e-mail address may make per 24 hours.
    pub bookings_per_email_per_day: u64,
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
            trusted_proxies: String::new(),
            metrics_token: None,
            metrics_listen: None,
            metrics_public: false,
            session_max_hours: 12,
            smtp_url: None,
            smtp_ca_file: None,
            mail_from: "Serviceportal <noreply@localhost>".into(),
            upload_quota_bytes: 50 * 1024 * 1024,
            upload_quota_files: 20,
            uploads_per_minute: 20,
            orphan_grace_secs: 3600,
            storage_sweep_secs: 3600,
            secret_key: None,
            payment_provider_url: None,
            payment_provider_public_url: None,
            payment_secret: None,
            payment_ags: None,
            payment_reconcile_secs: 300,
            demo_payment_listen: "127.0.0.1:8090".into(),
            bookings_per_minute: 10,
            open311_per_minute: 120,
            booking_pow: "on".into(),
            bookings_per_email_per_day: 5,
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
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_listen", &self.metrics_listen)
            .field("metrics_public", &self.metrics_public)
            .field("upload_quota_bytes", &self.upload_quota_bytes)
            .field("upload_quota_files", &self.upload_quota_files)
            .field("uploads_per_minute", &self.uploads_per_minute)
            .field("orphan_grace_secs", &self.orphan_grace_secs)
            .field("storage_sweep_secs", &self.storage_sweep_secs)
            .field("payment_provider_url", &self.payment_provider_url)
            .field("payment_ags", &self.payment_ags)
            .field("payment_reconcile_secs", &self.payment_reconcile_secs)
            .field("bookings_per_minute", &self.bookings_per_minute)
            .field("open311_per_minute", &self.open311_per_minute)
            .field("booking_pow", &self.booking_pow)
            .field(
                "bookings_per_email_per_day",
                &self.bookings_per_email_per_day,
            )
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
        let mut settings: Settings = builder
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("configuration values are invalid")?;
        // Values that look like numbers but are text: the environment's
        // parsing would drop the AGS's leading zero (06435999 → 6435999).
        for (name, field) in [
            ("RATHAUS_PAYMENT_AGS", &mut settings.payment_ags),
            ("RATHAUS_PAYMENT_SECRET", &mut settings.payment_secret),
        ] {
            if let Ok(v) = std::env::var(name) {
                *field = Some(v);
            }
        }
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

    /// How appointment booking behaves: the proof of work's key is derived
    /// from the instance key (every instance the same), off with
    /// `RATHAUS_BOOKING_POW=off`.
    pub fn appointments(&self) -> anyhow::Result<rathaus_app::appointments::AppointmentConfig> {
        use sha2::{Digest, Sha256};
        let pow = match self.booking_pow.trim().to_ascii_lowercase().as_str() {
            "" | "on" | "true" | "1" | "yes" => true,
            "off" | "false" | "0" | "no" => false,
            other => anyhow::bail!("RATHAUS_BOOKING_POW must be on or off, not {other:?}"),
        };
        let pow_key = if pow {
            let key = match self.secret_key.as_deref().filter(|k| !k.trim().is_empty()) {
                Some(k) => k.trim().to_string(),
                None => {
                    self.secret_key()?;
                    std::fs::read_to_string(self.data_dir.join("secret.key"))
                        .context("reading secret.key")?
                        .trim()
                        .to_string()
                }
            };
            let mut h = Sha256::new();
            h.update(b"rathaus appointments proof of work\0");
            h.update(key.as_bytes());
            Some(h.finalize().into())
        } else {
            None
        };
        Ok(rathaus_app::appointments::AppointmentConfig {
            pow_key,
            per_email_per_day: self.bookings_per_email_per_day.max(1),
            ..Default::default()
        })
    }

    /// The upload quota per draft and per answer.
    pub fn upload_limits(&self) -> rathaus_app::UploadLimits {
        rathaus_app::UploadLimits {
            quota_bytes: self.upload_quota_bytes.max(1),
            quota_files: self.upload_quota_files.max(1),
        }
    }

    /// How long an unreferenced upload is kept.
    pub fn orphan_grace(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.orphan_grace_secs.min(i64::MAX as u64) as i64)
    }

    /// The instance key: `RATHAUS_SECRET_KEY`, else the one kept in
    /// `<data_dir>/secret.key` (created with 32 random bytes, readable only
    /// by its owner, on first use).
    pub fn secret_key(&self) -> anyhow::Result<rathaus_storage::secrets::SecretKey> {
        use rathaus_storage::secrets::SecretKey;
        if let Some(k) = self.secret_key.as_deref().filter(|k| !k.trim().is_empty()) {
            return SecretKey::parse(k).context("RATHAUS_SECRET_KEY");
        }
        let path = self.data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return SecretKey::parse(&text).with_context(|| format!("{}", path.display()));
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data dir {}", self.data_dir.display()))?;
        let text = hex::encode(SecretKey::random_bytes());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(text.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), "created the instance key (set RATHAUS_SECRET_KEY to share one between instances)");
                SecretKey::parse(&text).context("new instance key")
            }
            // Another process created it at the same moment: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                SecretKey::parse(&text).with_context(|| format!("{}", path.display()))
            }
            Err(e) => Err(e).with_context(|| {
                format!(
                    "cannot create the instance key {} (or set RATHAUS_SECRET_KEY)",
                    path.display()
                )
            }),
        }
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
    fn the_instance_key_is_configured_or_kept_in_the_data_dir() {
        let dir = std::env::temp_dir().join(format!("rathaus-key-{}", uuid::Uuid::new_v4()));
        let s = Settings {
            data_dir: dir.clone(),
            ..Settings::default()
        };
        let sealed = s.secret_key().unwrap().seal("geheim", "ctx");
        assert_eq!(
            s.secret_key().unwrap().open(&sealed, "ctx").as_deref(),
            Some("geheim"),
            "the kept key is used again"
        );
        let configured = Settings {
            secret_key: Some("ab".repeat(32)),
            ..s.clone()
        };
        assert_eq!(configured.secret_key().unwrap().open(&sealed, "ctx"), None);
        let bad = Settings {
            secret_key: Some("zu kurz".into()),
            ..s
        };
        assert!(bad.secret_key().is_err());
        assert!(!format!("{configured:?}").contains(&"ab".repeat(32)));
        std::fs::remove_dir_all(dir).ok();
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
    fn upload_quota_comes_from_the_environment() {
        // SAFETY of the test: only this test reads these variables.
        unsafe {
            std::env::set_var("RATHAUS_UPLOAD_QUOTA_BYTES", "1234");
            std::env::set_var("RATHAUS_UPLOAD_QUOTA_FILES", "3");
        }
        let dir = std::env::temp_dir().join(format!("rathaus-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rathaus.toml");
        std::fs::write(&path, "").unwrap();
        let s = Settings::load(Some(&path)).unwrap();
        unsafe {
            std::env::remove_var("RATHAUS_UPLOAD_QUOTA_BYTES");
            std::env::remove_var("RATHAUS_UPLOAD_QUOTA_FILES");
        }
        assert_eq!(
            s.upload_limits(),
            rathaus_app::UploadLimits {
                quota_bytes: 1234,
                quota_files: 3
            }
        );
        assert_eq!(
            Settings::default().upload_limits(),
            rathaus_app::UploadLimits::default()
        );
        std::fs::remove_dir_all(dir).unwrap();
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
