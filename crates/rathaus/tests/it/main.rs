//! One integration-test binary: the real server on port 0, driven over HTTP,
//! and the real `rathaus` binary as a subprocess. Runs on SQLite by default
//! and on PostgreSQL when `RATHAUS_TEST_POSTGRES_URL` is set.

mod accounts;
mod api;
mod appointments;
mod catalog;
mod cli;
mod defects;
mod delivery;
mod deployment;
mod environment;
mod forms;
mod hardening;
mod helpers;
mod hostile;
mod hostile_uploads;
mod notifications;
mod outbox_crash;
mod pages;
mod payments;
mod permissions;
mod records;
mod records_work;
mod smtp_tls;
mod staff;
