use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OrgUnits {
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
    TenantId,
    Slug,
    PublishedVersionId,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServiceVersions {
    Table,
    Id,
    TenantId,
    ServiceId,
    Number,
    Status,
    OrgUnitId,
    Content,
    AuthorId,
    SubmittedBy,
    ReviewedBy,
    ReviewedAt,
    ReviewComment,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CatalogIndexLog {
    Table,
    Id,
    TenantId,
    ServiceId,
    CreatedAtMs,
}

#[derive(DeriveIden)]
enum SearchSynonyms {
    Table,
    Id,
    TenantId,
    Term,
    Expansion,
    CreatedAt,
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
                    .table(Services::Table)
                    .col(pk_uuid(Services::Id))
                    .col(uuid(Services::TenantId))
                    .col(string_len(Services::Slug, 80))
                    .col(uuid_null(Services::PublishedVersionId))
                    .col(timestamp_with_time_zone_null(Services::ArchivedAt))
                    .col(timestamp_with_time_zone(Services::CreatedAt))
                    .col(timestamp_with_time_zone(Services::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_services_tenant",
                        (Services::Table, Services::TenantId),
                        (Tenants::Table, Tenants::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_services_tenant_slug")
                    .table(Services::Table)
                    .col(Services::TenantId)
                    .col(Services::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServiceVersions::Table)
                    .col(pk_uuid(ServiceVersions::Id))
                    .col(uuid(ServiceVersions::TenantId))
                    .col(uuid(ServiceVersions::ServiceId))
                    .col(integer(ServiceVersions::Number))
                    .col(string_len(ServiceVersions::Status, 20))
                    .col(uuid(ServiceVersions::OrgUnitId))
                    .col(text(ServiceVersions::Content))
                    .col(uuid(ServiceVersions::AuthorId))
                    .col(uuid_null(ServiceVersions::SubmittedBy))
                    .col(uuid_null(ServiceVersions::ReviewedBy))
                    .col(timestamp_with_time_zone_null(ServiceVersions::ReviewedAt))
                    .col(text_null(ServiceVersions::ReviewComment))
                    .col(timestamp_with_time_zone(ServiceVersions::CreatedAt))
                    .col(timestamp_with_time_zone(ServiceVersions::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_service_versions_tenant",
                        (ServiceVersions::Table, ServiceVersions::TenantId),
                        (Tenants::Table, Tenants::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_service_versions_service",
                        (ServiceVersions::Table, ServiceVersions::ServiceId),
                        (Services::Table, Services::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_service_versions_org_unit",
                        (ServiceVersions::Table, ServiceVersions::OrgUnitId),
                        (OrgUnits::Table, OrgUnits::Id),
                        false,
                    ))
                    .foreign_key(&mut fk(
                        "fk_service_versions_author",
                        (ServiceVersions::Table, ServiceVersions::AuthorId),
                        (Users::Table, Users::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_service_versions_number")
                    .table(ServiceVersions::Table)
                    .col(ServiceVersions::ServiceId)
                    .col(ServiceVersions::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CatalogIndexLog::Table)
                    .col(big_pk_auto(CatalogIndexLog::Id))
                    .col(uuid(CatalogIndexLog::TenantId))
                    .col(uuid(CatalogIndexLog::ServiceId))
                    .col(big_integer(CatalogIndexLog::CreatedAtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SearchSynonyms::Table)
                    .col(pk_uuid(SearchSynonyms::Id))
                    .col(uuid(SearchSynonyms::TenantId))
                    .col(string_len(SearchSynonyms::Term, 100))
                    .col(string_len(SearchSynonyms::Expansion, 200))
                    .col(timestamp_with_time_zone(SearchSynonyms::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_search_synonyms_tenant",
                        (SearchSynonyms::Table, SearchSynonyms::TenantId),
                        (Tenants::Table, Tenants::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_search_synonyms")
                    .table(SearchSynonyms::Table)
                    .col(SearchSynonyms::TenantId)
                    .col(SearchSynonyms::Term)
                    .col(SearchSynonyms::Expansion)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            SearchSynonyms::Table.into_iden(),
            CatalogIndexLog::Table.into_iden(),
            ServiceVersions::Table.into_iden(),
            Services::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
