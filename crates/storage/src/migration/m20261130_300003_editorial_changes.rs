//! Changes to a record outside its versions (archiving a service, attaching
//! a form to a service) go through the four eyes too: the request is a row
//! here; another editor's approval applies it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum EditorialChanges {
    Table,
    Id,
    TenantId,
    Kind,
    RecordId,
    Action,
    TargetId,
    RequestedBy,
    RequestedAt,
    Status,
    ReviewedBy,
    ReviewedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EditorialChanges::Table)
                    .col(pk_uuid(EditorialChanges::Id))
                    .col(uuid(EditorialChanges::TenantId))
                    .col(string_len(EditorialChanges::Kind, 20))
                    .col(uuid(EditorialChanges::RecordId))
                    .col(string_len(EditorialChanges::Action, 20))
                    .col(uuid_null(EditorialChanges::TargetId))
                    .col(uuid(EditorialChanges::RequestedBy))
                    .col(timestamp_with_time_zone(EditorialChanges::RequestedAt))
                    .col(string_len(EditorialChanges::Status, 20))
                    .col(uuid_null(EditorialChanges::ReviewedBy))
                    .col(timestamp_with_time_zone_null(EditorialChanges::ReviewedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_editorial_changes_tenant")
                            .from(EditorialChanges::Table, EditorialChanges::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_editorial_changes_record")
                    .table(EditorialChanges::Table)
                    .col(EditorialChanges::TenantId)
                    .col(EditorialChanges::RecordId)
                    .col(EditorialChanges::Status)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EditorialChanges::Table).to_owned())
            .await
    }
}
