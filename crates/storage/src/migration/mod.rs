//! Versioned schema migrations, one file per step, applied in order.
//!
//! Rules: a released migration is never edited; a change is a new step.
//! The test `migrations::list_is_stable` pins the list.

use sea_orm_migration::prelude::*;

mod m20261122_000001_tenancy;
mod m20261122_000002_identity;
mod m20261122_000003_outbox;
mod m20261122_000004_catalog;
mod m20261122_000005_forms;
mod m20261122_000006_applications;
mod m20261122_000007_accounts_decisions;
mod m20261130_100001_draft_uploads;
mod m20261130_200001_account_tokens;
mod m20261130_300001_idempotency_hash;
mod m20261130_300002_receipt_documents;
mod m20261130_300003_editorial_changes;
mod m20261201_000001_records;
mod m20261202_000001_records_work;
mod m20261203_000001_payments;
mod m20261204_000001_payment_flow;
mod m20261205_000001_appointments;
mod m20261206_000001_defects;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_tenancy::Migration),
            Box::new(m20261122_000002_identity::Migration),
            Box::new(m20261122_000003_outbox::Migration),
            Box::new(m20261122_000004_catalog::Migration),
            Box::new(m20261122_000005_forms::Migration),
            Box::new(m20261122_000006_applications::Migration),
            Box::new(m20261122_000007_accounts_decisions::Migration),
            Box::new(m20261130_100001_draft_uploads::Migration),
            Box::new(m20261130_200001_account_tokens::Migration),
            Box::new(m20261130_300001_idempotency_hash::Migration),
            Box::new(m20261130_300002_receipt_documents::Migration),
            Box::new(m20261130_300003_editorial_changes::Migration),
            Box::new(m20261201_000001_records::Migration),
            Box::new(m20261202_000001_records_work::Migration),
            Box::new(m20261203_000001_payments::Migration),
            Box::new(m20261204_000001_payment_flow::Migration),
            Box::new(m20261205_000001_appointments::Migration),
            Box::new(m20261206_000001_defects::Migration),
        ]
    }
}

/// Names of all migrations, oldest first.
pub fn migration_names() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}
