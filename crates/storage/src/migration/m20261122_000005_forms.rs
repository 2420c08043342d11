use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Forms {
    Table,
    Id,
    TenantId,
    Key,
    ServiceId,
    PublishedVersionId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FormVersions {
    Table,
    Id,
    TenantId,
    FormId,
    Number,
    Status,
    Definition,
    ImportReport,
    AuthorId,
    SubmittedBy,
    ReviewedBy,
    ReviewedAt,
    ReviewComment,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FormDrafts {
    Table,
    Id,
    TenantId,
    FormVersionId,
    TokenHash,
    Data,
    Step,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    cascade: bool,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(if cascade {
            ForeignKeyAction::Cascade
        } else {
            ForeignKeyAction::Restrict
        })
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Forms::Table)
                    .col(pk_uuid(Forms::Id))
                    .col(uuid(Forms::TenantId))
                    .col(string_len(Forms::Key, 80))
                    .col(uuid_null(Forms::ServiceId))
                    .col(uuid_null(Forms::PublishedVersionId))
                    .col(timestamp_with_time_zone(Forms::CreatedAt))
                    .col(timestamp_with_time_zone(Forms::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_forms_tenant",
                        (Forms::Table, Forms::TenantId),
                        (Tenants::Table, Tenants::Id),
                        true,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_forms_service")
                            .from(Forms::Table, Forms::ServiceId)
                            .to(Services::Table, Services::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_forms_tenant_key")
                    .table(Forms::Table)
                    .col(Forms::TenantId)
                    .col(Forms::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_forms_service")
                    .table(Forms::Table)
                    .col(Forms::TenantId)
                    .col(Forms::ServiceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FormVersions::Table)
                    .col(pk_uuid(FormVersions::Id))
                    .col(uuid(FormVersions::TenantId))
                    .col(uuid(FormVersions::FormId))
                    .col(integer(FormVersions::Number))
                    .col(string_len(FormVersions::Status, 20))
                    .col(text(FormVersions::Definition))
                    .col(text_null(FormVersions::ImportReport))
                    .col(uuid(FormVersions::AuthorId))
                    .col(uuid_null(FormVersions::SubmittedBy))
                    .col(uuid_null(FormVersions::ReviewedBy))
                    .col(timestamp_with_time_zone_null(FormVersions::ReviewedAt))
                    .col(text_null(FormVersions::ReviewComment))
                    .col(timestamp_with_time_zone(FormVersions::CreatedAt))
                    .col(timestamp_with_time_zone(FormVersions::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_form_versions_tenant",
                        (FormVersions::Table, FormVersions::TenantId),
                        (Tenants::Table, Tenants::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_form_versions_form",
                        (FormVersions::Table, FormVersions::FormId),
                        (Forms::Table, Forms::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_form_versions_author",
                        (FormVersions::Table, FormVersions::AuthorId),
                        (Users::Table, Users::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_form_versions_number")
                    .table(FormVersions::Table)
                    .col(FormVersions::FormId)
                    .col(FormVersions::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FormDrafts::Table)
                    .col(pk_uuid(FormDrafts::Id))
                    .col(uuid(FormDrafts::TenantId))
                    .col(uuid(FormDrafts::FormVersionId))
                    .col(string_len(FormDrafts::TokenHash, 64))
                    .col(text(FormDrafts::Data))
                    .col(integer(FormDrafts::Step))
                    .col(timestamp_with_time_zone(FormDrafts::ExpiresAt))
                    .col(timestamp_with_time_zone(FormDrafts::CreatedAt))
                    .col(timestamp_with_time_zone(FormDrafts::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_form_drafts_tenant",
                        (FormDrafts::Table, FormDrafts::TenantId),
                        (Tenants::Table, Tenants::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_form_drafts_version",
                        (FormDrafts::Table, FormDrafts::FormVersionId),
                        (FormVersions::Table, FormVersions::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_form_drafts_token")
                    .table(FormDrafts::Table)
                    .col(FormDrafts::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_form_drafts_expires")
                    .table(FormDrafts::Table)
                    .col(FormDrafts::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            FormDrafts::Table.into_iden(),
            FormVersions::Table.into_iden(),
            Forms::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
