//! The real components behind the tests. Each test passes when its component
//! is there; when it is missing it fails under `CI=true` (naming how to
//! provide it) and, locally, prints a notice and lets the suite fall back.

use rathaus_storage::test_support::POSTGRES_ENV;

use crate::helpers::{has_aiosmtpd, real_component};

/// `RATHAUS_TEST_BACKEND=sqlite` marks a deliberate SQLite run (CI's first pass).
#[test]
fn postgres_is_used_unless_sqlite_is_asked_for() {
    let postgres = std::env::var(POSTGRES_ENV).is_ok_and(|s| !s.is_empty());
    let sqlite_on_purpose = std::env::var("RATHAUS_TEST_BACKEND").is_ok_and(|s| s == "sqlite");
    real_component(
        postgres || sqlite_on_purpose,
        "RATHAUS_TEST_POSTGRES_URL (PostgreSQL for the integration tests)",
        "set RATHAUS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres, or \
         RATHAUS_TEST_BACKEND=sqlite for a deliberate SQLite run; meanwhile the tests run on SQLite",
    );
}

#[test]
fn the_smtp_test_server_is_installed() {
    has_aiosmtpd();
}
