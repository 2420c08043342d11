//! Uploads of a wizard draft: one row per stored file, so a draft's files
//! can be counted against its quota, checked (a file field may only point to
//! an upload of its own draft), replaced and deleted with the draft.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FormDrafts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DraftUploads {
    Table,
    Id,
    TenantId,
    DraftId,
    FieldPath,
    FileKey,
    Name,
    Mime,
    Size,
    Sha256,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DraftUploads::Table)
                    .col(pk_uuid(DraftUploads::Id))
                    .col(uuid(DraftUploads::TenantId))
                    .col(uuid(DraftUploads::DraftId))
                    .col(string_len(DraftUploads::FieldPath, 300))
                    .col(string_len(DraftUploads::FileKey, 200))
                    .col(string_len(DraftUploads::Name, 200))
                    .col(string_len(DraftUploads::Mime, 100))
                    .col(big_integer(DraftUploads::Size))
                    .col(string_len(DraftUploads::Sha256, 64))
                    .col(timestamp_with_time_zone(DraftUploads::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_draft_uploads_tenant")
                            .from(DraftUploads::Table, DraftUploads::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_draft_uploads_draft")
                            .from(DraftUploads::Table, DraftUploads::DraftId)
                            .to(FormDrafts::Table, FormDrafts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_draft_uploads_draft")
                    .table(DraftUploads::Table)
                    .col(DraftUploads::TenantId)
                    .col(DraftUploads::DraftId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_draft_uploads_key")
                    .table(DraftUploads::Table)
                    .col(DraftUploads::FileKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DraftUploads::Table).to_owned())
            .await
    }
}
