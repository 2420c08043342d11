//! The editorial workflow (four eyes, versions, history) once, for services
//! and forms alike: submit, approve, reject, archive and the version history.
//! The four-eyes rule is the domain's (`rathaus_domain::catalog::transition`);
//! the steps run in one write transaction each ([`rathaus_storage::editorial`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rathaus_domain::{
    ValidationErrors, catalog::VersionStatus, tenancy::TenantId, validation::optional_text,
};
use rathaus_storage::prelude::*;
use rathaus_storage::{catalog::Services, forms::Forms};
use uuid::Uuid;

pub use rathaus_storage::editorial::{
    Archivable, ChangeAction, ChangeKind, RecordChange, VersionRow, Versioned, WorkflowStep,
};

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

/// Longest review comment (characters).
pub const MAX_COMMENT_CHARS: usize = 2000;

/// A kind of content under the editorial workflow.
pub trait Content: Versioned + ChangeKind {
    /// Whether the portal's search index shows this kind (it follows every
    /// publication and archiving).
    const INDEXED: bool;
}

impl Content for Services {
    const INDEXED: bool = true;
}

impl Content for Forms {
    const INDEXED: bool = false;
}

/// One row of the version history, with names instead of user ids.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub number: i32,
    pub status: VersionStatus,
    pub author: String,
    pub reviewer: String,
    pub comment: String,
    pub updated_at: DateTime<Utc>,
}

/// The versions of a record and what the actor may do next.
#[derive(Debug, Clone)]
pub struct Workflow<V> {
    /// Newest first; never empty.
    pub versions: Vec<V>,
    pub history: Vec<HistoryEntry>,
    pub latest_status: VersionStatus,
    /// The newest version may be changed (it is not in review).
    pub can_edit: bool,
    pub can_submit: bool,
    pub can_review: bool,
    /// The actor wrote the newest version (and so may not approve it).
    pub own_change: bool,
}

impl<V: VersionRow> Workflow<V> {
    pub fn latest(&self) -> &V {
        &self.versions[0]
    }
}

/// The version after a workflow step.
pub type Step<T> = UseCaseResult<<T as Versioned>::Version>;

impl App {
    /// Hands the open draft to review.
    pub async fn submit_version<T: Content>(&self, actor: &Actor, id: Uuid) -> Step<T> {
        self.workflow_step::<T>(actor, id, WorkflowStep::Submit)
            .await
    }

    /// Publishes the version in review; its author cannot.
    pub async fn approve_version<T: Content>(&self, actor: &Actor, id: Uuid) -> Step<T> {
        self.workflow_step::<T>(actor, id, WorkflowStep::Approve)
            .await
    }

    /// Sends the version in review back with an optional comment.
    pub async fn reject_version<T: Content>(
        &self,
        actor: &Actor,
        id: Uuid,
        comment: &str,
    ) -> Step<T> {
        let step = WorkflowStep::Reject(comment.to_string());
        self.workflow_step::<T>(actor, id, step).await
    }

    /// One step in one transaction; a publication also refreshes what
    /// depends on it.
    pub async fn workflow_step<T: Content>(
        &self,
        actor: &Actor,
        id: Uuid,
        step: WorkflowStep,
    ) -> Step<T> {
        let staff = actor.require(Permission::EditContent)?;
        let step = match step {
            WorkflowStep::Reject(comment) => WorkflowStep::Reject(
                optional_text("comment", &comment, MAX_COMMENT_CHARS)
                    .map_err(ValidationErrors::from)?
                    .unwrap_or_default(),
            ),
            other => other,
        };
        self.require_record::<T>(staff.tenant(), id).await?;
        let publishes = step == WorkflowStep::Approve;
        let v = self
            .store
            .workflow_step::<T>(staff.tenant(), id, staff.user.id, step)
            .await?;
        if publishes {
            self.after_publication::<T>().await;
        }
        Ok(v)
    }

    /// Asks to take a record off the portal: a pending change that another
    /// editor must approve ([`App::review_change`]); until then the record
    /// stays public.
    pub async fn archive<T: Content + Archivable>(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<RecordChange> {
        self.request_change::<T>(actor, id, ChangeAction::Archive)
            .await
    }

    /// Records a change of a record for the four eyes (a pending one of the
    /// same record is replaced).
    pub async fn request_change<T: Content>(
        &self,
        actor: &Actor,
        id: Uuid,
        action: ChangeAction,
    ) -> UseCaseResult<RecordChange> {
        let staff = actor.require(Permission::EditContent)?;
        Ok(self
            .store
            .request_change::<T>(staff.tenant(), id, action, staff.user.id)
            .await?)
    }

    /// Approves (and so applies) or rejects the pending change of a record.
    /// The editor who asked for it cannot approve it; rejecting it withdraws it.
    pub async fn review_change<T: Content>(
        &self,
        actor: &Actor,
        id: Uuid,
        approve: bool,
    ) -> UseCaseResult<RecordChange> {
        let staff = actor.require(Permission::EditContent)?;
        self.require_record::<T>(staff.tenant(), id).await?;
        let change = self
            .store
            .review_change::<T>(staff.tenant(), id, staff.user.id, approve)
            .await?;
        if approve {
            self.after_publication::<T>().await;
        }
        Ok(change)
    }

    /// The change of a record waiting for a second editor, if any.
    pub async fn pending_change<T: Content>(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<Option<RecordChange>> {
        let staff = actor.require(Permission::EditContent)?;
        Ok(self
            .store
            .repo()
            .pending_change::<T>(staff.tenant(), id)
            .await?)
    }

    /// The versions of a record, newest first, with the names of authors
    /// and reviewers and the steps open to the actor.
    pub async fn version_history<T: Content>(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<Workflow<T::Version>> {
        let staff = actor.require(Permission::EditContent)?;
        let repo = self.store.repo();
        let versions = repo.version_history::<T>(staff.tenant(), id).await?;
        let latest = versions.first().ok_or(UseCaseError::NotFound)?;
        let names: HashMap<Uuid, String> = repo
            .users(staff.tenant())
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let name = |id: Option<Uuid>| {
            id.and_then(|id| names.get(&id).cloned())
                .unwrap_or_default()
        };
        let status = latest.status();
        Ok(Workflow {
            latest_status: status,
            can_edit: status != VersionStatus::InReview,
            can_submit: status == VersionStatus::Draft,
            can_review: status == VersionStatus::InReview,
            own_change: latest.author() == staff.user.id,
            history: versions
                .iter()
                .map(|v| HistoryEntry {
                    number: v.number(),
                    status: v.status(),
                    author: name(Some(v.author())),
                    reviewer: name(v.reviewer()),
                    comment: v.review_comment().unwrap_or_default().to_string(),
                    updated_at: v.updated_at(),
                })
                .collect(),
            versions,
        })
    }

    /// `NotFound` unless the record exists in the tenant.
    async fn require_record<T: Content>(&self, tenant: TenantId, id: Uuid) -> UseCaseResult<()> {
        T::published_pointer(&self.store.repo(), tenant, id).await?;
        Ok(())
    }

    /// After a change of what is public: submissions read anew, and the
    /// search index follows at once on this instance (others within a
    /// second, from the change log).
    async fn after_publication<T: Content>(&self) {
        self.changed();
        if T::INDEXED
            && let Err(e) = self.search.sync(&self.store).await
        {
            tracing::warn!(error = %e, "search index sync after a workflow step failed");
        }
    }
}
