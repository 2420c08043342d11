use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Slug,
    Name,
    Ags,
    Host,
    Street,
    PostalCode,
    City,
    Phone,
    Email,
    Website,
    Representative,
    SupervisoryAuthority,
    DpoName,
    DpoEmail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrgUnits {
    Table,
    Id,
    TenantId,
    ParentId,
    Kind,
    Name,
    ShortName,
    Street,
    PostalCode,
    City,
    Phone,
    Email,
    OpeningHours,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(pk_uuid(Tenants::Id))
                    .col(string_len_uniq(Tenants::Slug, 40))
                    .col(string_len(Tenants::Name, 200))
                    .col(string_len(Tenants::Ags, 8))
                    .col(string_len_null(Tenants::Host, 253).unique_key())
                    .col(string_len(Tenants::Street, 200))
                    .col(string_len(Tenants::PostalCode, 5))
                    .col(string_len(Tenants::City, 200))
                    .col(string_len(Tenants::Phone, 50))
                    .col(string_len(Tenants::Email, 254))
                    .col(string_len(Tenants::Website, 500))
                    .col(string_len(Tenants::Representative, 200))
                    .col(string_len(Tenants::SupervisoryAuthority, 300))
                    .col(string_len(Tenants::DpoName, 200))
                    .col(string_len(Tenants::DpoEmail, 254))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrgUnits::Table)
                    .col(pk_uuid(OrgUnits::Id))
                    .col(uuid(OrgUnits::TenantId))
                    .col(uuid_null(OrgUnits::ParentId))
                    .col(string_len(OrgUnits::Kind, 20))
                    .col(string_len(OrgUnits::Name, 200))
                    .col(string_len(OrgUnits::ShortName, 40))
                    .col(string_len(OrgUnits::Street, 200))
                    .col(string_len(OrgUnits::PostalCode, 5))
                    .col(string_len(OrgUnits::City, 200))
                    .col(string_len(OrgUnits::Phone, 50))
                    .col(string_len(OrgUnits::Email, 254))
                    .col(text(OrgUnits::OpeningHours))
                    .col(timestamp_with_time_zone(OrgUnits::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_units_tenant")
                            .from(OrgUnits::Table, OrgUnits::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_units_parent")
                            .from(OrgUnits::Table, OrgUnits::ParentId)
                            .to(OrgUnits::Table, OrgUnits::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_org_units_tenant_name")
                    .table(OrgUnits::Table)
                    .col(OrgUnits::TenantId)
                    .col(OrgUnits::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrgUnits::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await
    }
}
