//! The e-file (E-Akte): the file plan and its retention rules, which plan
//! node a service files under, the tenant's file number scheme, the Vorgang
//! of each case with its documents and their immutable versions, hand-overs
//! to the archive (xdomea processes) with their items, and the deletion
//! records that stay when content is destroyed.
//!
//! A Vorgang refers to its case and application by id without a foreign
//! key: destroying the content deletes the application (and with it the case,
//! messages and files) while the Vorgang's number, status and deletion record
//! stay.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RecordPlanNodes {
    Table,
    Id,
    TenantId,
    ParentId,
    Code,
    Title,
    RetentionYears,
    RetentionTrigger,
    Disposition,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecordServiceNodes {
    Table,
    ServiceId,
    TenantId,
    NodeId,
}

#[derive(DeriveIden)]
enum RecordSettings {
    Table,
    TenantId,
    FileNumberScheme,
    ArchiveName,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RecordFiles {
    Table,
    Id,
    TenantId,
    CaseId,
    ApplicationId,
    PlanNodeId,
    OrgUnitId,
    FileNumber,
    Subject,
    Status,
    OpenedAt,
    ClosedAt,
    EventOn,
    LegalHold,
    LegalHoldReason,
    LegalHoldBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RecordDocuments {
    Table,
    Id,
    TenantId,
    RecordFileId,
    Number,
    Kind,
    Title,
    SourceId,
    DocumentDate,
    FiledAt,
    FiledBy,
}

#[derive(DeriveIden)]
enum RecordDocumentVersions {
    Table,
    Id,
    TenantId,
    DocumentId,
    Number,
    FileKey,
    FileName,
    Mime,
    Size,
    Sha256,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum RecordDisposals {
    Table,
    Id,
    TenantId,
    AsOf,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DestructionRequestedBy,
    DestructionApprovedBy,
}

#[derive(DeriveIden)]
enum RecordDisposalItems {
    Table,
    Id,
    TenantId,
    DisposalId,
    RecordFileId,
    Proposal,
    Decision,
    ArchiveId,
    ReceiptOk,
    ReceiptMessage,
}

/// The highest number of a tenant's year whose application was destroyed:
/// numbers are never given twice, also after a destruction took the
/// highest application away.
#[derive(DeriveIden)]
enum ApplicationNumberFloors {
    Table,
    TenantId,
    Year,
    FloorSeq,
}

#[derive(DeriveIden)]
enum RecordDeletions {
    Table,
    Id,
    TenantId,
    RecordFileId,
    FileNumber,
    DisposalId,
    Documents,
    DeletedAt,
    RequestedBy,
    ApprovedBy,
}

fn tenant_fk(name: &str, table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("tenant_id"))
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
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
        manager
            .create_table(
                Table::create()
                    .table(RecordPlanNodes::Table)
                    .col(pk_uuid(RecordPlanNodes::Id))
                    .col(uuid(RecordPlanNodes::TenantId))
                    .col(uuid_null(RecordPlanNodes::ParentId))
                    .col(string_len(RecordPlanNodes::Code, 40))
                    .col(string_len(RecordPlanNodes::Title, 200))
                    .col(integer_null(RecordPlanNodes::RetentionYears))
                    .col(string_len_null(RecordPlanNodes::RetentionTrigger, 20))
                    .col(string_len_null(RecordPlanNodes::Disposition, 1))
                    .col(timestamp_with_time_zone(RecordPlanNodes::CreatedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_plan_nodes_tenant",
                        RecordPlanNodes::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_record_plan_nodes_code",
                RecordPlanNodes::Table,
                &["tenant_id", "code"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecordServiceNodes::Table)
                    .col(pk_uuid(RecordServiceNodes::ServiceId))
                    .col(uuid(RecordServiceNodes::TenantId))
                    .col(uuid(RecordServiceNodes::NodeId))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_service_nodes_tenant",
                        RecordServiceNodes::Table,
                    ))
                    .foreign_key(&mut cascade(
                        "fk_record_service_nodes_node",
                        (RecordServiceNodes::Table, RecordServiceNodes::NodeId),
                        (RecordPlanNodes::Table, RecordPlanNodes::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecordSettings::Table)
                    .col(pk_uuid(RecordSettings::TenantId))
                    .col(string_len(RecordSettings::FileNumberScheme, 100))
                    .col(string_len(RecordSettings::ArchiveName, 200))
                    .col(timestamp_with_time_zone(RecordSettings::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_settings_tenant",
                        RecordSettings::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecordFiles::Table)
                    .col(pk_uuid(RecordFiles::Id))
                    .col(uuid(RecordFiles::TenantId))
                    .col(uuid(RecordFiles::CaseId))
                    .col(uuid(RecordFiles::ApplicationId))
                    .col(uuid_null(RecordFiles::PlanNodeId))
                    .col(uuid(RecordFiles::OrgUnitId))
                    .col(string_len(RecordFiles::FileNumber, 140))
                    .col(string_len(RecordFiles::Subject, 300))
                    .col(string_len(RecordFiles::Status, 20))
                    .col(timestamp_with_time_zone(RecordFiles::OpenedAt))
                    .col(timestamp_with_time_zone_null(RecordFiles::ClosedAt))
                    .col(date_null(RecordFiles::EventOn))
                    .col(boolean(RecordFiles::LegalHold).default(false))
                    .col(string_len_null(RecordFiles::LegalHoldReason, 500))
                    .col(uuid_null(RecordFiles::LegalHoldBy))
                    .col(timestamp_with_time_zone(RecordFiles::UpdatedAt))
                    .foreign_key(&mut tenant_fk("fk_record_files_tenant", RecordFiles::Table))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            ("ux_record_files_case", &["tenant_id", "case_id"][..], true),
            (
                "ux_record_files_number",
                &["tenant_id", "file_number"][..],
                true,
            ),
            (
                "ix_record_files_status",
                &["tenant_id", "status", "event_on"][..],
                false,
            ),
        ] {
            manager
                .create_index(index(name, RecordFiles::Table, cols, unique))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RecordDocuments::Table)
                    .col(pk_uuid(RecordDocuments::Id))
                    .col(uuid(RecordDocuments::TenantId))
                    .col(uuid(RecordDocuments::RecordFileId))
                    .col(integer(RecordDocuments::Number))
                    .col(string_len(RecordDocuments::Kind, 30))
                    .col(string_len(RecordDocuments::Title, 300))
                    .col(uuid_null(RecordDocuments::SourceId))
                    .col(date(RecordDocuments::DocumentDate))
                    .col(timestamp_with_time_zone(RecordDocuments::FiledAt))
                    .col(uuid_null(RecordDocuments::FiledBy))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_documents_tenant",
                        RecordDocuments::Table,
                    ))
                    .foreign_key(&mut cascade(
                        "fk_record_documents_file",
                        (RecordDocuments::Table, RecordDocuments::RecordFileId),
                        (RecordFiles::Table, RecordFiles::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ux_record_documents_number",
                &["record_file_id", "number"][..],
                true,
            ),
            // A source (an application file, a message) is filed once.
            (
                "ux_record_documents_source",
                &["record_file_id", "kind", "source_id"][..],
                true,
            ),
        ] {
            manager
                .create_index(index(name, RecordDocuments::Table, cols, unique))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RecordDocumentVersions::Table)
                    .col(pk_uuid(RecordDocumentVersions::Id))
                    .col(uuid(RecordDocumentVersions::TenantId))
                    .col(uuid(RecordDocumentVersions::DocumentId))
                    .col(integer(RecordDocumentVersions::Number))
                    .col(string_len(RecordDocumentVersions::FileKey, 300))
                    .col(string_len(RecordDocumentVersions::FileName, 200))
                    .col(string_len(RecordDocumentVersions::Mime, 100))
                    .col(big_integer(RecordDocumentVersions::Size))
                    .col(string_len(RecordDocumentVersions::Sha256, 64))
                    .col(timestamp_with_time_zone(RecordDocumentVersions::CreatedAt))
                    .col(uuid_null(RecordDocumentVersions::CreatedBy))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_document_versions_tenant",
                        RecordDocumentVersions::Table,
                    ))
                    .foreign_key(&mut cascade(
                        "fk_record_document_versions_document",
                        (
                            RecordDocumentVersions::Table,
                            RecordDocumentVersions::DocumentId,
                        ),
                        (RecordDocuments::Table, RecordDocuments::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_record_document_versions_number",
                RecordDocumentVersions::Table,
                &["document_id", "number"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecordDisposals::Table)
                    .col(pk_uuid(RecordDisposals::Id))
                    .col(uuid(RecordDisposals::TenantId))
                    .col(date(RecordDisposals::AsOf))
                    .col(string_len(RecordDisposals::Status, 30))
                    .col(uuid(RecordDisposals::CreatedBy))
                    .col(timestamp_with_time_zone(RecordDisposals::CreatedAt))
                    .col(timestamp_with_time_zone(RecordDisposals::UpdatedAt))
                    .col(uuid_null(RecordDisposals::DestructionRequestedBy))
                    .col(uuid_null(RecordDisposals::DestructionApprovedBy))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_disposals_tenant",
                        RecordDisposals::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecordDisposalItems::Table)
                    .col(pk_uuid(RecordDisposalItems::Id))
                    .col(uuid(RecordDisposalItems::TenantId))
                    .col(uuid(RecordDisposalItems::DisposalId))
                    .col(uuid(RecordDisposalItems::RecordFileId))
                    .col(string_len(RecordDisposalItems::Proposal, 1))
                    .col(string_len_null(RecordDisposalItems::Decision, 1))
                    .col(string_len_null(RecordDisposalItems::ArchiveId, 200))
                    .col(boolean_null(RecordDisposalItems::ReceiptOk))
                    .col(string_len_null(RecordDisposalItems::ReceiptMessage, 500))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_disposal_items_tenant",
                        RecordDisposalItems::Table,
                    ))
                    .foreign_key(&mut cascade(
                        "fk_record_disposal_items_disposal",
                        (RecordDisposalItems::Table, RecordDisposalItems::DisposalId),
                        (RecordDisposals::Table, RecordDisposals::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_record_disposal_items_file",
                RecordDisposalItems::Table,
                &["disposal_id", "record_file_id"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecordDeletions::Table)
                    .col(pk_uuid(RecordDeletions::Id))
                    .col(uuid(RecordDeletions::TenantId))
                    .col(uuid(RecordDeletions::RecordFileId))
                    .col(string_len(RecordDeletions::FileNumber, 140))
                    .col(uuid_null(RecordDeletions::DisposalId))
                    .col(text(RecordDeletions::Documents))
                    .col(timestamp_with_time_zone(RecordDeletions::DeletedAt))
                    .col(uuid(RecordDeletions::RequestedBy))
                    .col(uuid(RecordDeletions::ApprovedBy))
                    .foreign_key(&mut tenant_fk(
                        "fk_record_deletions_tenant",
                        RecordDeletions::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApplicationNumberFloors::Table)
                    .col(uuid(ApplicationNumberFloors::TenantId))
                    .col(integer(ApplicationNumberFloors::Year))
                    .col(big_integer(ApplicationNumberFloors::FloorSeq))
                    .primary_key(
                        Index::create()
                            .col(ApplicationNumberFloors::TenantId)
                            .col(ApplicationNumberFloors::Year),
                    )
                    .foreign_key(&mut tenant_fk(
                        "fk_application_number_floors_tenant",
                        ApplicationNumberFloors::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_record_deletions_file",
                RecordDeletions::Table,
                &["tenant_id", "record_file_id"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ApplicationNumberFloors::Table.into_iden(),
            RecordDeletions::Table.into_iden(),
            RecordDisposalItems::Table.into_iden(),
            RecordDisposals::Table.into_iden(),
            RecordDocumentVersions::Table.into_iden(),
            RecordDocuments::Table.into_iden(),
            RecordFiles::Table.into_iden(),
            RecordSettings::Table.into_iden(),
            RecordServiceNodes::Table.into_iden(),
            RecordPlanNodes::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
