use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Times are epoch milliseconds (BIGINT) so that claiming compares numbers on
/// both backends.
#[derive(DeriveIden)]
enum OutboxJobs {
    Table,
    Id,
    TenantId,
    Kind,
    Payload,
    Status,
    Attempts,
    MaxAttempts,
    RunAfterMs,
    LockedBy,
    LockedUntilMs,
    LastError,
    CreatedAtMs,
    UpdatedAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxJobs::Table)
                    .col(big_pk_auto(OutboxJobs::Id))
                    .col(uuid_null(OutboxJobs::TenantId))
                    .col(string_len(OutboxJobs::Kind, 100))
                    .col(text(OutboxJobs::Payload))
                    .col(string_len(OutboxJobs::Status, 16))
                    .col(integer(OutboxJobs::Attempts))
                    .col(integer(OutboxJobs::MaxAttempts))
                    .col(big_integer(OutboxJobs::RunAfterMs))
                    .col(string_len_null(OutboxJobs::LockedBy, 100))
                    .col(big_integer_null(OutboxJobs::LockedUntilMs))
                    .col(text_null(OutboxJobs::LastError))
                    .col(big_integer(OutboxJobs::CreatedAtMs))
                    .col(big_integer(OutboxJobs::UpdatedAtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_jobs_claim")
                    .table(OutboxJobs::Table)
                    .col(OutboxJobs::Status)
                    .col(OutboxJobs::RunAfterMs)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboxJobs::Table).to_owned())
            .await
    }
}
