//! The electronic in-tray (Posteingang, C6): staff upload incoming mail
//! (PDF, images, `.eml`, text); its text is extracted; references found in
//! the text (`MS-2026-000123`, also inside a file number), the routing rules
//! (sender, keywords) and — once enough documents are filed — the tenant's
//! learned classifier (TF-IDF + logistic regression, trained on the text of
//! the filed documents, labelled with their Vorgang's plan node) propose
//! where it goes. A person confirms by filing it into a Vorgang, or discards
//! it. The classifier's accuracy on a held-out fifth is measured at every
//! training and shown to the Fachadministration.
//!
//! Who may: the in-tray is read and worked by clerks and the
//! Fachadministration of the tenant (the Posteingangsstelle); filing into a
//! Vorgang needs access to it; rules and training are the
//! Fachadministration's.

use bytes::Bytes;
use chrono::Utc;
use rathaus_domain::{
    ValidationErrors,
    classifier::{self, Evaluation, Model, Prediction, Sample},
    intray::{self as rules, MailFacts, Proposal, ProposalSource, RouteTarget, RoutingRule},
    records::DocumentKind,
};
use rathaus_storage::{
    StorageError,
    intray::{IntrayItem, IntrayRepository, IntrayRuleRow, NewIntrayItem},
    records::{NewDocument, RecordDocument, RecordFile, RecordRepository},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

/// Largest piece of mail (bytes).
pub const MAX_INTRAY_BYTES: usize = 25 * 1024 * 1024;
/// Share of the filed documents held out to measure the classifier (%).
pub const HOLDOUT_PERCENT: u8 = 20;
/// Documents read for training (newest first).
pub const MAX_TRAINING_DOCUMENTS: u64 = 5_000;
/// Below this probability the classifier proposes nothing.
pub const MIN_PROBABILITY: f64 = 0.3;

/// A proposal as stored with the item and shown to the person who files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredProposal {
    /// `reference`, `rule` or `classifier`.
    pub source: String,
    /// Rule name, the reference found, or the plan node's title.
    pub reason: String,
    /// The Vorgang proposed (a reference found in the text).
    pub record: Option<Uuid>,
    pub file_number: Option<String>,
    /// The plan node proposed (rule or classifier).
    pub plan_code: Option<String>,
    /// The org unit proposed (rule).
    pub org_unit: Option<Uuid>,
    /// The classifier's probability.
    pub probability: Option<f64>,
}

/// An item with the Vorgänge its proposals point to (for the form).
#[derive(Debug, Clone)]
pub struct IntrayView {
    pub item: IntrayItem,
    pub proposals: Vec<StoredProposal>,
    /// Vorgänge to choose from: those proposed, then open ones of the
    /// proposed plan nodes (at most 20).
    pub candidates: Vec<RecordFile>,
}

/// The classifier as the Fachadministration sees it.
#[derive(Debug, Clone)]
pub struct ClassifierStatus {
    pub trained_at: Option<chrono::DateTime<Utc>>,
    pub samples: i32,
    pub evaluation: Option<Evaluation>,
    /// Documents with text that could be used now.
    pub available: usize,
}

/// A new routing rule.
#[derive(Debug, Clone, Default)]
pub struct NewRule {
    pub name: String,
    pub priority: i32,
    pub sender: Option<String>,
    pub keywords: Vec<String>,
    pub target: Option<RouteTarget>,
}

fn rule_of(row: &IntrayRuleRow) -> Option<RoutingRule> {
    Some(RoutingRule {
        id: row.id,
        name: row.name.clone(),
        priority: row.priority,
        sender: row.sender.clone(),
        keywords: serde_json::from_str(&row.keywords).ok()?,
        target: serde_json::from_str(&row.target).ok()?,
    })
}

fn intray_error(e: StorageError) -> UseCaseError {
    match e {
        StorageError::Conflict("status") => UseCaseError::Workflow("intray.done"),
        StorageError::Conflict("record_status") => UseCaseError::Workflow("records.record_closed"),
        other => other.into(),
    }
}

impl App {
    fn require_intray<'a>(&self, actor: &'a Actor) -> UseCaseResult<&'a crate::Staff> {
        self.require_records_reader(actor)?;
        actor.staff().ok_or(UseCaseError::Forbidden)
    }

    /// Takes a piece of mail into the in-tray: checks its type by content,
    /// stores it, extracts its text and computes the proposals.
    pub async fn receive_mail(
        &self,
        actor: &Actor,
        file_name: &str,
        content: Bytes,
    ) -> UseCaseResult<IntrayItem> {
        let staff = self.require_intray(actor)?;
        let tenant = staff.tenant();
        if content.is_empty() {
            return Err(UseCaseError::BadFile("leere Datei (empty file)".into()));
        }
        if content.len() > MAX_INTRAY_BYTES {
            return Err(UseCaseError::BadFile(
                "größer als 25 MB (larger than 25 MB)".into(),
            ));
        }
        // Reading a PDF can cost seconds of CPU: off the async workers.
        let bytes = content.clone();
        let (mime, extracted) = tokio::task::spawn_blocking(move || {
            let mime = crate::records::sniff_staff_document(&bytes)?;
            Some((mime, rathaus_standards::text::extract(&bytes, Some(mime))))
        })
        .await
        .map_err(|e| UseCaseError::Internal(format!("text extraction: {e}")))?
        .ok_or_else(|| UseCaseError::BadFile(crate::records::UNSUPPORTED_DOCUMENT.into()))?;
        let extracted = extracted.map_err(|e| UseCaseError::BadFile(format!("{e}")))?;
        let text: String = extracted.text.chars().take(200_000).collect();
        let facts = MailFacts {
            sender: extracted.sender.clone(),
            subject: extracted.subject.clone(),
            text: text.clone(),
        };
        let proposals = self.proposals(tenant, &facts).await?;
        let name = crate::records::document_file_name(file_name, mime);
        let key = format!(
            "intray/{}.{}",
            Uuid::now_v7(),
            name.rsplit('.').next().unwrap_or("bin")
        );
        let stored = self.files.put(tenant, &key, content).await?;
        let kind = match extracted.kind {
            rathaus_standards::text::TextKind::Pdf => "pdf",
            rathaus_standards::text::TextKind::Mail => "mail",
            rathaus_standards::text::TextKind::Image => "image",
            rathaus_standards::text::TextKind::Text => "text",
        };
        match self
            .store
            .add_intray_item(
                tenant,
                NewIntrayItem {
                    uploaded_by: staff.user.id,
                    file_key: key.clone(),
                    file_name: name,
                    mime: mime.into(),
                    size: stored.size as i64,
                    sha256: stored.sha256,
                    kind: kind.into(),
                    sender: extracted.sender,
                    subject: extracted.subject,
                    text,
                    proposals: serde_json::to_string(&proposals).unwrap_or_else(|_| "[]".into()),
                },
            )
            .await
        {
            Ok(i) => Ok(i),
            Err(e) => {
                let _ = self.files.delete(tenant, &key).await;
                Err(e.into())
            }
        }
    }

    /// References first, then rules, then the classifier.
    async fn proposals(
        &self,
        tenant: rathaus_domain::tenancy::TenantId,
        facts: &MailFacts,
    ) -> UseCaseResult<Vec<StoredProposal>> {
        let repo = self.store.repo();
        let haystack = format!(
            "{}\n{}",
            facts.subject.clone().unwrap_or_default(),
            facts.text
        );
        let references = rules::find_references(&haystack);
        let rule_rows = repo.intray_rules(tenant).await?;
        let rule_list: Vec<RoutingRule> = rule_rows.iter().filter_map(rule_of).collect();
        let nodes = repo.plan_nodes(tenant).await?;
        let mut out: Vec<StoredProposal> = Vec::new();
        for p in rules::propose(&rule_list, facts, &references) {
            let Proposal {
                target,
                source,
                evidence: _,
            } = p;
            let (source, reason) = match &source {
                ProposalSource::Reference => ("reference", String::new()),
                ProposalSource::Rule { name, .. } => ("rule", name.clone()),
            };
            let mut sp = StoredProposal {
                source: source.into(),
                reason,
                record: None,
                file_number: None,
                plan_code: None,
                org_unit: None,
                probability: None,
            };
            match target {
                RouteTarget::Case { reference } => {
                    let Some(r) = rathaus_domain::applications::Reference::parse(&reference) else {
                        continue;
                    };
                    let Some(file) = self.record_of_reference(tenant, &r).await? else {
                        continue;
                    };
                    if sp.reason.is_empty() {
                        sp.reason = r.to_string();
                    }
                    sp.record = Some(file.id);
                    sp.file_number = Some(file.file_number);
                }
                RouteTarget::PlanNode { code } => {
                    let title = nodes
                        .iter()
                        .find(|n| n.code == code)
                        .map(|n| n.title.clone());
                    if title.is_none() {
                        continue;
                    }
                    sp.plan_code = Some(code);
                }
                RouteTarget::OrgUnit { id } => sp.org_unit = Some(id),
            }
            out.push(sp);
        }
        if let Some(row) = repo.intray_model(tenant).await?
            && let Ok(model) = serde_json::from_str::<Model>(&row.model)
        {
            let text = format!(
                "{}\n{}",
                facts.subject.clone().unwrap_or_default(),
                facts.text
            );
            let predictions: Vec<Prediction> =
                tokio::task::spawn_blocking(move || model.predict(&text))
                    .await
                    .map_err(|e| UseCaseError::Internal(format!("classifier: {e}")))?;
            for p in predictions
                .into_iter()
                .filter(|p| p.probability >= MIN_PROBABILITY)
                .take(2)
            {
                let Some(node) = nodes.iter().find(|n| n.code == p.label) else {
                    continue;
                };
                if out
                    .iter()
                    .any(|o| o.plan_code.as_deref() == Some(&node.code) && o.source == "classifier")
                {
                    continue;
                }
                out.push(StoredProposal {
                    source: "classifier".into(),
                    reason: format!("{} {}", node.code, node.title),
                    record: None,
                    file_number: None,
                    plan_code: Some(node.code.clone()),
                    org_unit: None,
                    probability: Some(p.probability),
                });
            }
        }
        Ok(out)
    }

    /// The open items of the in-tray, newest first.
    pub async fn intray(&self, actor: &Actor) -> UseCaseResult<Vec<IntrayItem>> {
        let staff = self.require_intray(actor)?;
        Ok(self
            .store
            .repo()
            .intray_items(staff.tenant(), rathaus_storage::intray::OPEN, 500)
            .await?)
    }

    /// One item with its proposals and the Vorgänge to choose from.
    pub async fn intray_item(&self, actor: &Actor, id: Uuid) -> UseCaseResult<IntrayView> {
        let staff = self.require_intray(actor)?;
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let item = repo
            .intray_item(tenant, id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let proposals: Vec<StoredProposal> =
            serde_json::from_str(&item.proposals).unwrap_or_default();
        let admin = actor.require(Permission::AdministerTenant).is_ok();
        let scope = if admin {
            None
        } else {
            Some(actor.case_scope()?)
        };
        let visible = |f: &RecordFile| scope.as_ref().is_none_or(|s| s.contains(&f.org_unit_id));
        let mut candidates: Vec<RecordFile> = Vec::new();
        for p in &proposals {
            if let Some(r) = p.record
                && let Some(f) = repo.record_file(tenant, r).await?
                && visible(&f)
                && !candidates.iter().any(|c| c.id == f.id)
            {
                candidates.push(f);
            }
        }
        let nodes = repo.plan_nodes(tenant).await?;
        for p in &proposals {
            if let Some(code) = &p.plan_code
                && let Some(node) = nodes.iter().find(|n| &n.code == code)
            {
                for f in repo.files_of_node(tenant, node.id, 20).await? {
                    if visible(&f) && !candidates.iter().any(|c| c.id == f.id) {
                        candidates.push(f);
                    }
                }
            }
        }
        candidates.truncate(20);
        Ok(IntrayView {
            item,
            proposals,
            candidates,
        })
    }

    /// The content of an item (to look at before filing).
    pub async fn intray_content(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<(IntrayItem, Bytes)> {
        let staff = self.require_intray(actor)?;
        let tenant = staff.tenant();
        let item = self
            .store
            .repo()
            .intray_item(tenant, id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let content = self
            .files
            .get(tenant, &item.file_key)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        Ok((item, content))
    }

    /// Files an item into a Vorgang (given by id or by file number / the
    /// application's reference): the person confirms where it goes.
    pub async fn file_intray_item(
        &self,
        actor: &Actor,
        id: Uuid,
        record: Option<Uuid>,
        number: Option<&str>,
        title: &str,
    ) -> UseCaseResult<(IntrayItem, RecordDocument)> {
        let staff = self.require_intray(actor)?;
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let record = match (record, number.map(str::trim).filter(|n| !n.is_empty())) {
            (Some(r), _) => r,
            (None, Some(n)) => {
                self.record_by_number(actor, n)
                    .await
                    .map_err(|e| match e {
                        UseCaseError::Validation(_) => {
                            UseCaseError::Validation(ValidationErrors::from(
                                rathaus_domain::FieldError::new("record", "records.unknown_record"),
                            ))
                        }
                        other => other,
                    })?
                    .id
            }
            (None, None) => {
                return Err(ValidationErrors::from(rathaus_domain::FieldError::new(
                    "record", "required",
                ))
                .into());
            }
        };
        let file = self.require_record_access(actor, record).await?;
        let item = repo
            .intray_item(tenant, id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let title = rathaus_domain::validation::optional_text("title", title, 300)
            .map_err(ValidationErrors::from)?
            .unwrap_or_else(|| {
                item.subject
                    .clone()
                    .unwrap_or_else(|| format!("Posteingang {}", item.file_name))
            });
        let doc = NewDocument {
            kind: DocumentKind::Incoming,
            title,
            source_id: Some(item.id),
            date: item.received_at.date_naive(),
            filed_by: Some(staff.user.id),
            file_key: item.file_key.clone(),
            file_name: item.file_name.clone(),
            mime: item.mime.clone(),
            size: item.size,
            sha256: item.sha256.clone(),
        };
        self.store
            .file_intray_item(
                tenant,
                id,
                file.id,
                &doc,
                (staff.user.id, &staff.audit_name()),
            )
            .await
            .map_err(intray_error)
    }

    /// Discards an item (the content is deleted).
    pub async fn discard_intray_item(&self, actor: &Actor, id: Uuid) -> UseCaseResult<()> {
        let staff = self.require_intray(actor)?;
        self.store
            .discard_intray_item(staff.tenant(), id)
            .await
            .map_err(intray_error)?;
        Ok(())
    }

    /// The routing rules.
    pub async fn intray_rules(&self, actor: &Actor) -> UseCaseResult<Vec<RoutingRule>> {
        let staff = self.require_intray(actor)?;
        Ok(self
            .store
            .repo()
            .intray_rules(staff.tenant())
            .await?
            .iter()
            .filter_map(rule_of)
            .collect())
    }

    /// Adds a routing rule (Fachadministration).
    pub async fn add_intray_rule(
        &self,
        actor: &Actor,
        input: NewRule,
    ) -> UseCaseResult<RoutingRule> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let tenant = staff.tenant();
        let target = input.target.ok_or_else(|| {
            ValidationErrors::from(rathaus_domain::FieldError::new("target", "required"))
        })?;
        let rule = RoutingRule {
            id: Uuid::now_v7(),
            name: input.name.trim().to_string(),
            priority: input.priority.clamp(-1000, 1000),
            sender: input
                .sender
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            keywords: input
                .keywords
                .iter()
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect(),
            target,
        };
        rule.check().map_err(ValidationErrors::from)?;
        match &rule.target {
            RouteTarget::PlanNode { code } => {
                if !self
                    .store
                    .repo()
                    .plan_nodes(tenant)
                    .await?
                    .iter()
                    .any(|n| &n.code == code)
                {
                    return Err(ValidationErrors::from(rathaus_domain::FieldError::new(
                        "target",
                        "records.plan_code_unknown",
                    ))
                    .into());
                }
            }
            RouteTarget::OrgUnit { id } => {
                use rathaus_storage::tenancy::OrgUnitRepository;
                if self.store.repo().org_unit(tenant, *id).await?.is_none() {
                    return Err(ValidationErrors::from(rathaus_domain::FieldError::new(
                        "target",
                        "intray.unknown_unit",
                    ))
                    .into());
                }
            }
            RouteTarget::Case { .. } => {}
        }
        let row = self
            .store
            .add_intray_rule(
                tenant,
                &rathaus_storage::intray::NewIntrayRule {
                    name: &rule.name,
                    priority: rule.priority,
                    sender: rule.sender.as_deref(),
                    keywords: &serde_json::json!(rule.keywords),
                    target: &serde_json::to_value(&rule.target)
                        .map_err(|e| UseCaseError::Internal(e.to_string()))?,
                },
                staff.user.id,
            )
            .await?;
        rule_of(&row).ok_or_else(|| UseCaseError::Internal("stored rule".into()))
    }

    /// Deletes a routing rule (Fachadministration).
    pub async fn delete_intray_rule(&self, actor: &Actor, id: Uuid) -> UseCaseResult<()> {
        let staff = actor.require(Permission::AdministerTenant)?;
        Ok(self.store.delete_intray_rule(staff.tenant(), id).await?)
    }

    /// The classifier's state and last measured accuracy.
    pub async fn classifier_status(&self, actor: &Actor) -> UseCaseResult<ClassifierStatus> {
        let staff = self.require_intray(actor)?;
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let available = repo
            .texts_for_training(tenant, MAX_TRAINING_DOCUMENTS)
            .await?
            .len();
        Ok(match repo.intray_model(tenant).await? {
            Some(m) => ClassifierStatus {
                trained_at: Some(m.trained_at),
                samples: m.samples,
                evaluation: serde_json::from_str(&m.evaluation).ok(),
                available,
            },
            None => ClassifierStatus {
                trained_at: None,
                samples: 0,
                evaluation: None,
                available,
            },
        })
    }

    /// Trains the classifier on the tenant's filed documents (labelled with
    /// their Vorgang's plan node), measures it on a held-out fifth and
    /// stores both (Fachadministration).
    pub async fn train_classifier(&self, actor: &Actor) -> UseCaseResult<ClassifierStatus> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let tenant = staff.tenant();
        let repo = self.store.repo();
        let nodes = repo.plan_nodes(tenant).await?;
        let rows: Vec<(String, String, String)> = repo
            .texts_for_training(tenant, MAX_TRAINING_DOCUMENTS)
            .await?
            .into_iter()
            .filter_map(|(id, text, node)| {
                let code = nodes.iter().find(|n| n.id == node)?.code.clone();
                Some((id.to_string(), text, code))
            })
            .collect();
        let n = rows.len();
        let (model, evaluation) = tokio::task::spawn_blocking(move || {
            let samples: Vec<Sample> = rows
                .iter()
                .map(|(k, t, l)| Sample {
                    key: k,
                    text: t,
                    label: l,
                })
                .collect();
            classifier::train_and_evaluate(&samples, HOLDOUT_PERCENT)
        })
        .await
        .map_err(|e| UseCaseError::Internal(format!("training: {e}")))?
        .map_err(|e| UseCaseError::Workflow(e.code()))?;
        let row = self
            .store
            .save_intray_model(
                tenant,
                serde_json::to_string(&model).map_err(|e| UseCaseError::Internal(e.to_string()))?,
                serde_json::to_string(&evaluation)
                    .map_err(|e| UseCaseError::Internal(e.to_string()))?,
                i32::try_from(n).unwrap_or(i32::MAX),
                Some(staff.user.id),
            )
            .await?;
        Ok(ClassifierStatus {
            trained_at: Some(row.trained_at),
            samples: row.samples,
            evaluation: Some(evaluation),
            available: n,
        })
    }
}
