//! The e-file (C6): filing cases, reading a case's Vorgang and the file
//! plan, legal holds, and the hand-over to the archive in xdomea 3.0.0
//! (0501 offer → 0502 evaluation read → 0503 package → receipts read →
//! destruction on four eyes).
//!
//! Who may: a Vorgang is read by the clerks of its case's org unit (the one
//! case-scope rule) and by the Fachadministration; the plan by both; legal
//! holds and hand-overs only by the Fachadministration
//! ([`Permission::AdministerTenant`]). Every hand-over call is audited under
//! the hand-over's id (its xdomea ProzessID).

use bytes::Bytes;
use chrono::{NaiveDate, Utc};
use rathaus_domain::{
    cases::CaseStatus,
    permissions::Permission,
    records::{
        self as rules, DisposalStatus, DisposalStep, Disposition, DocumentKind, FileNumberScheme,
        FileStatus, PlanCode, PlanNode, RecordsError, RetentionTrigger,
    },
    tenancy::TenantId,
};
use rathaus_standards::xdomea;
use rathaus_storage::{
    StorageError,
    applications::{ApplicationRepository, RECEIPT_PATH},
    cases::CaseRepository,
    catalog::CatalogRepository,
    mailbox::MailboxRepository,
    records::{
        AuditNote, Deletion, Disposal, DisposalItem, FiledDocument, Filing, ItemChange,
        NewDocument, RecordFile, RecordRepository,
    },
    tenancy::{OrgUnitRepository, TenantRepository},
};
use uuid::Uuid;

use crate::{Actor, App, UseCaseError, UseCaseResult};

/// Longest accepted xdomea message from the archive.
pub const MAX_XDOMEA_BYTES: usize = 10 * 1024 * 1024;
/// Longest reason for a legal hold.
pub const MAX_HOLD_REASON_CHARS: usize = 500;

impl From<RecordsError> for UseCaseError {
    fn from(e: RecordsError) -> Self {
        UseCaseError::Workflow(e.code())
    }
}

/// A node of the plan with the services filed under it.
#[derive(Debug, Clone)]
pub struct PlanEntry {
    pub node: PlanNode,
    /// The rule that applies (its own or the nearest ancestor's).
    pub effective: Option<rules::Retention>,
    pub services: Vec<(Uuid, String)>,
}

/// A case's Vorgang as staff read it.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub file: RecordFile,
    pub plan: Option<PlanNode>,
    pub retention: Option<rules::Retention>,
    /// The last day of retention, once the trigger event happened.
    pub retention_ends: Option<NaiveDate>,
    pub documents: Vec<FiledDocument>,
    pub deletions: Vec<Deletion>,
}

/// A hand-over with its items.
#[derive(Debug, Clone)]
pub struct DisposalView {
    pub disposal: Disposal,
    pub items: Vec<(DisposalItem, RecordFile)>,
}

fn staff_name(actor: &Actor) -> String {
    actor.staff().map(|s| s.audit_name()).unwrap_or_default()
}

impl App {
    /// The staff member may read records: a clerk or the Fachadministration.
    pub(crate) fn require_records_reader(&self, actor: &Actor) -> UseCaseResult<TenantId> {
        match actor.require(Permission::AdministerTenant) {
            Ok(s) => Ok(s.tenant()),
            Err(UseCaseError::Forbidden) => Ok(actor.require(Permission::WorkCases)?.tenant()),
            Err(e) => Err(e),
        }
    }

    /// The tenant's file plan with the services filed under each node.
    pub async fn record_plan(&self, actor: &Actor) -> UseCaseResult<Vec<PlanEntry>> {
        let tenant = self.require_records_reader(actor)?;
        let repo = self.store.repo();
        let nodes: Vec<PlanNode> = repo
            .plan_nodes(tenant)
            .await?
            .iter()
            .map(|n| n.to_domain())
            .collect::<Result<_, StorageError>>()?;
        let services = repo.service_nodes(tenant).await?;
        let mut names = std::collections::HashMap::new();
        for (sid, _) in &services {
            if let Some(p) = repo.published(tenant, *sid).await? {
                names.insert(*sid, p.content.title.de.clone());
            } else if let Some(s) = repo.service(tenant, *sid).await? {
                names.insert(*sid, s.slug);
            }
        }
        Ok(nodes
            .iter()
            .map(|n| PlanEntry {
                node: n.clone(),
                effective: rules::effective_retention(&nodes, n.id),
                services: services
                    .iter()
                    .filter(|(_, node)| *node == n.id)
                    .map(|(s, _)| (*s, names.get(s).cloned().unwrap_or_default()))
                    .collect(),
            })
            .collect())
    }

    /// Files an application's case (system: the jobs of submission, mailbox
    /// and case changes call it). Idempotent; returns the Vorgang, none when
    /// the application or its case is gone.
    pub async fn file_case(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> UseCaseResult<Option<RecordFile>> {
        let repo = self.store.repo();
        let Some(app) = repo.application(tenant, application).await? else {
            return Ok(None);
        };
        let Some(case) = repo.case_of(tenant, application).await? else {
            return Ok(None);
        };
        let nodes: Vec<PlanNode> = repo
            .plan_nodes(tenant)
            .await?
            .iter()
            .map(|n| n.to_domain())
            .collect::<Result<_, StorageError>>()?;
        let node_id = match app.service_id {
            Some(s) => repo.plan_node_of_service(tenant, s).await?,
            None => None,
        };
        let node = node_id.and_then(|id| nodes.iter().find(|n| n.id == id));
        let retention = node_id.and_then(|id| rules::effective_retention(&nodes, id));
        let scheme = repo
            .record_settings(tenant)
            .await?
            .and_then(|s| FileNumberScheme::parse(&s.file_number_scheme).ok())
            .unwrap_or_default();
        let plan_code = node
            .map(|n| n.code.clone())
            .unwrap_or_else(|| PlanCode::parse("0").expect("valid code"));
        let file_number = scheme.render(&plan_code, &app.reference, app.year, app.seq);
        let service_name = match app.service_id {
            Some(s) => repo
                .published(tenant, s)
                .await?
                .map(|p| p.content.title.de)
                .unwrap_or_default(),
            None => String::new(),
        };
        let subject = if service_name.is_empty() {
            format!("Antrag {}", app.reference)
        } else {
            format!("{service_name} – {}", app.reference)
        };
        let messages = repo.messages(tenant, application).await?;
        let files = repo.application_files(tenant, application).await?;
        let status = case.status();
        let closed_at =
            matches!(status, CaseStatus::Closed | CaseStatus::Cancelled).then_some(case.updated_at);
        let decision = messages
            .iter()
            .filter(|m| m.kind == "decision")
            .max_by_key(|m| m.created_at);
        let event_on = closed_at.map(|closed| match retention.map(|r| r.trigger) {
            Some(RetentionTrigger::DecisionFinal) => match decision {
                Some(d) => rules::decision_final_on(d.read_at.unwrap_or(d.created_at).date_naive()),
                None => closed.date_naive(),
            },
            _ => closed.date_naive(),
        });

        // What is not filed yet; the submitted data and message texts are
        // stored as objects of their own under a fixed name (a retry writes
        // the same bytes again).
        let filed: Vec<(String, Option<Uuid>)> =
            match repo.record_file_of_case(tenant, case.id).await? {
                Some(f) => repo
                    .filed_documents(tenant, f.id)
                    .await?
                    .into_iter()
                    .map(|d| (d.document.kind, d.document.source_id))
                    .collect(),
                None => Vec::new(),
            };
        let is_filed = |kind: DocumentKind, source: Uuid| {
            filed
                .iter()
                .any(|(k, s)| k == kind.code() && *s == Some(source))
        };
        let mut documents = Vec::new();
        if !is_filed(DocumentKind::ApplicationData, app.id) {
            let key = format!("records/{}/antragsdaten.json", app.id);
            let stored = self
                .files
                .put(tenant, &key, Bytes::from(app.data.clone().into_bytes()))
                .await?;
            documents.push(NewDocument {
                kind: DocumentKind::ApplicationData,
                title: format!("Antragsdaten {}", app.reference),
                source_id: Some(app.id),
                date: app.submitted_at.date_naive(),
                filed_by: None,
                file_key: key,
                file_name: format!("antragsdaten-{}.json", app.reference),
                mime: "application/json".into(),
                size: stored.size as i64,
                sha256: stored.sha256,
            });
        }
        for f in files.iter().filter(|f| f.message_id.is_none()) {
            let kind = if f.field_path == RECEIPT_PATH {
                DocumentKind::Receipt
            } else {
                DocumentKind::Upload
            };
            if !is_filed(kind, f.id) {
                documents.push(NewDocument {
                    kind,
                    title: if kind == DocumentKind::Receipt {
                        format!("Eingangsbestätigung {}", app.reference)
                    } else {
                        format!("Anlage {} ({})", f.name, f.field_path)
                    },
                    source_id: Some(f.id),
                    date: app.submitted_at.date_naive(),
                    filed_by: None,
                    file_key: f.file_key.clone(),
                    file_name: f.name.clone(),
                    mime: f.mime.clone(),
                    size: f.size,
                    sha256: f.sha256.clone(),
                });
            }
        }
        for m in &messages {
            if !is_filed(DocumentKind::Message, m.id) {
                let key = format!("records/{}/nachrichten/{}.txt", app.id, m.id);
                let mut text = m.body.clone();
                if let Some(r) = &m.requested_documents {
                    text.push_str("\n\nAngeforderte Unterlagen:\n");
                    text.push_str(r);
                }
                let stored = self
                    .files
                    .put(tenant, &key, Bytes::from(text.into_bytes()))
                    .await?;
                let from = if m.from_office {
                    "Behörde"
                } else {
                    "Antragsteller/in"
                };
                documents.push(NewDocument {
                    kind: DocumentKind::Message,
                    title: format!("Nachricht ({from}, {})", m.created_at.format("%d.%m.%Y")),
                    source_id: Some(m.id),
                    date: m.created_at.date_naive(),
                    filed_by: m.author_id,
                    file_key: key,
                    file_name: format!("nachricht-{}.txt", m.id),
                    mime: "text/plain".into(),
                    size: stored.size as i64,
                    sha256: stored.sha256,
                });
            }
            for f in files.iter().filter(|f| f.message_id == Some(m.id)) {
                let kind = if m.kind == "decision" {
                    DocumentKind::Decision
                } else {
                    DocumentKind::Upload
                };
                if !is_filed(kind, f.id) {
                    documents.push(NewDocument {
                        kind,
                        title: if kind == DocumentKind::Decision {
                            format!("Bescheid: {}", m.body)
                        } else {
                            format!("Anlage {}", f.name)
                        },
                        source_id: Some(f.id),
                        date: m.created_at.date_naive(),
                        filed_by: m.author_id,
                        file_key: f.file_key.clone(),
                        file_name: f.name.clone(),
                        mime: f.mime.clone(),
                        size: f.size,
                        sha256: f.sha256.clone(),
                    });
                }
            }
        }
        let filing = Filing {
            case_id: case.id,
            application_id: app.id,
            plan_node_id: node_id,
            org_unit_id: case.org_unit_id,
            file_number,
            subject,
            opened_at: app.submitted_at,
            closed_at,
            event_on,
            documents,
        };
        let unit_before = repo
            .record_file_of_case(tenant, case.id)
            .await?
            .map(|f| f.org_unit_id);
        let (file, _) = self.store.file_case(tenant, &filing).await?;
        if unit_before.is_some_and(|u| u != file.org_unit_id) {
            // Forwarded: the documents are found by the new unit's clerks.
            for d in repo.filed_documents(tenant, file.id).await? {
                self.reindex_document(tenant, d.document.id).await?;
            }
        }
        Ok(Some(file))
    }

    /// A case's Vorgang: for the clerks of the case's unit and the
    /// Fachadministration. Files the case first if that has not happened yet.
    pub async fn case_record(&self, actor: &Actor, case_id: Uuid) -> UseCaseResult<CaseRecord> {
        let tenant = self.require_records_reader(actor)?;
        let repo = self.store.repo();
        let file = match repo.record_file_of_case(tenant, case_id).await? {
            Some(f) => f,
            None => {
                let case = repo
                    .case(tenant, case_id)
                    .await?
                    .ok_or(UseCaseError::NotFound)?;
                if actor.require(Permission::AdministerTenant).is_err() {
                    actor.require_case(case.org_unit_id)?;
                }
                self.file_case(tenant, case.application_id)
                    .await?
                    .ok_or(UseCaseError::NotFound)?
            }
        };
        if actor.require(Permission::AdministerTenant).is_err() {
            actor.require_case(file.org_unit_id)?;
        }
        self.record_view(tenant, file).await
    }

    async fn record_view(&self, tenant: TenantId, file: RecordFile) -> UseCaseResult<CaseRecord> {
        let repo = self.store.repo();
        let nodes: Vec<PlanNode> = repo
            .plan_nodes(tenant)
            .await?
            .iter()
            .map(|n| n.to_domain())
            .collect::<Result<_, StorageError>>()?;
        let plan = file
            .plan_node_id
            .and_then(|id| nodes.iter().find(|n| n.id == id).cloned());
        let retention = file
            .plan_node_id
            .and_then(|id| rules::effective_retention(&nodes, id));
        let retention_ends = match (retention, file.event_on) {
            (Some(r), Some(e)) => Some(r.ends_on(e)),
            _ => None,
        };
        Ok(CaseRecord {
            documents: repo.filed_documents(tenant, file.id).await?,
            deletions: repo.deletions_of(tenant, file.id).await?,
            file,
            plan,
            retention,
            retention_ends,
        })
    }

    /// Sets (with a reason) or lifts (None) the legal hold of a Vorgang.
    pub async fn set_legal_hold(
        &self,
        actor: &Actor,
        record: Uuid,
        reason: Option<&str>,
    ) -> UseCaseResult<RecordFile> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let reason = match reason {
            Some(r) => Some(
                rathaus_domain::validation::required_text("reason", r, MAX_HOLD_REASON_CHARS)
                    .map_err(rathaus_domain::ValidationErrors::from)?,
            ),
            None => None,
        };
        Ok(self
            .store
            .set_legal_hold(
                staff.tenant(),
                record,
                reason.as_deref(),
                (staff.user.id, &staff.audit_name()),
            )
            .await?)
    }

    /// The Vorgänge whose retention ends before `as_of` (no hold, not yet
    /// offered), with the disposition their plan node gives.
    pub async fn due_records(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
    ) -> UseCaseResult<Vec<(RecordFile, Disposition, NaiveDate)>> {
        let staff = actor.require(Permission::AdministerTenant)?;
        self.due_in(staff.tenant(), as_of).await
    }

    async fn due_in(
        &self,
        tenant: TenantId,
        as_of: NaiveDate,
    ) -> UseCaseResult<Vec<(RecordFile, Disposition, NaiveDate)>> {
        let repo = self.store.repo();
        let nodes: Vec<PlanNode> = repo
            .plan_nodes(tenant)
            .await?
            .iter()
            .map(|n| n.to_domain())
            .collect::<Result<_, StorageError>>()?;
        Ok(repo
            .closed_files(tenant)
            .await?
            .into_iter()
            .filter_map(|f| {
                let r = rules::effective_retention(&nodes, f.plan_node_id?)?;
                let event = f.event_on?;
                r.due(Some(event), as_of, f.legal_hold)
                    .then(|| (f.clone(), r.disposition, r.ends_on(event)))
            })
            .collect())
    }

    /// Starts a hand-over with everything due before `as_of`.
    pub async fn start_disposal(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
    ) -> UseCaseResult<DisposalView> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let tenant = staff.tenant();
        let due = self.due_in(tenant, as_of).await?;
        if due.is_empty() {
            return Err(UseCaseError::Workflow("records.nothing_due"));
        }
        let files: Vec<(Uuid, Disposition)> = due.iter().map(|(f, d, _)| (f.id, *d)).collect();
        let (d, _) = self
            .store
            .create_disposal(tenant, as_of, &files, (staff.user.id, &staff.audit_name()))
            .await?;
        self.disposal_view(tenant, d).await
    }

    async fn disposal_view(
        &self,
        tenant: TenantId,
        disposal: Disposal,
    ) -> UseCaseResult<DisposalView> {
        let repo = self.store.repo();
        let mut items = Vec::new();
        for i in repo.disposal_items(tenant, disposal.id).await? {
            if let Some(f) = repo.record_file(tenant, i.record_file_id).await? {
                items.push((i, f));
            }
        }
        Ok(DisposalView { disposal, items })
    }

    /// One hand-over (Fachadministration).
    pub async fn disposal(&self, actor: &Actor, id: Uuid) -> UseCaseResult<DisposalView> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let d = self
            .store
            .repo()
            .disposal(staff.tenant(), id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        self.disposal_view(staff.tenant(), d).await
    }

    /// The Fachadministration's hand-over `id` and its status after `step`:
    /// the state machine refuses a step (and the second of the four eyes by
    /// the first) before anything is read from the request or written.
    async fn disposal_for_step(
        &self,
        actor: &Actor,
        id: Uuid,
        step: DisposalStep,
    ) -> UseCaseResult<(crate::Staff, DisposalView, DisposalStatus)> {
        let staff = actor.require(Permission::AdministerTenant)?.clone();
        let view = self.disposal(actor, id).await?;
        let next = view.disposal.status().next(
            step,
            staff.user.id,
            view.disposal.destruction_requested_by,
        )?;
        Ok((staff, view, next))
    }

    /// The tenant's hand-overs, newest first.
    pub async fn disposals(&self, actor: &Actor) -> UseCaseResult<Vec<Disposal>> {
        let staff = actor.require(Permission::AdministerTenant)?;
        Ok(self.store.repo().disposals(staff.tenant()).await?)
    }

    /// The xdomea hand (header and files) of a hand-over; with the primary
    /// documents' bytes when `with_content`.
    async fn hand(
        &self,
        tenant: TenantId,
        view: &DisposalView,
        only: impl Fn(&DisposalItem) -> bool,
        with_content: bool,
    ) -> UseCaseResult<(xdomea::Hand, Vec<(String, Vec<u8>)>)> {
        let repo = self.store.repo();
        let tenant_row = repo.tenant(tenant).await?.ok_or(UseCaseError::NotFound)?;
        let settings = repo.record_settings(tenant).await?;
        let nodes: Vec<PlanNode> = repo
            .plan_nodes(tenant)
            .await?
            .iter()
            .map(|n| n.to_domain())
            .collect::<Result<_, StorageError>>()?;
        let mut files = Vec::new();
        let mut content = Vec::new();
        for (item, f) in view.items.iter().filter(|(i, _)| only(i)) {
            let node = f
                .plan_node_id
                .and_then(|id| nodes.iter().find(|n| n.id == id));
            let retention = f
                .plan_node_id
                .and_then(|id| rules::effective_retention(&nodes, id));
            let unit = repo
                .org_unit(tenant, f.org_unit_id)
                .await?
                .map(|u| u.name)
                .unwrap_or_default();
            let mut documents = Vec::new();
            for d in repo.filed_documents(tenant, f.id).await? {
                let mut versions = Vec::new();
                for v in &d.versions {
                    let ext = extension(&v.mime, &v.file_name);
                    let file_name = format!("{}.{ext}", v.id);
                    if with_content {
                        let bytes =
                            self.files.get(tenant, &v.file_key).await?.ok_or_else(|| {
                                UseCaseError::Internal(format!(
                                    "document {} of {} is missing in the file store",
                                    d.document.number, f.file_number
                                ))
                            })?;
                        content.push((file_name.clone(), bytes.to_vec()));
                    }
                    versions.push(xdomea::DocumentVersion {
                        number: v.number as u32,
                        file_name,
                        mime: v.mime.clone(),
                        created_at: v.created_at,
                    });
                }
                documents.push(xdomea::Document {
                    id: d.document.id,
                    number: d.document.number as u32,
                    subject: d.document.title.clone(),
                    date: d.document.document_date,
                    author: None,
                    versions,
                });
            }
            files.push(xdomea::RecordFile {
                id: f.id,
                subject: f.subject.clone(),
                file_number: f.file_number.clone(),
                plan_code: node
                    .map(|n| n.code.as_str().to_string())
                    .unwrap_or_else(|| "0".into()),
                plan_title: node.map(|n| n.title.clone()).unwrap_or_default(),
                lead_unit: unit,
                began: f.opened_at.date_naive(),
                ended: f
                    .closed_at
                    .map(|c| c.date_naive())
                    .unwrap_or_else(|| f.opened_at.date_naive()),
                proposal: to_x(item.decision().unwrap_or(item.proposal())),
                retention_years: retention.map(|r| r.years).unwrap_or(0),
                documents,
            });
        }
        let hand = xdomea::Hand {
            process_id: view.disposal.id,
            created_at: Utc::now(),
            sender: xdomea::Party {
                institution: tenant_row.name.clone(),
                org_unit: None,
            },
            recipient: xdomea::Party {
                institution: settings
                    .map(|s| s.archive_name)
                    .unwrap_or_else(|| "Archiv".into()),
                org_unit: None,
            },
            system: xdomea::SendingSystem {
                instance_id: tenant.0,
                product: "rathaus".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            receipt_requested: true,
            archive_ids_requested: true,
            files,
        };
        Ok((hand, content))
    }

    /// The offer (Anbietung, 0501) of a hand-over, as XML.
    pub async fn disposal_offer(&self, actor: &Actor, id: Uuid) -> UseCaseResult<(String, String)> {
        let view = self.disposal(actor, id).await?;
        let staff = actor.require(Permission::AdministerTenant)?;
        let (hand, _) = self.hand(staff.tenant(), &view, |_| true, false).await?;
        let xml = xdomea::write_0501(&hand);
        self.store
            .disposal_step(
                staff.tenant(),
                id,
                |d| Ok(d.status()),
                AuditNote {
                    actor: &staff_name(actor),
                    action: "records.offer_written",
                    detail: serde_json::json!({ "files": view.items.len() }),
                },
            )
            .await?;
        Ok((
            xdomea::message_file_name(id, xdomea::MessageType::Offer),
            xml,
        ))
    }

    /// Reads the archive's evaluation (Bewertung, 0502): each offered file
    /// is `A` (archive) or `V` (destroy). An object the hand-over does not
    /// hold is refused by name; files the message does not name keep their
    /// proposal (a `B` must be named).
    pub async fn import_evaluation(
        &self,
        actor: &Actor,
        id: Uuid,
        xml: &str,
    ) -> UseCaseResult<DisposalView> {
        let (staff, view, next) = self
            .disposal_for_step(actor, id, DisposalStep::Evaluate)
            .await?;
        let tenant = staff.tenant();
        let eval = read_checked(xml, xdomea::read_0502)?;
        if eval.process_id != id {
            return Err(UseCaseError::BadFile(format!(
                "0502: ProzessID {} gehört nicht zu dieser Aussonderung {id} (the ProzessID is not this hand-over's)",
                eval.process_id
            )));
        }
        for (obj, _) in &eval.items {
            if !view.items.iter().any(|(i, _)| i.record_file_id == *obj) {
                return Err(UseCaseError::BadFile(format!(
                    "0502: Objekt {obj} wurde nicht angeboten (this object was not offered)"
                )));
            }
        }
        for (i, f) in &view.items {
            let named = eval.items.iter().any(|(o, _)| *o == i.record_file_id);
            if !named && i.proposal() == Disposition::Evaluate {
                return Err(UseCaseError::BadFile(format!(
                    "0502: keine Bewertung für {} ({}) (no evaluation for this file)",
                    f.file_number, i.record_file_id
                )));
            }
        }
        let decisions = eval.items.clone();
        let (d, _) = self
            .store
            .update_disposal_items(
                tenant,
                id,
                next,
                |item| {
                    let decision = decisions
                        .iter()
                        .find(|(o, _)| *o == item.record_file_id)
                        .map(|(_, d)| from_x(*d))
                        .unwrap_or(item.proposal());
                    Some(ItemChange::Decision(decision))
                },
                AuditNote {
                    actor: &staff_name(actor),
                    action: "records.evaluation_read",
                    detail: serde_json::json!({ "objects": decisions.len() }),
                },
            )
            .await?;
        self.disposal_view(tenant, d).await
    }

    /// The hand-over package (Aussonderung, 0503) for the files the archive
    /// takes (`A`), as a ZIP named by the xdomea rules.
    pub async fn disposal_package(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<(String, Vec<u8>)> {
        let (staff, view, next) = self
            .disposal_for_step(actor, id, DisposalStep::HandOver)
            .await?;
        let tenant = staff.tenant();
        let (hand, content) = self
            .hand(
                tenant,
                &view,
                |i| i.decision() == Some(Disposition::Archive),
                true,
            )
            .await?;
        let zip = xdomea::write_0503_zip(&hand, &content)
            .map_err(|e| UseCaseError::Internal(format!("0503: {e}")))?;
        self.store
            .disposal_step(
                tenant,
                id,
                |_| Ok(next),
                AuditNote {
                    actor: &staff_name(actor),
                    action: "records.package_written",
                    detail: serde_json::json!({ "files": hand.files.len(), "bytes": zip.len() }),
                },
            )
            .await?;
        Ok((xdomea::package_name(id, xdomea::MessageType::HandOver), zip))
    }

    /// Reads a receipt of the archive (0504–0507); an import confirmation
    /// names per object whether it was taken and the archive's id for it.
    pub async fn import_receipt(
        &self,
        actor: &Actor,
        id: Uuid,
        xml: &str,
    ) -> UseCaseResult<DisposalView> {
        let (staff, view, next) = self
            .disposal_for_step(actor, id, DisposalStep::Confirm)
            .await?;
        let tenant = staff.tenant();
        let receipt = read_checked(xml, xdomea::read_receipt)?;
        if receipt.process_id != id {
            return Err(UseCaseError::BadFile(format!(
                "Quittung: ProzessID {} gehört nicht zu dieser Aussonderung {id} (the ProzessID is not this hand-over's)",
                receipt.process_id
            )));
        }
        for item in &receipt.items {
            if !view.items.iter().any(|(i, _)| i.record_file_id == item.id) {
                return Err(UseCaseError::BadFile(format!(
                    "Quittung: Objekt {} gehört nicht zu dieser Aussonderung (this object is not part of the hand-over)",
                    item.id
                )));
            }
        }
        let items = receipt.items.clone();
        let (d, _) = self
            .store
            .update_disposal_items(
                tenant,
                id,
                next,
                |item| {
                    let r = items.iter().find(|r| r.id == item.record_file_id)?;
                    Some(ItemChange::Receipt {
                        ok: r.success,
                        archive_id: r.archive_id.clone(),
                        message: (!r.messages.is_empty()).then(|| r.messages.join("; ")),
                    })
                },
                AuditNote {
                    actor: &staff_name(actor),
                    action: "records.receipt_read",
                    detail: serde_json::json!({ "kind": format!("{:?}", receipt.kind), "objects": receipt.items.len() }),
                },
            )
            .await?;
        self.disposal_view(tenant, d).await
    }

    /// The first of the four eyes: asks for the destruction of the `V` files
    /// and of the originals the archive confirmed.
    pub async fn request_destruction(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<DisposalView> {
        let (staff, _, _) = self
            .disposal_for_step(actor, id, DisposalStep::RequestDestruction)
            .await?;
        let tenant = staff.tenant();
        let d = self
            .store
            .request_destruction(tenant, id, (staff.user.id, &staff.audit_name()))
            .await?;
        self.disposal_view(tenant, d).await
    }

    /// The second of the four eyes: another person approves, and the content
    /// is destroyed — the `V` files, and the `A` files the archive confirmed
    /// (their originals; the Vorgang becomes `archived`). `A` files without a
    /// positive receipt stay untouched (offered) until a receipt comes.
    pub async fn approve_destruction(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<(DisposalView, Vec<Deletion>)> {
        let (staff, view, _) = self
            .disposal_for_step(actor, id, DisposalStep::ApproveDestruction)
            .await?;
        let tenant = staff.tenant();
        let files: Vec<(Uuid, FileStatus)> = view
            .items
            .iter()
            .filter_map(|(i, f)| match i.decision() {
                Some(Disposition::Destroy) => Some((f.id, FileStatus::Destroyed)),
                Some(Disposition::Archive) if i.receipt_ok == Some(true) => {
                    Some((f.id, FileStatus::Archived))
                }
                _ => None,
            })
            .collect();
        if view.items.iter().any(|(_, f)| f.legal_hold) {
            return Err(RecordsError::LegalHold.into());
        }
        let deletions = self
            .store
            .destroy_files(
                tenant,
                &view.disposal,
                &files,
                (staff.user.id, &staff.audit_name()),
            )
            .await?;
        // Destroyed text leaves this instance's search index at once (other
        // instances drop it at their next search: see `search_records`).
        for d in &deletions {
            let _ = self.records_search.index.remove_file(d.record_file_id);
        }
        let d = self
            .store
            .repo()
            .disposal(tenant, id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        Ok((self.disposal_view(tenant, d).await?, deletions))
    }

    /// Deletes destroyed content's objects (the outbox job after the
    /// destruction's commit). Missing objects are fine (a retry).
    pub async fn delete_record_objects(
        &self,
        tenant: TenantId,
        keys: &[String],
    ) -> UseCaseResult<usize> {
        let mut n = 0;
        for k in keys {
            self.files.delete(tenant, k).await?;
            n += 1;
        }
        Ok(n)
    }
}

/// The reference day of a hand-over (`as_of`, `YYYY-MM-DD`), required.
pub fn parse_day(input: &str) -> UseCaseResult<NaiveDate> {
    NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d").map_err(|_| {
        rathaus_domain::ValidationErrors::from(rathaus_domain::FieldError::new(
            "as_of",
            "date.invalid",
        ))
        .into()
    })
}

/// The reference day of a due list: empty or absent is today.
pub fn parse_as_of(input: Option<&str>) -> UseCaseResult<NaiveDate> {
    match input.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Utc::now().date_naive()),
        Some(s) => parse_day(s),
    }
}

fn read_checked<T>(
    xml: &str,
    read: impl Fn(&str) -> Result<T, xdomea::XdomeaError>,
) -> UseCaseResult<T> {
    if xml.len() > MAX_XDOMEA_BYTES {
        return Err(UseCaseError::BadFile(format!(
            "xdomea: höchstens {} MB (at most {} MB)",
            MAX_XDOMEA_BYTES / (1024 * 1024),
            MAX_XDOMEA_BYTES / (1024 * 1024)
        )));
    }
    read(xml).map_err(|e| UseCaseError::BadFile(e.to_string()))
}

fn to_x(d: Disposition) -> xdomea::Disposition {
    match d {
        Disposition::Archive => xdomea::Disposition::Archive,
        Disposition::Destroy => xdomea::Disposition::Destroy,
        Disposition::Evaluate => xdomea::Disposition::Evaluate,
    }
}

fn from_x(d: xdomea::Disposition) -> Disposition {
    match d {
        xdomea::Disposition::Archive => Disposition::Archive,
        xdomea::Disposition::Destroy => Disposition::Destroy,
        xdomea::Disposition::Evaluate => Disposition::Evaluate,
    }
}

/// The file extension of a primary document (from its type, else its name).
fn extension(mime: &str, name: &str) -> String {
    match mime {
        "application/pdf" => "pdf".into(),
        "application/json" => "json".into(),
        "text/plain" => "txt".into(),
        "image/png" => "png".into(),
        "image/jpeg" => "jpg".into(),
        "application/xml" | "text/xml" => "xml".into(),
        _ => name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
            .unwrap_or_else(|| "bin".into()),
    }
}

/// What a staff upload or in-tray item of another type is told.
pub const UNSUPPORTED_DOCUMENT: &str =
    "nur PDF, PNG, JPEG, E-Mail (.eml) oder Text (only PDF, PNG, JPEG, mail or text)";

/// Largest document staff file by upload (bytes).
pub const MAX_STAFF_DOCUMENT_BYTES: usize = 25 * 1024 * 1024;

/// A document staff file into a Vorgang (an upload or a scan).
#[derive(Debug, Clone)]
pub struct StaffDocument {
    pub title: String,
    pub file_name: String,
    pub content: Bytes,
}

/// The type of a document staff may file, from its content: PDF, PNG, JPEG,
/// a mail (`.eml`) or plain text — never HTML, never by its name.
pub fn sniff_staff_document(content: &[u8]) -> Option<&'static str> {
    if let Some(m) = crate::applications::sniff(content) {
        return Some(m);
    }
    use rathaus_standards::text::{TextKind, extract};
    match extract(content, None) {
        Ok(e) if e.kind == TextKind::Mail => Some("message/rfc822"),
        Ok(e) if e.kind == TextKind::Text && is_plain_text(content) => Some("text/plain"),
        _ => None,
    }
}

/// UTF-8 text without control characters (but tabs and line breaks) and
/// without markup: binary junk is not "text".
fn is_plain_text(content: &[u8]) -> bool {
    let printable = match std::str::from_utf8(content) {
        Ok(t) => !t
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
        // Windows-1252 (a letter saved by an older word processor): no C0
        // controls but tab and line breaks, none of its five undefined bytes.
        Err(_) => content.iter().all(|&b| {
            matches!(b, b'\t' | b'\n' | b'\r')
                || (b >= 0x20 && b != 0x7F && !matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D))
        }),
    };
    printable && !crate::applications::looks_like_markup(content)
}

/// The extension a filed document's name gets for its type.
fn extension_of(mime: &str) -> &'static str {
    match mime {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "message/rfc822" => "eml",
        "application/json" => "json",
        _ => "txt",
    }
}

/// A file name with the extension of its type, no paths, no control or
/// invisible characters.
pub fn document_file_name(name: &str, mime: &str) -> String {
    let ext = extension_of(mime);
    let clean = crate::applications::safe_file_name(name, "application/pdf");
    let stem = clean.strip_suffix(".pdf").unwrap_or(&clean);
    let stem = stem
        .strip_suffix(&format!(".{ext}"))
        .unwrap_or(stem)
        .to_string();
    format!("{stem}.{ext}")
}

fn plan_error(e: StorageError) -> UseCaseError {
    match e {
        StorageError::Conflict(code @ "own_approval") => {
            let _ = code;
            UseCaseError::Workflow("records.plan_own_approval")
        }
        StorageError::Conflict("status") => UseCaseError::Workflow("records.plan_change_done"),
        StorageError::Conflict("plan_code_taken") => {
            UseCaseError::Workflow("records.plan_code_taken")
        }
        StorageError::Conflict("plan_parent_missing") => {
            UseCaseError::Workflow("records.plan_parent_missing")
        }
        StorageError::Conflict("plan_code_unknown") => {
            UseCaseError::Workflow("records.plan_code_unknown")
        }
        StorageError::Conflict("record_status") => UseCaseError::Workflow("records.record_closed"),
        StorageError::Conflict("same_record") => UseCaseError::Workflow("records.same_record"),
        StorageError::NotFound("service") => {
            UseCaseError::Validation(rathaus_domain::ValidationErrors::from(
                rathaus_domain::FieldError::new("service", "records.unknown_service"),
            ))
        }
        other => other.into(),
    }
}

impl App {
    /// Files a further document (upload or scan) into a Vorgang: for the
    /// case's clerks and the Fachadministration. The type comes from the
    /// content; text and seal follow in the processing job.
    pub async fn file_document(
        &self,
        actor: &Actor,
        record: Uuid,
        input: StaffDocument,
    ) -> UseCaseResult<rathaus_storage::records::RecordDocument> {
        let file = self.require_record_access(actor, record).await?;
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        let tenant = staff.tenant();
        let title = rathaus_domain::validation::required_text("title", &input.title, 300)
            .map_err(rathaus_domain::ValidationErrors::from)?;
        if input.content.is_empty() {
            return Err(UseCaseError::BadFile("leere Datei (empty file)".into()));
        }
        if input.content.len() > MAX_STAFF_DOCUMENT_BYTES {
            return Err(UseCaseError::BadFile(format!(
                "größer als {} MB (larger than {} MB)",
                MAX_STAFF_DOCUMENT_BYTES / 1024 / 1024,
                MAX_STAFF_DOCUMENT_BYTES / 1024 / 1024
            )));
        }
        let bytes = input.content.clone();
        let mime = tokio::task::spawn_blocking(move || sniff_staff_document(&bytes))
            .await
            .map_err(|e| UseCaseError::Internal(format!("typing the upload: {e}")))?
            .ok_or_else(|| UseCaseError::BadFile(UNSUPPORTED_DOCUMENT.into()))?;
        let name = document_file_name(&input.file_name, mime);
        let key = format!(
            "records/{}/{}.{}",
            file.id,
            Uuid::now_v7(),
            extension_of(mime)
        );
        let stored = self.files.put(tenant, &key, input.content).await?;
        let doc = rathaus_storage::records::NewDocument {
            kind: DocumentKind::Staff,
            title,
            source_id: None,
            date: Utc::now().date_naive(),
            filed_by: Some(staff.user.id),
            file_key: key.clone(),
            file_name: name,
            mime: mime.into(),
            size: stored.size as i64,
            sha256: stored.sha256,
        };
        match self
            .store
            .file_staff_document(tenant, file.id, &staff.audit_name(), &doc)
            .await
        {
            Ok(d) => Ok(d),
            Err(e) => {
                let _ = self.files.delete(tenant, &key).await;
                Err(plan_error(e))
            }
        }
    }

    /// Files a note of a case as a document of its Vorgang (marked relevant
    /// to the file by the clerk).
    pub async fn file_note(
        &self,
        actor: &Actor,
        case_id: Uuid,
        text: &str,
    ) -> UseCaseResult<rathaus_storage::records::RecordDocument> {
        let record = self.case_record(actor, case_id).await?;
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        let tenant = staff.tenant();
        let text = rathaus_domain::validation::required_text("note", text, 4000)
            .map_err(rathaus_domain::ValidationErrors::from)?;
        let id = Uuid::now_v7();
        let key = format!("records/{}/vermerke/{id}.txt", record.file.id);
        let stored = self
            .files
            .put(tenant, &key, Bytes::from(text.clone().into_bytes()))
            .await?;
        let now = Utc::now();
        let doc = rathaus_storage::records::NewDocument {
            kind: DocumentKind::Note,
            title: format!("Vermerk vom {}", now.format("%d.%m.%Y")),
            source_id: Some(id),
            date: now.date_naive(),
            filed_by: Some(staff.user.id),
            file_key: key.clone(),
            file_name: format!("vermerk-{}.txt", now.format("%Y%m%d-%H%M%S")),
            mime: "text/plain".into(),
            size: stored.size as i64,
            sha256: stored.sha256,
        };
        match self
            .store
            .file_staff_document(tenant, record.file.id, &staff.audit_name(), &doc)
            .await
        {
            Ok(d) => Ok(d),
            Err(e) => {
                let _ = self.files.delete(tenant, &key).await;
                Err(plan_error(e))
            }
        }
    }

    /// A filed document with its content (newest version) and Vorgang.
    pub async fn record_document(
        &self,
        actor: &Actor,
        document: Uuid,
        version: Option<i32>,
    ) -> UseCaseResult<(
        FiledDocument,
        rathaus_storage::records::DocumentVersion,
        Bytes,
    )> {
        let tenant = self.require_records_reader(actor)?;
        let (doc, file) = self
            .store
            .repo()
            .filed_document(tenant, document)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        self.require_record_access(actor, file.id).await?;
        let v = match version {
            Some(n) => doc.versions.iter().find(|v| v.number == n),
            None => doc.versions.last(),
        }
        .cloned()
        .ok_or(UseCaseError::NotFound)?;
        let content = self
            .files
            .get(tenant, &v.file_key)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        Ok((doc, v, content))
    }

    /// Moves a document into another Vorgang (access to both needed).
    pub async fn move_document(
        &self,
        actor: &Actor,
        document: Uuid,
        to: Uuid,
    ) -> UseCaseResult<rathaus_storage::records::RecordDocument> {
        let tenant = self.require_records_reader(actor)?;
        let (_, from) = self
            .store
            .repo()
            .filed_document(tenant, document)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        self.require_record_access(actor, from.id).await?;
        self.require_record_access(actor, to).await?;
        // What the case files itself (its data, uploads, receipt, messages,
        // Bescheide) stays with its case: the filing job would file it again,
        // and the case's destruction deletes its objects.
        let (doc, _) = self
            .store
            .repo()
            .filed_document(tenant, document)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        if !matches!(
            DocumentKind::parse(&doc.document.kind),
            Some(DocumentKind::Staff | DocumentKind::Note | DocumentKind::Incoming)
        ) {
            return Err(UseCaseError::Workflow("records.move_kind"));
        }
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        let moved = self
            .store
            .move_document(tenant, document, to, &staff.audit_name())
            .await
            .map_err(plan_error)?;
        self.reindex_document(tenant, moved.id).await?;
        Ok(moved)
    }

    /// The plan changes waiting for a second person and the last decided.
    pub async fn plan_changes(
        &self,
        actor: &Actor,
    ) -> UseCaseResult<Vec<rathaus_storage::records::PlanChangeRow>> {
        let staff = actor.require(Permission::AdministerTenant)?;
        Ok(self.store.repo().plan_changes(staff.tenant()).await?)
    }

    /// Asks for a change of the plan (Fachadministration); a second person
    /// approves it.
    pub async fn request_plan_change(
        &self,
        actor: &Actor,
        change: rules::PlanChange,
    ) -> UseCaseResult<rathaus_storage::records::PlanChangeRow> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let change = change.validate()?;
        // The reviewer reads the service's name, not its id.
        let summary = match &change {
            rules::PlanChange::AssignService { service, code } => {
                let name = self
                    .record_services(actor)
                    .await?
                    .into_iter()
                    .find(|(id, _)| id == service)
                    .map(|(_, n)| n)
                    .unwrap_or_else(|| service.to_string());
                format!("Leistung „{name}“ → {code}")
            }
            other => other.summary(),
        };
        self.store
            .request_plan_change(staff.tenant(), &change, &summary, staff.user.id)
            .await
            .map_err(plan_error)
    }

    /// Approves (applies) or rejects a plan change; approving one's own is
    /// refused (four eyes).
    pub async fn review_plan_change(
        &self,
        actor: &Actor,
        id: Uuid,
        approve: bool,
    ) -> UseCaseResult<rathaus_storage::records::PlanChangeRow> {
        let staff = actor.require(Permission::AdministerTenant)?;
        self.store
            .review_plan_change(staff.tenant(), id, staff.user.id, approve)
            .await
            .map_err(plan_error)
    }
}

impl App {
    /// The Vorgang of the application with this reference, if it is filed.
    pub(crate) async fn record_of_reference(
        &self,
        tenant: TenantId,
        reference: &rathaus_domain::applications::Reference,
    ) -> UseCaseResult<Option<RecordFile>> {
        let repo = self.store.repo();
        let Some(app) = repo
            .application_by_reference(tenant, &reference.to_string())
            .await?
        else {
            return Ok(None);
        };
        Ok(match repo.case_of(tenant, app.id).await? {
            Some(c) => repo.record_file_of_case(tenant, c.id).await?,
            None => None,
        })
    }

    /// A Vorgang by its file number, or by the reference of its application
    /// (for the forms that name a target Vorgang).
    pub async fn record_by_number(&self, actor: &Actor, number: &str) -> UseCaseResult<RecordFile> {
        let tenant = self.require_records_reader(actor)?;
        let repo = self.store.repo();
        let n = number.trim();
        let found = match repo.record_file_by_number(tenant, n).await? {
            Some(f) => Some(f),
            None => match rathaus_domain::applications::Reference::parse(n) {
                Some(r) => self.record_of_reference(tenant, &r).await?,
                None => None,
            },
        };
        let f = found.ok_or_else(|| {
            rathaus_domain::ValidationErrors::from(rathaus_domain::FieldError::new(
                "to",
                "records.unknown_record",
            ))
        })?;
        self.require_record_access(actor, f.id).await
    }
}

impl App {
    /// A Vorgang by its id (for those with access to it).
    pub async fn record_by_id(&self, actor: &Actor, id: Uuid) -> UseCaseResult<RecordFile> {
        self.require_record_access(actor, id).await
    }

    /// The tenant's services with their names (for assigning them to plan
    /// nodes; Fachadministration).
    pub async fn record_services(&self, actor: &Actor) -> UseCaseResult<Vec<(Uuid, String)>> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let repo = self.store.repo();
        let mut out = Vec::new();
        let tenant = staff.tenant();
        for o in repo.overview(tenant).await? {
            let name = serde_json::from_str::<serde_json::Value>(&o.latest.content)
                .ok()
                .and_then(|c| c["title"]["de"].as_str().map(String::from))
                .unwrap_or_else(|| o.service.slug.clone());
            out.push((o.service.id, name));
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }
}

impl App {
    /// Whether the actor works with the e-file at all (a clerk or the
    /// Fachadministration): pages check it before they read a body.
    pub fn require_records_staff(&self, actor: &Actor) -> UseCaseResult<()> {
        self.require_records_reader(actor).map(|_| ())
    }
}
