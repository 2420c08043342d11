//! E-Payment in the submission flow: when a service's fee is paid (`before`
//! sending, or `later` on request), the Zahlungsbestätigung posted to the
//! mailbox once a payment is paid (so the job that posts it runs at most
//! once in effect), and at most one open (created or pending)
//! pay-before-sending payment per application (a retried submission or a
//! second request cannot start two; after a failed or cancelled attempt a
//! new one may be made).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum ServiceFees {
    Table,
    Collect,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    ReceiptFileId,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

const UNIQUE_APPLICATION_FEE: &str = "CREATE UNIQUE INDEX ux_payments_application_fee ON payments (application_id) WHERE purpose = 'application' AND status IN ('created', 'pending')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceFees::Table)
                    .add_column(string_len(ServiceFees::Collect, 10).default("before"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Payments::Table)
                    .add_column(uuid_null(Payments::ReceiptFileId))
                    .to_owned(),
            )
            .await?;
        // A partial index: the same text on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(UNIQUE_APPLICATION_FEE)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ux_payments_application_fee")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Payments::Table)
                    .drop_column(Payments::ReceiptFileId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceFees::Table)
                    .drop_column(ServiceFees::Collect)
                    .to_owned(),
            )
            .await
    }
}
