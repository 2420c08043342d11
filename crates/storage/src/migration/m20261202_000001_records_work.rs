//! The e-file at work: the text of each filed version (for full-text search)
//! and its seal, the tenants' seal keys, the electronic in-tray with its
//! routing rules and learned classifier, the Umlaufmappe (circulation of a
//! Vorgang through an ordered list of people) and changes of the file plan
//! that wait for a second person.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RecordDocumentVersions {
    Table,
    Text,
    Seal,
}

#[derive(DeriveIden)]
enum SealKeys {
    Table,
    Id,
    TenantId,
    Algorithm,
    PrivateKey,
    Certificate,
    Fingerprint,
    CreatedAt,
    Active,
}

#[derive(DeriveIden)]
enum IntrayItems {
    Table,
    Id,
    TenantId,
    Status,
    ReceivedAt,
    UploadedBy,
    FileKey,
    FileName,
    Mime,
    Size,
    Sha256,
    Kind,
    Sender,
    Subject,
    Text,
    Proposals,
    TargetFileId,
    DocumentId,
    DecidedBy,
    DecidedAt,
}

#[derive(DeriveIden)]
enum IntrayRules {
    Table,
    Id,
    TenantId,
    Name,
    Priority,
    Sender,
    Keywords,
    Target,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IntrayModels {
    Table,
    TenantId,
    Model,
    Evaluation,
    Samples,
    TrainedAt,
    TrainedBy,
}

#[derive(DeriveIden)]
enum Circulations {
    Table,
    Id,
    TenantId,
    RecordFileId,
    DocumentId,
    Title,
    Instruction,
    StartedBy,
    StartedAt,
    Status,
    CurrentStep,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CirculationSteps {
    Table,
    Id,
    TenantId,
    CirculationId,
    Position,
    UserId,
    Status,
    Comment,
    DoneAt,
}

#[derive(DeriveIden)]
enum RecordPlanChanges {
    Table,
    Id,
    TenantId,
    Payload,
    Summary,
    RequestedBy,
    RequestedAt,
    Status,
    ReviewedBy,
    ReviewedAt,
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
        // SQLite takes one column per ALTER TABLE.
        for col in [
            text_null(RecordDocumentVersions::Text),
            text_null(RecordDocumentVersions::Seal),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RecordDocumentVersions::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(index(
                "ix_record_document_versions_sha256",
                RecordDocumentVersions::Table,
                &["sha256"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SealKeys::Table)
                    .col(pk_uuid(SealKeys::Id))
                    .col(uuid(SealKeys::TenantId))
                    .col(string_len(SealKeys::Algorithm, 30))
                    .col(text(SealKeys::PrivateKey))
                    .col(text(SealKeys::Certificate))
                    .col(string_len(SealKeys::Fingerprint, 64))
                    .col(timestamp_with_time_zone(SealKeys::CreatedAt))
                    .col(boolean(SealKeys::Active))
                    .foreign_key(&mut tenant_fk("fk_seal_keys_tenant", SealKeys::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_seal_keys_tenant",
                SealKeys::Table,
                &["tenant_id", "active"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IntrayItems::Table)
                    .col(pk_uuid(IntrayItems::Id))
                    .col(uuid(IntrayItems::TenantId))
                    .col(string_len(IntrayItems::Status, 20))
                    .col(timestamp_with_time_zone(IntrayItems::ReceivedAt))
                    .col(uuid(IntrayItems::UploadedBy))
                    .col(string_len(IntrayItems::FileKey, 300))
                    .col(string_len(IntrayItems::FileName, 200))
                    .col(string_len(IntrayItems::Mime, 100))
                    .col(big_integer(IntrayItems::Size))
                    .col(string_len(IntrayItems::Sha256, 64))
                    .col(string_len(IntrayItems::Kind, 20))
                    .col(string_len_null(IntrayItems::Sender, 300))
                    .col(string_len_null(IntrayItems::Subject, 300))
                    .col(text(IntrayItems::Text))
                    .col(text(IntrayItems::Proposals))
                    .col(uuid_null(IntrayItems::TargetFileId))
                    .col(uuid_null(IntrayItems::DocumentId))
                    .col(uuid_null(IntrayItems::DecidedBy))
                    .col(timestamp_with_time_zone_null(IntrayItems::DecidedAt))
                    .foreign_key(&mut tenant_fk("fk_intray_items_tenant", IntrayItems::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_intray_items_status",
                IntrayItems::Table,
                &["tenant_id", "status", "received_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IntrayRules::Table)
                    .col(pk_uuid(IntrayRules::Id))
                    .col(uuid(IntrayRules::TenantId))
                    .col(string_len(IntrayRules::Name, 120))
                    .col(integer(IntrayRules::Priority))
                    .col(string_len_null(IntrayRules::Sender, 200))
                    .col(text(IntrayRules::Keywords))
                    .col(text(IntrayRules::Target))
                    .col(uuid(IntrayRules::CreatedBy))
                    .col(timestamp_with_time_zone(IntrayRules::CreatedAt))
                    .foreign_key(&mut tenant_fk("fk_intray_rules_tenant", IntrayRules::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_intray_rules_tenant",
                IntrayRules::Table,
                &["tenant_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IntrayModels::Table)
                    .col(pk_uuid(IntrayModels::TenantId))
                    .col(text(IntrayModels::Model))
                    .col(text(IntrayModels::Evaluation))
                    .col(integer(IntrayModels::Samples))
                    .col(timestamp_with_time_zone(IntrayModels::TrainedAt))
                    .col(uuid_null(IntrayModels::TrainedBy))
                    .foreign_key(&mut tenant_fk(
                        "fk_intray_models_tenant",
                        IntrayModels::Table,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Circulations::Table)
                    .col(pk_uuid(Circulations::Id))
                    .col(uuid(Circulations::TenantId))
                    .col(uuid(Circulations::RecordFileId))
                    .col(uuid_null(Circulations::DocumentId))
                    .col(string_len(Circulations::Title, 200))
                    .col(string_len(Circulations::Instruction, 2000))
                    .col(uuid(Circulations::StartedBy))
                    .col(timestamp_with_time_zone(Circulations::StartedAt))
                    .col(string_len(Circulations::Status, 20))
                    .col(integer(Circulations::CurrentStep))
                    .col(timestamp_with_time_zone(Circulations::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_circulations_tenant",
                        Circulations::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_circulations_file",
                Circulations::Table,
                &["tenant_id", "record_file_id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CirculationSteps::Table)
                    .col(pk_uuid(CirculationSteps::Id))
                    .col(uuid(CirculationSteps::TenantId))
                    .col(uuid(CirculationSteps::CirculationId))
                    .col(integer(CirculationSteps::Position))
                    .col(uuid(CirculationSteps::UserId))
                    .col(string_len(CirculationSteps::Status, 20))
                    .col(string_len_null(CirculationSteps::Comment, 2000))
                    .col(timestamp_with_time_zone_null(CirculationSteps::DoneAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_circulation_steps_tenant",
                        CirculationSteps::Table,
                    ))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("fk_circulation_steps_circulation")
                            .from(CirculationSteps::Table, CirculationSteps::CirculationId)
                            .to(Circulations::Table, Circulations::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ux_circulation_steps_position",
                &["circulation_id", "position"][..],
                true,
            ),
            (
                "ix_circulation_steps_user",
                &["tenant_id", "user_id", "status"][..],
                false,
            ),
        ] {
            manager
                .create_index(index(name, CirculationSteps::Table, cols, unique))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RecordPlanChanges::Table)
                    .col(pk_uuid(RecordPlanChanges::Id))
                    .col(uuid(RecordPlanChanges::TenantId))
                    .col(text(RecordPlanChanges::Payload))
                    .col(string_len(RecordPlanChanges::Summary, 500))
                    .col(uuid(RecordPlanChanges::RequestedBy))
                    .col(timestamp_with_time_zone(RecordPlanChanges::RequestedAt))
                    .col(string_len(RecordPlanChanges::Status, 20))
                    .col(uuid_null(RecordPlanChanges::ReviewedBy))
                    .col(timestamp_with_time_zone_null(RecordPlanChanges::ReviewedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_plan_changes_tenant",
                        RecordPlanChanges::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_record_plan_changes_status",
                RecordPlanChanges::Table,
                &["tenant_id", "status"],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            RecordPlanChanges::Table.into_iden(),
            CirculationSteps::Table.into_iden(),
            Circulations::Table.into_iden(),
            IntrayModels::Table.into_iden(),
            IntrayRules::Table.into_iden(),
            IntrayItems::Table.into_iden(),
            SealKeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ix_record_document_versions_sha256")
                    .table(RecordDocumentVersions::Table)
                    .to_owned(),
            )
            .await?;
        for c in [RecordDocumentVersions::Seal, RecordDocumentVersions::Text] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RecordDocumentVersions::Table)
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
