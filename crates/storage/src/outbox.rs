//! The transactional outbox and its workers.
//!
//! A business change writes its follow-up work with [`OutboxRepository::enqueue`]
//! on the *same* connection or transaction, so the work exists if and only if
//! the change was committed. Workers claim due jobs with a lease:
//! on PostgreSQL `FOR UPDATE SKIP LOCKED` lets many instances claim in
//! parallel without taking the same row; on SQLite the single writer makes the
//! claiming `UPDATE … RETURNING` atomic. A job whose worker died is claimed
//! again when its lease has expired. Handlers must therefore be idempotent
//! (at-least-once delivery); completion is fenced by the worker id so a late
//! worker cannot overwrite the result of the one that took over.

use std::{collections::HashMap, sync::Arc, time::Duration};

use rathaus_domain::{
    outbox::{AfterFailure, JobStatus, RetryPolicy},
    tenancy::TenantId,
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    Statement, prelude::*,
};
use tokio::sync::watch;

use crate::{Repo, Result, Store, entities::outbox_job, now_ms};

pub type OutboxJob = outbox_job::Model;

/// The job that files an application's case into its Vorgang (e-file),
/// `{"application": id}`; enqueued with every case status change.
pub const FILE_CASE_JOB: &str = "records.file";
/// A job handed to a handler.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ClaimedJob {
    pub id: i64,
    pub tenant_id: Option<Uuid>,
    pub kind: String,
    pub payload: String,
    pub attempts: i32,
    pub max_attempts: i32,
}

impl ClaimedJob {
    pub fn tenant(&self) -> Option<TenantId> {
        self.tenant_id.map(TenantId)
    }

    pub fn payload_json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(&self.payload)
    }
}

/// A pending job, due now (to be inserted on the transaction of the change).
pub(crate) fn new_job(
    tenant: Option<TenantId>,
    kind: &str,
    payload: &serde_json::Value,
) -> outbox_job::ActiveModel {
    let now = now_ms();
    outbox_job::ActiveModel {
        tenant_id: Set(tenant.map(|t| t.0)),
        kind: Set(kind.to_string()),
        payload: Set(payload.to_string()),
        status: Set(JobStatus::Pending.code().to_string()),
        attempts: Set(0),
        max_attempts: Set(RetryPolicy::default().max_attempts as i32),
        run_after_ms: Set(now),
        locked_by: Set(None),
        locked_until_ms: Set(None),
        last_error: Set(None),
        created_at_ms: Set(now),
        updated_at_ms: Set(now),
        ..Default::default()
    }
}

impl outbox_job::Model {
    /// The job's status, or [`crate::StorageError::Corrupt`] for an unknown value.
    pub fn try_status(&self) -> Result<JobStatus> {
        crate::parse_column("outbox_jobs", "status", &self.status, JobStatus::parse)
    }
}

#[allow(async_fn_in_trait)]
pub trait OutboxRepository {
    /// Records a job; call it on the transaction of the business change.
    async fn enqueue(
        &self,
        tenant: Option<TenantId>,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<i64>;
    async fn job(&self, id: i64) -> Result<Option<OutboxJob>>;
    /// Number of jobs per status (an unknown status is
    /// [`crate::StorageError::Corrupt`]).
    async fn job_counts(&self) -> Result<HashMap<String, u64>>;
    /// Puts a dead job back into the queue (operator action).
    async fn requeue_dead(&self, id: i64) -> Result<bool>;
}

impl<C: ConnectionTrait> OutboxRepository for Repo<'_, C> {
    async fn enqueue(
        &self,
        tenant: Option<TenantId>,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<i64> {
        Ok(new_job(tenant, kind, payload).insert(self.0).await?.id)
    }

    async fn job(&self, id: i64) -> Result<Option<OutboxJob>> {
        let job = outbox_job::Entity::find_by_id(id).one(self.0).await?;
        if let Some(j) = &job {
            j.try_status()?;
        }
        Ok(job)
    }

    async fn job_counts(&self) -> Result<HashMap<String, u64>> {
        #[derive(FromQueryResult)]
        struct Row {
            status: String,
            n: i64,
        }
        let backend = self.0.get_database_backend();
        let rows = Row::find_by_statement(Statement::from_string(
            backend,
            "SELECT status, COUNT(*) AS n FROM outbox_jobs GROUP BY status",
        ))
        .all(self.0)
        .await?;
        rows.into_iter()
            .map(|r| {
                crate::parse_column("outbox_jobs", "status", &r.status, JobStatus::parse)?;
                Ok((r.status, r.n as u64))
            })
            .collect()
    }

    async fn requeue_dead(&self, id: i64) -> Result<bool> {
        let res = outbox_job::Entity::update_many()
            .col_expr(
                outbox_job::Column::Status,
                Expr::value(JobStatus::Pending.code()),
            )
            .col_expr(outbox_job::Column::Attempts, Expr::value(0))
            .col_expr(outbox_job::Column::RunAfterMs, Expr::value(now_ms()))
            .col_expr(outbox_job::Column::UpdatedAtMs, Expr::value(now_ms()))
            .filter(outbox_job::Column::Id.eq(id))
            .filter(outbox_job::Column::Status.eq(JobStatus::Dead.code()))
            .exec(self.0)
            .await?;
        Ok(res.rows_affected > 0)
    }
}

impl Store {
    /// Claims up to `limit` due jobs for `worker` with a lease of `lease`.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        let now = now_ms();
        let until = now + lease.as_millis() as i64;
        let backend = self.db_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "UPDATE outbox_jobs SET status = 'running', locked_by = $1, locked_until_ms = $2, \
                 attempts = attempts + 1, updated_at_ms = $3 \
                 WHERE id IN (SELECT id FROM outbox_jobs \
                   WHERE (status = 'pending' AND run_after_ms <= $3) \
                      OR (status = 'running' AND locked_until_ms < $3) \
                   ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, tenant_id, kind, payload, attempts, max_attempts"
            }
            _ => {
                "UPDATE outbox_jobs SET status = 'running', locked_by = $1, locked_until_ms = $2, \
                 attempts = attempts + 1, updated_at_ms = $3 \
                 WHERE id IN (SELECT id FROM outbox_jobs \
                   WHERE (status = 'pending' AND run_after_ms <= $3) \
                      OR (status = 'running' AND locked_until_ms < $3) \
                   ORDER BY id LIMIT $4) \
                 RETURNING id, tenant_id, kind, payload, attempts, max_attempts"
            }
        };
        let stmt = Statement::from_sql_and_values(
            backend,
            sql,
            [
                worker.into(),
                until.into(),
                now.into(),
                i64::from(limit).into(),
            ],
        );
        let mut jobs = ClaimedJob::find_by_statement(stmt).all(self.db()).await?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Replaces a job's payload, e.g. to remove a secret once it was used
    /// (the access link in a receipt email).
    pub async fn replace_job_payload(&self, id: i64, payload: &serde_json::Value) -> Result<()> {
        outbox_job::Entity::update_many()
            .col_expr(
                outbox_job::Column::Payload,
                Expr::value(payload.to_string()),
            )
            .filter(outbox_job::Column::Id.eq(id))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Marks a claimed job done. False when the lease was lost meanwhile.
    pub async fn complete_job(&self, worker: &str, id: i64) -> Result<bool> {
        let res = outbox_job::Entity::update_many()
            .col_expr(
                outbox_job::Column::Status,
                Expr::value(JobStatus::Done.code()),
            )
            .col_expr(
                outbox_job::Column::LockedUntilMs,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(outbox_job::Column::UpdatedAtMs, Expr::value(now_ms()))
            .filter(outbox_job::Column::Id.eq(id))
            .filter(outbox_job::Column::LockedBy.eq(worker))
            .filter(outbox_job::Column::Status.eq(JobStatus::Running.code()))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Records a failed attempt: back to pending with backoff, or dead.
    pub async fn fail_job(
        &self,
        worker: &str,
        job: &ClaimedJob,
        error: &str,
        policy: &RetryPolicy,
    ) -> Result<JobStatus> {
        let policy = RetryPolicy {
            max_attempts: job.max_attempts.max(1) as u32,
            ..*policy
        };
        let (status, run_after) = match policy.after_failure(job.attempts.max(0) as u32) {
            AfterFailure::RetryAfter(d) => (JobStatus::Pending, now_ms() + d.as_millis() as i64),
            AfterFailure::GiveUp => (JobStatus::Dead, now_ms()),
        };
        let error: String = error.chars().take(2000).collect();
        outbox_job::Entity::update_many()
            .col_expr(outbox_job::Column::Status, Expr::value(status.code()))
            .col_expr(outbox_job::Column::RunAfterMs, Expr::value(run_after))
            .col_expr(
                outbox_job::Column::LockedUntilMs,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(outbox_job::Column::LastError, Expr::value(error))
            .col_expr(outbox_job::Column::UpdatedAtMs, Expr::value(now_ms()))
            .filter(outbox_job::Column::Id.eq(job.id))
            .filter(outbox_job::Column::LockedBy.eq(worker))
            .filter(outbox_job::Column::Status.eq(JobStatus::Running.code()))
            .exec(self.db())
            .await?;
        Ok(status)
    }
}

/// Runs one kind of job. Must be idempotent: a job may run again after a crash.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync {
    async fn handle(&self, job: &ClaimedJob) -> std::result::Result<(), String>;
}

/// Handlers by job kind.
#[derive(Clone, Default)]
pub struct Handlers(HashMap<String, Arc<dyn JobHandler>>);

impl Handlers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, kind: &str, handler: impl JobHandler + 'static) -> Self {
        self.0.insert(kind.to_string(), Arc::new(handler));
        self
    }

    pub fn kinds(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub id: String,
    pub lease: Duration,
    pub batch: u32,
    pub poll_interval: Duration,
    pub retry: RetryPolicy,
}

impl WorkerConfig {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            lease: Duration::from_secs(60),
            batch: 10,
            poll_interval: Duration::from_millis(500),
            retry: RetryPolicy::default(),
        }
    }
}

/// Claims and runs jobs until told to stop.
pub struct Worker {
    store: Store,
    handlers: Handlers,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(store: Store, handlers: Handlers, config: WorkerConfig) -> Self {
        Self {
            store,
            handlers,
            config,
        }
    }

    /// Claims one batch and runs it. Returns how many jobs were claimed.
    pub async fn run_once(&self) -> Result<usize> {
        let jobs = self
            .store
            .claim_jobs(&self.config.id, self.config.batch, self.config.lease)
            .await?;
        let n = jobs.len();
        for job in jobs {
            self.run_job(&job).await?;
        }
        Ok(n)
    }

    async fn run_job(&self, job: &ClaimedJob) -> Result<()> {
        let outcome = match self.handlers.0.get(&job.kind) {
            None => Err(format!("no handler for job kind {:?}", job.kind)),
            Some(h) => {
                // A handler must finish well within the lease.
                match tokio::time::timeout(self.config.lease / 2, h.handle(job)).await {
                    Ok(r) => r,
                    Err(_) => Err("timed out".to_string()),
                }
            }
        };
        match outcome {
            Ok(()) => {
                if !self.store.complete_job(&self.config.id, job.id).await? {
                    tracing::warn!(job = job.id, kind = %job.kind, "lease lost before completion");
                }
                metrics::counter!("rathaus_outbox_jobs_total", "kind" => job.kind.clone(), "outcome" => "done").increment(1);
            }
            Err(e) => {
                let status = self
                    .store
                    .fail_job(&self.config.id, job, &e, &self.config.retry)
                    .await?;
                tracing::warn!(job = job.id, kind = %job.kind, attempts = job.attempts, error = %e, status = status.code(), "job failed");
                metrics::counter!("rathaus_outbox_jobs_total", "kind" => job.kind.clone(), "outcome" => status.code()).increment(1);
            }
        }
        Ok(())
    }

    /// Runs until no job is due any more (tests, `worker --drain`).
    pub async fn drain(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.run_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Runs until `shutdown` turns true; database errors are logged and retried.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.config.id, kinds = ?self.handlers.kinds(), "outbox worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let idle = match self.run_once().await {
                Ok(n) => n == 0,
                Err(e) => {
                    tracing::error!(error = %e, "outbox worker error");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.config.id, "outbox worker stopped");
    }
}
