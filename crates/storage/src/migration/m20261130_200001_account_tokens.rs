//! Citizen account tokens with an expiry (confirmation 24 h, password reset
//! 1 h), stored only as SHA-256; the confirmation token column of `citizens`
//! goes (its tokens never expired). `password_changed_at` ends the sessions
//! of an account whose password was reset. Sessions get their creation time
//! for the absolute lifetime.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Citizens {
    Table,
    Id,
    ConfirmTokenHash,
    PasswordChangedAt,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    TenantId,
    CitizenId,
    Purpose,
    TokenHash,
    PasswordHash,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    CreatedAtMs,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(pk_uuid(AccountTokens::Id))
                    .col(uuid(AccountTokens::TenantId))
                    .col(uuid(AccountTokens::CitizenId))
                    .col(string_len(AccountTokens::Purpose, 20))
                    .col(string_len_null(AccountTokens::TokenHash, 64))
                    .col(text_null(AccountTokens::PasswordHash))
                    .col(timestamp_with_time_zone(AccountTokens::CreatedAt))
                    .col(timestamp_with_time_zone(AccountTokens::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_tokens_tenant")
                            .from(AccountTokens::Table, AccountTokens::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_tokens_citizen")
                            .from(AccountTokens::Table, AccountTokens::CitizenId)
                            .to(Citizens::Table, Citizens::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_account_tokens_hash")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_account_tokens_citizen")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::TenantId)
                    .col(AccountTokens::CitizenId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_account_tokens_expires")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // Pending confirmations of the old kind never expired: they end here
        // (the unconfirmed accounts are purged a day later).
        manager
            .drop_index(
                Index::drop()
                    .name("ux_citizens_confirm")
                    .table(Citizens::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Citizens::Table)
                    .drop_column(Citizens::ConfirmTokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Citizens::Table)
                    .add_column(timestamp_with_time_zone_null(Citizens::PasswordChangedAt))
                    .to_owned(),
            )
            .await?;
        // Existing sessions count as created at the epoch: they end at the
        // upgrade (one more login), as any session older than the lifetime.
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(big_integer(Sessions::CreatedAtMs).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::CreatedAtMs)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Citizens::Table)
                    .drop_column(Citizens::PasswordChangedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Citizens::Table)
                    .add_column(string_len_null(Citizens::ConfirmTokenHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_citizens_confirm")
                    .table(Citizens::Table)
                    .col(Citizens::ConfirmTokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AccountTokens::Table).to_owned())
            .await
    }
}
