//! The SHA-256 of the request that came with an idempotency key: the same
//! key with another request is refused (`idempotency.mismatch`) instead of
//! silently answering with the first application.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Applications {
    Table,
    RequestHash,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(string_len_null(Applications::RequestHash, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .drop_column(Applications::RequestHash)
                    .to_owned(),
            )
            .await
    }
}
