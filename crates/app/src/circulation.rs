//! Umlaufmappen (C6): a Vorgang, or one of its documents, circulates
//! through an ordered list of staff members of the tenant. The current person
//! signs off (with an optional comment) or sends it back to the sender; the
//! sender may withdraw it. Each step is in the case history and the audit
//! chain (`rathaus_storage::circulation`).
//!
//! Who may: starting one needs access to the Vorgang (the case's clerks, the
//! Fachadministration); a step is taken by the person whose turn it is (or
//! the sender, to withdraw); reading one needs access to the Vorgang or a
//! place in it.

use rathaus_domain::{
    ValidationErrors,
    records::{CirculationAction, MAX_CIRCULATION_STEPS},
    validation::{optional_text, required_text},
};
use rathaus_storage::{
    StorageError,
    circulation::{CirculationRepository, CirculationWithSteps, NewCirculation},
    identity::UserRepository,
    records::{RecordFile, RecordRepository},
};
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

/// Longest instruction of an Umlaufmappe.
pub const MAX_INSTRUCTION_CHARS: usize = 2000;
/// Longest comment on a step.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// What starting an Umlaufmappe asks for.
#[derive(Debug, Clone, Default)]
pub struct StartCirculation {
    pub title: String,
    pub instruction: String,
    pub document: Option<Uuid>,
    /// Staff user ids, in order.
    pub people: Vec<Uuid>,
}

/// The Umlaufmappen of one person.
#[derive(Debug, Clone)]
pub struct MyCirculations {
    /// Waiting for this person.
    pub waiting: Vec<(CirculationWithSteps, RecordFile)>,
    /// Started by this person.
    pub started: Vec<(CirculationWithSteps, RecordFile)>,
}

fn step_error(e: StorageError) -> UseCaseError {
    match e {
        StorageError::Conflict(code) if code.starts_with("circulation.") => {
            UseCaseError::Workflow(code)
        }
        other => other.into(),
    }
}

impl App {
    /// The staff member may work with this Vorgang (its case's clerks or the
    /// Fachadministration).
    pub(crate) async fn require_record_access(
        &self,
        actor: &Actor,
        record: Uuid,
    ) -> UseCaseResult<RecordFile> {
        let tenant = self.require_records_reader(actor)?;
        let file = self
            .store
            .repo()
            .record_file(tenant, record)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        if actor.require(Permission::AdministerTenant).is_err() {
            actor.require_case(file.org_unit_id)?;
        }
        Ok(file)
    }

    /// Starts an Umlaufmappe for a Vorgang (or one of its documents).
    pub async fn start_circulation(
        &self,
        actor: &Actor,
        record: Uuid,
        input: StartCirculation,
    ) -> UseCaseResult<CirculationWithSteps> {
        let file = self.require_record_access(actor, record).await?;
        if !matches!(
            file.status(),
            rathaus_domain::records::FileStatus::Open | rathaus_domain::records::FileStatus::Closed
        ) {
            return Err(UseCaseError::Workflow("records.record_closed"));
        }
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        let tenant = staff.tenant();
        let mut errs = ValidationErrors::new();
        let title = errs.check(required_text("title", &input.title, 200));
        let instruction = errs.check(optional_text(
            "instruction",
            &input.instruction,
            MAX_INSTRUCTION_CHARS,
        ));
        let mut people = Vec::new();
        for p in &input.people {
            if !people.contains(p) {
                people.push(*p);
            }
        }
        if people.is_empty() || people.len() > MAX_CIRCULATION_STEPS {
            errs.push(rathaus_domain::FieldError::new(
                "people",
                "circulation.people",
            ));
        }
        let repo = self.store.repo();
        let allowed: Vec<Uuid> = self
            .circulation_people(actor)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        if people.iter().any(|p| !allowed.contains(p)) {
            errs.push(rathaus_domain::FieldError::new(
                "people",
                "circulation.unknown_person",
            ));
        }
        if let Some(d) = input.document {
            match repo.filed_document(tenant, d).await? {
                Some((_, f)) if f.id == file.id => {}
                _ => errs.push(rathaus_domain::FieldError::new(
                    "document",
                    "circulation.unknown_document",
                )),
            }
        }
        errs.into_result()?;
        Ok(self
            .store
            .start_circulation(
                tenant,
                &NewCirculation {
                    record_file_id: file.id,
                    document_id: input.document,
                    title: title.unwrap_or_default(),
                    instruction: instruction.flatten().unwrap_or_default(),
                    people,
                },
                (staff.user.id, &staff.audit_name()),
            )
            .await?)
    }

    /// One Umlaufmappe with its Vorgang: for those in it and those with
    /// access to the Vorgang.
    pub async fn circulation(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<(CirculationWithSteps, RecordFile)> {
        let tenant = self.require_records_reader(actor)?;
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        let repo = self.store.repo();
        let c = repo
            .circulation(tenant, id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let involved = c.circulation.started_by == staff.user.id
            || c.steps.iter().any(|s| s.user_id == staff.user.id);
        let file = if involved {
            repo.record_file(tenant, c.circulation.record_file_id)
                .await?
                .ok_or(UseCaseError::NotFound)?
        } else {
            self.require_record_access(actor, c.circulation.record_file_id)
                .await?
        };
        Ok((c, file))
    }

    /// Signs off, returns or withdraws an Umlaufmappe.
    pub async fn circulation_step(
        &self,
        actor: &Actor,
        id: Uuid,
        action: CirculationAction,
        comment: &str,
    ) -> UseCaseResult<CirculationWithSteps> {
        let (c, _) = self.circulation(actor, id).await?;
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        let comment = if action == CirculationAction::Return {
            Some(
                required_text("comment", comment, MAX_COMMENT_CHARS)
                    .map_err(ValidationErrors::from)?,
            )
        } else {
            optional_text("comment", comment, MAX_COMMENT_CHARS).map_err(ValidationErrors::from)?
        };
        self.store
            .circulation_step(
                staff.tenant(),
                c.circulation.id,
                action,
                comment.as_deref(),
                (staff.user.id, &staff.audit_name()),
            )
            .await
            .map_err(step_error)
    }

    /// The Umlaufmappen waiting for the actor and those they started.
    pub async fn my_circulations(&self, actor: &Actor) -> UseCaseResult<MyCirculations> {
        let tenant = self.require_records_reader(actor)?;
        let staff = actor.staff().ok_or(UseCaseError::Forbidden)?;
        let repo = self.store.repo();
        let (waiting, started) = repo.circulations_of_person(tenant, staff.user.id).await?;
        let mut out = MyCirculations {
            waiting: Vec::new(),
            started: Vec::new(),
        };
        for (list, into) in [(waiting, &mut out.waiting), (started, &mut out.started)] {
            for c in list {
                if let Some(f) = repo
                    .record_file(tenant, c.circulation.record_file_id)
                    .await?
                {
                    into.push((c, f));
                }
            }
        }
        Ok(out)
    }

    /// The Umlaufmappen of a Vorgang.
    pub async fn circulations_of_record(
        &self,
        actor: &Actor,
        record: Uuid,
    ) -> UseCaseResult<Vec<CirculationWithSteps>> {
        let file = self.require_record_access(actor, record).await?;
        Ok(self
            .store
            .repo()
            .circulations_of_file(actor.tenant(), file.id)
            .await?)
    }

    /// Staff members of the tenant who can be put in an Umlaufmappe
    /// (active, with a clerk's or the Fachadministration's role: they can
    /// open it), by name.
    pub async fn circulation_people(&self, actor: &Actor) -> UseCaseResult<Vec<(Uuid, String)>> {
        use rathaus_domain::identity::Role;
        let tenant = self.require_records_reader(actor)?;
        let repo = self.store.repo();
        let mut users: Vec<(Uuid, String)> = Vec::new();
        for u in repo.users(tenant).await?.into_iter().filter(|u| u.active) {
            if repo
                .grants(tenant, u.id)
                .await?
                .iter()
                .any(|g| matches!(g.role, Role::Clerk | Role::TenantAdmin))
            {
                users.push((u.id, u.display_name));
            }
        }
        users.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(users)
    }
}
