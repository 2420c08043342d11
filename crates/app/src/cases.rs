//! Case work (C4): the inbox, claiming, status steps, notes, forwarding and
//! the audit trail of a case — for the clerk's pages and the API alike.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rathaus_domain::forms::FormDefinition;
use rathaus_domain::{
    FieldError, ValidationErrors,
    cases::{CaseAction, CaseStatus},
    validation::required_text,
};
use rathaus_storage::applications::{Application, ApplicationFile};
use rathaus_storage::applications::{
    AuditEntry, Case, CaseChange, CaseError, InboxQuery, InboxRow,
};
use rathaus_storage::mailbox::{Message, OfficeMessage};
use rathaus_storage::prelude::*;
use rathaus_storage::tenancy::OrgUnit;
use uuid::Uuid;

use crate::{Actor, App, UseCaseError, UseCaseResult};

/// Longest note text (characters).
pub const MAX_NOTE_CHARS: usize = 4000;
/// Longest office message (characters).
pub const MAX_MESSAGE_CHARS: usize = 8000;
/// Most documents one request names, and the longest name of one.
pub const MAX_REQUESTED_DOCUMENTS: usize = 30;
pub const MAX_DOCUMENT_CHARS: usize = 200;

/// A message the office writes to the applicant; with documents named it is
/// a document request (Nachforderung) and the case waits for them.
#[derive(Debug, Clone, Default)]
pub struct OfficeMessageInput {
    pub body: String,
    /// The documents requested, one name each (blank names are dropped).
    pub requested_documents: Vec<String>,
    /// The deadline: today or later.
    pub due_date: Option<chrono::NaiveDate>,
}

/// One step a clerk takes on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseStep {
    /// Take the case (and start working on it).
    Claim,
    /// A status step; deciding goes through the decision with its Bescheid.
    Status(CaseAction),
    /// An internal note (not shown to the applicant).
    Note(String),
    /// Hand the case to another org unit of the tenant.
    Forward(Uuid),
}

/// Which cases of the inbox.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub status: Option<CaseStatus>,
    /// Only the actor's own cases.
    pub mine: bool,
    pub unassigned: bool,
    pub overdue: bool,
    /// A reference number (exact, case-insensitive).
    pub reference: Option<String>,
    /// Keyset cursor: cases created before this.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u64,
}

/// The keyset cursor of an inbox page: `<RFC 3339 time>_<case id>`.
pub fn cursor_of(case: &Case) -> String {
    format!(
        "{}_{}",
        case.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        case.id
    )
}

/// Reads a cursor made by [`cursor_of`].
pub fn parse_cursor(s: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = s.split_once('_')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        Uuid::parse_str(id).ok()?,
    ))
}

impl App {
    /// The case if the actor works cases in its org unit; else `NotFound`
    /// (or `Forbidden` for someone who works no cases at all).
    pub async fn case(&self, actor: &Actor, case_id: Uuid) -> UseCaseResult<Case> {
        actor.case_scope()?;
        let case = self
            .store
            .repo()
            .case(actor.tenant(), case_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        actor.require_case(case.org_unit_id)?;
        Ok(case)
    }

    /// The open cases in the actor's org units, newest first, one page.
    pub async fn inbox(&self, actor: &Actor, filter: InboxFilter) -> UseCaseResult<Vec<InboxRow>> {
        let staff = actor.require(crate::Permission::WorkCases)?;
        let units: Vec<Uuid> = actor.case_scope()?.into_iter().collect();
        let query = InboxQuery {
            statuses: filter.status.into_iter().collect(),
            assignee: filter.mine.then_some(staff.user.id),
            unassigned: filter.unassigned,
            overdue: filter.overdue,
            reference: filter
                .reference
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
            before: filter.before,
            limit: filter.limit.clamp(1, 200),
        };
        Ok(self
            .store
            .repo()
            .inbox(actor.tenant(), &units, &query)
            .await?)
    }

    /// Applies one step to a case in one transaction with its audit entry.
    pub async fn change_case(
        &self,
        actor: &Actor,
        case_id: Uuid,
        step: CaseStep,
    ) -> UseCaseResult<Case> {
        let case = self.case(actor, case_id).await?;
        let staff = actor.require(crate::Permission::WorkCases)?;
        let change = match step {
            CaseStep::Claim => CaseChange::Claim,
            CaseStep::Status(CaseAction::Decide) => {
                return Err(FieldError::new("action", "decide.needs_bescheid").into());
            }
            // Only a payment the provider confirmed receives a case that
            // waits for its fee.
            CaseStep::Status(CaseAction::PaymentReceived) => {
                return Err(FieldError::new("action", "case.payment_by_provider").into());
            }
            CaseStep::Status(a) => CaseChange::Status(a),
            CaseStep::Note(text) => CaseChange::Note(required_text("text", &text, MAX_NOTE_CHARS)?),
            CaseStep::Forward(unit) => CaseChange::Forward(unit),
        };
        let audit_actor = staff.audit_name();
        self.store
            .change_case(
                actor.tenant(),
                case.id,
                (staff.user.id, &audit_actor),
                change,
            )
            .await
            .map_err(UseCaseError::from)
    }

    /// The case and its audit entries in chain order.
    pub async fn case_audit(
        &self,
        actor: &Actor,
        case_id: Uuid,
    ) -> UseCaseResult<(Case, Vec<AuditEntry>)> {
        let case = self.case(actor, case_id).await?;
        let entries = self
            .store
            .repo()
            .audit_of_case(actor.tenant(), case.id)
            .await?;
        Ok((case, entries))
    }
}

impl App {
    /// The office writes to the applicant (or requests documents) in one
    /// transaction with the status step, the audit entry and the notification.
    pub async fn office_message(
        &self,
        actor: &Actor,
        case_id: Uuid,
        input: OfficeMessageInput,
    ) -> UseCaseResult<Message> {
        let case = self.case(actor, case_id).await?;
        let staff = actor.require(crate::Permission::WorkCases)?;
        let mut errs = ValidationErrors::new();
        let body = errs.check(required_text("body", &input.body, MAX_MESSAGE_CHARS));
        if input.due_date.is_some_and(|d| d < Utc::now().date_naive()) {
            errs.push(FieldError::new("due_date", "date.invalid"));
        }
        let documents: Vec<String> = input
            .requested_documents
            .iter()
            .map(|d| d.trim().replace(['\r', '\n'], " "))
            .filter(|d| !d.is_empty())
            .collect();
        if documents.len() > MAX_REQUESTED_DOCUMENTS
            || documents
                .iter()
                .any(|d| d.chars().count() > MAX_DOCUMENT_CHARS)
        {
            errs.push(FieldError::new("requested_documents", "too_long"));
        }
        errs.into_result()?;
        let body = body.ok_or_else(|| UseCaseError::Internal("body checked".into()))?;
        let audit_actor = staff.audit_name();
        Ok(self
            .store
            .office_message(
                actor.tenant(),
                case.id,
                (staff.user.id, &audit_actor),
                OfficeMessage {
                    body,
                    requested_documents: (!documents.is_empty()).then(|| documents.join("\n")),
                    due_date: input.due_date,
                },
            )
            .await?)
    }
}

impl From<CaseError> for UseCaseError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::Transition(t) => UseCaseError::Transition(t),
            CaseError::Storage(s) => s.into(),
        }
    }
}

impl From<FieldError> for UseCaseError {
    fn from(e: FieldError) -> Self {
        UseCaseError::Validation(e.into())
    }
}

/// Names a clerk's pages show for ids: org units, staff, services.
#[derive(Debug, Clone, Default)]
pub struct CaseNames {
    /// Every org unit of the tenant (also the forward targets).
    pub units: Vec<OrgUnit>,
    pub people: HashMap<Uuid, String>,
    /// Published titles of the services asked for.
    pub services: HashMap<Uuid, String>,
}

impl CaseNames {
    pub fn unit(&self, id: Uuid) -> String {
        self.units
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    pub fn person(&self, id: Option<Uuid>) -> String {
        id.and_then(|p| self.people.get(&p).cloned())
            .unwrap_or_default()
    }

    pub fn service(&self, id: Option<Uuid>) -> String {
        id.and_then(|s| self.services.get(&s).cloned())
            .unwrap_or_default()
    }
}

/// A case with everything its page shows.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: Case,
    pub application: Application,
    pub definition: FormDefinition,
    pub files: Vec<ApplicationFile>,
    pub audit: Vec<AuditEntry>,
    pub messages: Vec<Message>,
    pub message_files: Vec<ApplicationFile>,
    pub names: CaseNames,
}

impl App {
    /// The names for a page of cases (`services`: the services shown).
    pub async fn case_names(&self, actor: &Actor, services: &[Uuid]) -> UseCaseResult<CaseNames> {
        actor.case_scope()?;
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let mut names = CaseNames {
            units: repo.org_units(tenant).await?,
            people: repo
                .users(tenant)
                .await?
                .into_iter()
                .map(|u| (u.id, u.display_name))
                .collect(),
            services: HashMap::new(),
        };
        for &s in services {
            if names.services.contains_key(&s) {
                continue;
            }
            let title = repo
                .published(tenant, s)
                .await?
                .map(|p| p.content.title.de)
                .unwrap_or_default();
            names.services.insert(s, title);
        }
        Ok(names)
    }

    /// A case with its application, files, history and thread. Opening it
    /// marks the applicant's messages read.
    pub async fn case_view(&self, actor: &Actor, case_id: Uuid) -> UseCaseResult<CaseView> {
        let case = self.case(actor, case_id).await?;
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let application = repo
            .application(tenant, case.application_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let definition = repo
            .form_version(tenant, application.form_version_id)
            .await?
            .and_then(|v| v.definition())
            .ok_or(UseCaseError::NotFound)?;
        let names = self
            .case_names(actor, application.service_id.as_slice())
            .await?;
        repo.mark_read(tenant, application.id, false).await?;
        Ok(CaseView {
            files: repo.application_files(tenant, application.id).await?,
            audit: repo.audit_of_case(tenant, case.id).await?,
            messages: repo.messages(tenant, application.id).await?,
            message_files: repo.message_files(tenant, application.id).await?,
            case,
            application,
            definition,
            names,
        })
    }

    /// A file submitted with a case's application, with its content.
    pub async fn case_file(
        &self,
        actor: &Actor,
        case_id: Uuid,
        file_id: Uuid,
    ) -> UseCaseResult<(ApplicationFile, bytes::Bytes)> {
        let case = self.case(actor, case_id).await?;
        let tenant = actor.tenant();
        let file = self
            .store
            .repo()
            .application_files(tenant, case.application_id)
            .await?
            .into_iter()
            .find(|f| f.id == file_id)
            .ok_or(UseCaseError::NotFound)?;
        let content = self
            .files
            .get(tenant, &file.file_key)
            .await
            .map_err(|e| UseCaseError::Internal(e.to_string()))?
            .ok_or(UseCaseError::NotFound)?;
        Ok((file, content))
    }
}
