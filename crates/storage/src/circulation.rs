//! Umlaufmappen: a Vorgang (or one of its documents) circulates through an
//! ordered list of people. Each step is written in one transaction with its
//! audit entry on the Vorgang's case, so the case history and the audit
//! chain show who signed, returned or withdrew it, when, with what comment.

use chrono::Utc;
use rathaus_domain::{
    records::{CirculationAction, CirculationStatus, circulation_step},
    tenancy::TenantId,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result, StorageError, Store,
    audit::AuditRepository,
    entities::{circulation, circulation_step as step},
    records::RecordRepository,
};

pub type Circulation = circulation::Model;
pub type CirculationStep = step::Model;

impl circulation::Model {
    pub fn status(&self) -> CirculationStatus {
        CirculationStatus::parse(&self.status).unwrap_or(CirculationStatus::Cancelled)
    }
}

/// An Umlaufmappe with its steps in order.
#[derive(Debug, Clone)]
pub struct CirculationWithSteps {
    pub circulation: Circulation,
    pub steps: Vec<CirculationStep>,
}

/// A new Umlaufmappe.
#[derive(Debug, Clone)]
pub struct NewCirculation {
    pub record_file_id: Uuid,
    pub document_id: Option<Uuid>,
    pub title: String,
    pub instruction: String,
    pub people: Vec<Uuid>,
}

#[allow(async_fn_in_trait)]
pub trait CirculationRepository {
    async fn circulation(&self, tenant: TenantId, id: Uuid)
    -> Result<Option<CirculationWithSteps>>;
    /// The Umlaufmappen of a Vorgang, newest first.
    async fn circulations_of_file(
        &self,
        tenant: TenantId,
        file: Uuid,
    ) -> Result<Vec<CirculationWithSteps>>;
    /// Running Umlaufmappen whose current step is this person's, and those
    /// this person started (newest first, at most 200 each).
    async fn circulations_of_person(
        &self,
        tenant: TenantId,
        user: Uuid,
    ) -> Result<(Vec<CirculationWithSteps>, Vec<CirculationWithSteps>)>;
}

impl<C: ConnectionTrait> Repo<'_, C> {
    async fn steps_of(&self, tenant: TenantId, ids: &[Uuid]) -> Result<Vec<CirculationStep>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(step::Entity::find()
            .filter(step::Column::TenantId.eq(tenant.0))
            .filter(step::Column::CirculationId.is_in(ids.to_vec()))
            .order_by_asc(step::Column::Position)
            .all(self.0)
            .await?)
    }

    async fn with_steps(
        &self,
        tenant: TenantId,
        list: Vec<Circulation>,
    ) -> Result<Vec<CirculationWithSteps>> {
        let ids: Vec<Uuid> = list.iter().map(|c| c.id).collect();
        let steps = self.steps_of(tenant, &ids).await?;
        Ok(list
            .into_iter()
            .map(|c| CirculationWithSteps {
                steps: steps
                    .iter()
                    .filter(|s| s.circulation_id == c.id)
                    .cloned()
                    .collect(),
                circulation: c,
            })
            .collect())
    }
}

impl<C: ConnectionTrait> CirculationRepository for Repo<'_, C> {
    async fn circulation(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<CirculationWithSteps>> {
        let Some(c) = circulation::Entity::find_by_id(id)
            .filter(circulation::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.with_steps(tenant, vec![c]).await?.pop())
    }

    async fn circulations_of_file(
        &self,
        tenant: TenantId,
        file: Uuid,
    ) -> Result<Vec<CirculationWithSteps>> {
        let list = circulation::Entity::find()
            .filter(circulation::Column::TenantId.eq(tenant.0))
            .filter(circulation::Column::RecordFileId.eq(file))
            .order_by_desc(circulation::Column::StartedAt)
            .limit(100)
            .all(self.0)
            .await?;
        self.with_steps(tenant, list).await
    }

    async fn circulations_of_person(
        &self,
        tenant: TenantId,
        user: Uuid,
    ) -> Result<(Vec<CirculationWithSteps>, Vec<CirculationWithSteps>)> {
        let mine: Vec<Uuid> = step::Entity::find()
            .filter(step::Column::TenantId.eq(tenant.0))
            .filter(step::Column::UserId.eq(user))
            .filter(step::Column::Status.eq("current"))
            .limit(200)
            .all(self.0)
            .await?
            .into_iter()
            .map(|s| s.circulation_id)
            .collect();
        let waiting = if mine.is_empty() {
            Vec::new()
        } else {
            circulation::Entity::find()
                .filter(circulation::Column::TenantId.eq(tenant.0))
                .filter(circulation::Column::Id.is_in(mine))
                .filter(circulation::Column::Status.eq(CirculationStatus::Running.code()))
                .order_by_desc(circulation::Column::StartedAt)
                .all(self.0)
                .await?
        };
        let started = circulation::Entity::find()
            .filter(circulation::Column::TenantId.eq(tenant.0))
            .filter(circulation::Column::StartedBy.eq(user))
            .order_by_desc(circulation::Column::StartedAt)
            .limit(200)
            .all(self.0)
            .await?;
        Ok((
            self.with_steps(tenant, waiting).await?,
            self.with_steps(tenant, started).await?,
        ))
    }
}

impl Store {
    /// Starts an Umlaufmappe (the first person's step is current), audited
    /// on the Vorgang's case.
    pub async fn start_circulation(
        &self,
        tenant: TenantId,
        new: &NewCirculation,
        actor: (Uuid, &str),
    ) -> Result<CirculationWithSteps> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let file = repo
            .record_file(tenant, new.record_file_id)
            .await?
            .ok_or(StorageError::NotFound("record"))?;
        let now = Utc::now();
        let c = circulation::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            record_file_id: Set(file.id),
            document_id: Set(new.document_id),
            title: Set(new.title.clone()),
            instruction: Set(new.instruction.clone()),
            started_by: Set(actor.0),
            started_at: Set(now),
            status: Set(CirculationStatus::Running.code().into()),
            current_step: Set(0),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        for (i, p) in new.people.iter().enumerate() {
            step::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.0),
                circulation_id: Set(c.id),
                position: Set(i as i32),
                user_id: Set(*p),
                status: Set(if i == 0 { "current" } else { "waiting" }.into()),
                comment: Set(None),
                done_at: Set(None),
            }
            .insert(&txn)
            .await?;
        }
        repo.append_audit(
            tenant,
            file.case_id,
            actor.1,
            "circulation.started",
            &serde_json::json!({
                "circulation": c.id,
                "title": new.title,
                "document": new.document_id,
                "people": new.people,
            }),
        )
        .await?;
        let out = repo
            .circulation(tenant, c.id)
            .await?
            .ok_or(StorageError::NotFound("circulation"))?;
        txn.commit().await?;
        Ok(out)
    }

    /// One step (sign off, return, cancel) by `actor`, checked by the
    /// domain's state machine inside the transaction, audited on the case.
    pub async fn circulation_step(
        &self,
        tenant: TenantId,
        id: Uuid,
        action: CirculationAction,
        comment: Option<&str>,
        actor: (Uuid, &str),
    ) -> Result<CirculationWithSteps> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let c = repo
            .circulation(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("circulation"))?;
        let people: Vec<Uuid> = c.steps.iter().map(|s| s.user_id).collect();
        let current = usize::try_from(c.circulation.current_step).unwrap_or(0);
        let (status, next) = circulation_step(
            c.circulation.status(),
            &people,
            current,
            c.circulation.started_by,
            action,
            actor.0,
        )
        .map_err(|e| StorageError::Conflict(e.code()))?;
        let now = Utc::now();
        if action != CirculationAction::Cancel
            && let Some(s) = c.steps.get(current)
        {
            let mut am: step::ActiveModel = s.clone().into();
            am.status = Set(match action {
                CirculationAction::Return => "returned",
                _ => "signed",
            }
            .into());
            am.comment = Set(comment.map(String::from));
            am.done_at = Set(Some(now));
            am.update(&txn).await?;
        }
        if status == CirculationStatus::Running
            && next != current
            && let Some(s) = c.steps.get(next)
        {
            let mut am: step::ActiveModel = s.clone().into();
            am.status = Set("current".into());
            am.update(&txn).await?;
        }
        let mut am: circulation::ActiveModel = c.circulation.clone().into();
        am.status = Set(status.code().into());
        am.current_step = Set(next as i32);
        am.updated_at = Set(now);
        am.update(&txn).await?;
        let file = repo
            .record_file(tenant, c.circulation.record_file_id)
            .await?
            .ok_or(StorageError::NotFound("record"))?;
        repo.append_audit(
            tenant,
            file.case_id,
            actor.1,
            match action {
                CirculationAction::SignOff => "circulation.signed",
                CirculationAction::Return => "circulation.returned",
                CirculationAction::Cancel => "circulation.cancelled",
            },
            &serde_json::json!({
                "circulation": c.circulation.id,
                "title": c.circulation.title,
                "step": current + 1,
                "comment": comment,
                "status": status.code(),
            }),
        )
        .await?;
        let out = repo
            .circulation(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("circulation"))?;
        txn.commit().await?;
        Ok(out)
    }
}
