//! tower-sessions store on the rathaus database (SQLite or PostgreSQL), so
//! sessions survive restarts and are shared by all instances. A session ends
//! after its idle time (8 h since the last change) or its absolute lifetime
//! (`RATHAUS_SESSION_MAX_HOURS`, 12 h by default, counted from its creation —
//! the login cycles the id, so from the login), whichever comes first. Only
//! sessions that hold something are written: anonymous page views create
//! none (their CSRF token is a cookie, see `security`; ADR 0011).

use std::time::Duration;

use rathaus_storage::{Store, identity::SessionRepository, now_ms};
use tokio::sync::watch;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rathaus_session";

#[derive(Clone)]
pub struct DbSessionStore {
    store: Store,
    /// Absolute lifetime in milliseconds.
    max_age_ms: i64,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    /// A store whose sessions live at most `max_age` from their creation.
    pub fn new(store: Store, max_age: Duration) -> Self {
        Self {
            store,
            max_age_ms: i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX),
        }
    }
}

/// Sessions created at or before this instant are over.
fn created_after(now_ms: i64, max_age_ms: i64) -> i64 {
    now_ms.saturating_sub(max_age_ms)
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expires_ms = (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64;
        self.store
            .repo()
            .save_session(&record.id.to_string(), &data, expires_ms, now_ms())
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = now_ms();
        let Some(data) = self
            .store
            .repo()
            .load_session(&id.to_string(), now, created_after(now, self.max_age_ms))
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        // The expiry is re-set by the session layer on every save; a loaded
        // record is known to be unexpired.
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(8),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .repo()
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}

/// Deletes expired sessions every ten minutes (idle or past `max_age`), with
/// the expired form drafts (and their uploads), expired account tokens and
/// the unconfirmed accounts whose confirmation expired.
pub async fn cleanup_loop(
    app: rathaus_app::App,
    max_age: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let store = &app.store;
    let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
    loop {
        let now = now_ms();
        match store
            .repo()
            .delete_expired_sessions(now, created_after(now, max_age_ms))
            .await
        {
            Ok(n) if n > 0 => tracing::debug!(deleted = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session cleanup failed"),
        }
        // Expired form drafts go the same way, with their uploads (they hold personal data).
        match app.purge_expired_drafts(chrono::Utc::now()).await {
            Ok((n, files)) if n > 0 || files > 0 => {
                tracing::info!(deleted = n, files, "expired form drafts removed")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "draft cleanup failed"),
        }
        // Account tokens expire; an account never confirmed goes a day later.
        use rathaus_storage::accounts::CitizenRepository;
        let now = chrono::Utc::now();
        let cut_off = now - chrono::Duration::hours(rathaus_app::accounts::CONFIRM_HOURS);
        match store.repo().purge_unconfirmed_citizens(now, cut_off).await {
            Ok((t, a)) if t + a > 0 => {
                tracing::info!(
                    tokens = t,
                    accounts = a,
                    "expired account tokens and unconfirmed accounts removed"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "account cleanup failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
