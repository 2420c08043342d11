//! Citizen accounts, the applicant's notification address, Bescheid
//! templates per service and routing rules (Zuständigkeitsprüfung).

use sea_orm_migration::{prelude::*, schema::*};

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
enum Applications {
    Table,
    CitizenId,
    NotifyEmail,
}

#[derive(DeriveIden)]
enum Citizens {
    Table,
    Id,
    TenantId,
    Email,
    PasswordHash,
    Profile,
    ConfirmTokenHash,
    ConfirmedAt,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum DecisionTemplates {
    Table,
    Id,
    TenantId,
    ServiceId,
    Variant,
    Title,
    Body,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum RoutingRules {
    Table,
    Id,
    TenantId,
    ServiceId,
    Position,
    Field,
    Pattern,
    OrgUnitId,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Citizens::Table)
                    .col(pk_uuid(Citizens::Id))
                    .col(uuid(Citizens::TenantId))
                    .col(string_len(Citizens::Email, 254))
                    .col(string_len(Citizens::PasswordHash, 200))
                    .col(text(Citizens::Profile))
                    .col(string_len_null(Citizens::ConfirmTokenHash, 64))
                    .col(timestamp_with_time_zone_null(Citizens::ConfirmedAt))
                    .col(timestamp_with_time_zone(Citizens::CreatedAt))
                    .col(timestamp_with_time_zone_null(Citizens::LastLoginAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_citizens_tenant")
                            .from(Citizens::Table, Citizens::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_citizens_email")
                    .table(Citizens::Table)
                    .col(Citizens::TenantId)
                    .col(Citizens::Email)
                    .unique()
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
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(uuid_null(Applications::CitizenId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(string_len_null(Applications::NotifyEmail, 254))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_applications_citizen")
                    .table(Applications::Table)
                    .col(Alias::new("tenant_id"))
                    .col(Applications::CitizenId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DecisionTemplates::Table)
                    .col(pk_uuid(DecisionTemplates::Id))
                    .col(uuid(DecisionTemplates::TenantId))
                    .col(uuid_null(DecisionTemplates::ServiceId))
                    .col(string_len(DecisionTemplates::Variant, 20))
                    .col(string_len(DecisionTemplates::Title, 200))
                    .col(text(DecisionTemplates::Body))
                    .col(timestamp_with_time_zone(DecisionTemplates::UpdatedAt))
                    .col(string_len(DecisionTemplates::UpdatedBy, 254))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_decision_templates_tenant")
                            .from(DecisionTemplates::Table, DecisionTemplates::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_decision_templates_service")
                    .table(DecisionTemplates::Table)
                    .col(DecisionTemplates::TenantId)
                    .col(DecisionTemplates::ServiceId)
                    .col(DecisionTemplates::Variant)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoutingRules::Table)
                    .col(pk_uuid(RoutingRules::Id))
                    .col(uuid(RoutingRules::TenantId))
                    .col(uuid(RoutingRules::ServiceId))
                    .col(integer(RoutingRules::Position))
                    .col(string_len(RoutingRules::Field, 200))
                    .col(text(RoutingRules::Pattern))
                    .col(uuid(RoutingRules::OrgUnitId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_routing_rules_tenant")
                            .from(RoutingRules::Table, RoutingRules::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_routing_rules_org_unit")
                            .from(RoutingRules::Table, RoutingRules::OrgUnitId)
                            .to(OrgUnits::Table, OrgUnits::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_routing_rules_service")
                    .table(RoutingRules::Table)
                    .col(RoutingRules::TenantId)
                    .col(RoutingRules::ServiceId)
                    .col(RoutingRules::Position)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RoutingRules::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DecisionTemplates::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_applications_citizen")
                    .table(Applications::Table)
                    .to_owned(),
            )
            .await?;
        for col in [Applications::NotifyEmail, Applications::CitizenId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Applications::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Citizens::Table).to_owned())
            .await?;
        Ok(())
    }
}
