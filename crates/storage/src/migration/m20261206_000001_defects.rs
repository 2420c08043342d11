//! Mängelmelder (C9): report categories (Open311 services) with their extra
//! attributes and routing, the reports (each also an application with a case
//! in the routed org unit's inbox), their public updates, and the API keys
//! of the apps that write through Open311, and the town's street list with
//! coordinates (the address of a report without a map or an outside
//! geocoder).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DefectCategories {
    Table,
    Id,
    TenantId,
    Code,
    Name,
    Description,
    Keywords,
    GroupName,
    OrgUnitId,
    Routes,
    Attributes,
    Position,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DefectReports {
    Table,
    Id,
    TenantId,
    CategoryId,
    ApplicationId,
    CaseId,
    Reference,
    Token,
    Status,
    Lat,
    Long,
    Address,
    PostalCode,
    Landmark,
    Description,
    Attributes,
    Email,
    FirstName,
    LastName,
    Phone,
    CitizenId,
    ApiKeyId,
    MediaUrl,
    PublicNote,
    TextPublic,
    PhotosPublic,
    ModeratedAt,
    MergedInto,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum DefectUpdates {
    Table,
    Id,
    TenantId,
    ReportId,
    Status,
    Note,
    ActorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DefectStreets {
    Table,
    Id,
    TenantId,
    Name,
    PostalCode,
    Lat,
    Long,
}

#[derive(DeriveIden)]
enum DefectApiKeys {
    Table,
    Id,
    TenantId,
    Name,
    KeyHash,
    Prefix,
    CreatedBy,
    CreatedAt,
    RevokedAt,
    LastUsedAt,
}

fn tenant_fk(name: &str, table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("tenant_id"))
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use DefectCategories as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(pk_uuid(C::Id))
                    .col(uuid(C::TenantId))
                    .col(string_len(C::Code, 40))
                    .col(string_len(C::Name, 200))
                    .col(text(C::Description))
                    .col(string_len(C::Keywords, 300))
                    .col(string_len(C::GroupName, 100))
                    .col(uuid(C::OrgUnitId))
                    .col(text(C::Routes))
                    .col(text(C::Attributes))
                    .col(integer(C::Position))
                    .col(boolean(C::Active))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .foreign_key(&mut tenant_fk("fk_defect_categories_tenant", C::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_defect_categories_code",
                C::Table,
                &["tenant_id", "code"],
                true,
            ))
            .await?;
        use DefectReports as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(pk_uuid(R::Id))
                    .col(uuid(R::TenantId))
                    .col(uuid(R::CategoryId))
                    .col(uuid(R::ApplicationId))
                    .col(uuid(R::CaseId))
                    .col(string_len(R::Reference, 40))
                    .col(string_len(R::Token, 40))
                    .col(string_len(R::Status, 16))
                    .col(double_null(R::Lat))
                    .col(double_null(R::Long))
                    .col(string_len_null(R::Address, 300))
                    .col(string_len_null(R::PostalCode, 10))
                    .col(string_len_null(R::Landmark, 300))
                    .col(text(R::Description))
                    .col(text(R::Attributes))
                    .col(string_len_null(R::Email, 254))
                    .col(string_len_null(R::FirstName, 100))
                    .col(string_len_null(R::LastName, 100))
                    .col(string_len_null(R::Phone, 40))
                    .col(uuid_null(R::CitizenId))
                    .col(uuid_null(R::ApiKeyId))
                    .col(string_len_null(R::MediaUrl, 500))
                    .col(text_null(R::PublicNote))
                    .col(boolean(R::TextPublic).default(false))
                    .col(boolean(R::PhotosPublic).default(false))
                    .col(timestamp_with_time_zone_null(R::ModeratedAt))
                    .col(uuid_null(R::MergedInto))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .col(timestamp_with_time_zone_null(R::ClosedAt))
                    .foreign_key(&mut tenant_fk("fk_defect_reports_tenant", R::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_defect_reports_category")
                            .from(R::Table, R::CategoryId)
                            .to(C::Table, C::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ux_defect_reports_reference",
                &["tenant_id", "reference"][..],
                true,
            ),
            ("ux_defect_reports_token", &["tenant_id", "token"][..], true),
            ("ux_defect_reports_case", &["case_id"][..], true),
            (
                "ix_defect_reports_created",
                &["tenant_id", "created_at"][..],
                false,
            ),
            (
                "ix_defect_reports_near",
                &["tenant_id", "category_id", "status", "lat"][..],
                false,
            ),
        ] {
            manager
                .create_index(index(name, R::Table, cols, unique))
                .await?;
        }
        use DefectUpdates as U;
        manager
            .create_table(
                Table::create()
                    .table(U::Table)
                    .col(pk_uuid(U::Id))
                    .col(uuid(U::TenantId))
                    .col(uuid(U::ReportId))
                    .col(string_len(U::Status, 16))
                    .col(text_null(U::Note))
                    .col(uuid_null(U::ActorId))
                    .col(timestamp_with_time_zone(U::CreatedAt))
                    .foreign_key(&mut tenant_fk("fk_defect_updates_tenant", U::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_defect_updates_report")
                            .from(U::Table, U::ReportId)
                            .to(R::Table, R::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_defect_updates_report",
                U::Table,
                &["report_id", "created_at"],
                false,
            ))
            .await?;
        use DefectApiKeys as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(pk_uuid(K::Id))
                    .col(uuid(K::TenantId))
                    .col(string_len(K::Name, 100))
                    .col(string_len(K::KeyHash, 64))
                    .col(string_len(K::Prefix, 12))
                    .col(uuid_null(K::CreatedBy))
                    .col(timestamp_with_time_zone(K::CreatedAt))
                    .col(timestamp_with_time_zone_null(K::RevokedAt))
                    .col(timestamp_with_time_zone_null(K::LastUsedAt))
                    .foreign_key(&mut tenant_fk("fk_defect_api_keys_tenant", K::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_defect_api_keys_hash",
                K::Table,
                &["key_hash"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ux_defect_api_keys_name",
                K::Table,
                &["tenant_id", "name"],
                true,
            ))
            .await?;
        use DefectStreets as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(pk_uuid(S::Id))
                    .col(uuid(S::TenantId))
                    .col(string_len(S::Name, 200))
                    .col(string_len(S::PostalCode, 10))
                    .col(double(S::Lat))
                    .col(double(S::Long))
                    .foreign_key(&mut tenant_fk("fk_defect_streets_tenant", S::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_defect_streets_name",
                S::Table,
                &["tenant_id", "name", "postal_code"],
                true,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            DefectStreets::Table.into_iden(),
            DefectApiKeys::Table.into_iden(),
            DefectUpdates::Table.into_iden(),
            DefectReports::Table.into_iden(),
            DefectCategories::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
