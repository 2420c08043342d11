//! Group commit of submissions.
//!
//! Every submission of a process goes through one writer task. The task takes
//! whatever has queued up while the previous transaction committed (up to
//! [`MAX_BATCH`]) and writes all of it in **one** transaction: idempotency
//! keys looked up with one query per tenant, the tenant's audit head locked
//! once and advanced by the batch's length, one number query per tenant and
//! year, then multi-row inserts of applications, files, cases, audit entries
//! and outbox jobs. One commit (one fsync) then makes the whole batch durable,
//! and only after it does any caller get its answer.
//!
//! If a batch fails, its items are written again one by one, so one bad item
//! (or a conflict with another instance) costs only its own submission. With
//! several instances on one PostgreSQL, their writers serialise on the head
//! row lock exactly as single submissions do (ADR 0009).

use std::collections::{HashMap, hash_map::Entry};

use chrono::{Datelike, SubsecRound, Utc};
use rathaus_domain::{applications::Reference, cases::CaseStatus, tenancy::TenantId};
use sea_orm::{QuerySelect, prelude::*};
use tokio::sync::{mpsc, oneshot};

use super::{NewApplication, Submitted, file_model};
use crate::{
    Repo, Result, StorageError, Store,
    audit::{audit_entry_model, lock_audit_head, set_audit_head},
    cases::CaseRepository,
    entities::{application, application_file, audit_entry, case, form_draft, outbox_job},
    identity::{generate_token, token_hash},
    outbox::new_job,
};

/// Most submissions written in one transaction.
const MAX_BATCH: usize = 256;
/// Rows per multi-row INSERT (well below SQLite's bound-parameter limit).
const ROWS_PER_INSERT: usize = 200;
/// Submissions waiting for the writer before callers wait to enqueue.
const QUEUE: usize = 4 * MAX_BATCH;

type Reply = oneshot::Sender<Result<Submitted>>;

/// The handle to the process's submission writer (started on first use, in
/// the runtime of that caller; started again if that runtime has gone).
#[derive(Debug, Default)]
pub(crate) struct SubmissionWriter {
    queue: std::sync::Mutex<Option<mpsc::Sender<(NewApplication, Reply)>>>,
}

impl SubmissionWriter {
    fn sender(&self, store: &Store) -> mpsc::Sender<(NewApplication, Reply)> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = queue.as_ref().filter(|tx| !tx.is_closed()) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        // The task owns a Store without a writer of its own: when the last
        // handle of this one is dropped, the channel closes and the task ends.
        let inner = Store {
            db: store.db.clone(),
            backend: store.backend,
            submissions: Default::default(),
            secrets: store.secrets.clone(),
        };
        tokio::spawn(run(inner, rx));
        *queue = Some(tx.clone());
        tx
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<(NewApplication, Reply)>) {
    let mut queued = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut queued, MAX_BATCH).await > 0 {
        let (items, replies): (Vec<_>, Vec<_>) = queued.drain(..).unzip();
        metrics::histogram!("rathaus_submission_batch_size").record(items.len() as f64);
        for (reply, result) in replies
            .into_iter()
            .zip(store.submit_applications(&items).await)
        {
            let _ = reply.send(result);
        }
    }
}

fn unique_violation(e: &StorageError) -> bool {
    matches!(e, StorageError::Db(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))))
}

impl Store {
    /// Submits an application (see the module docs of
    /// [`crate::applications`]): answered after the commit that made it
    /// durable. With an idempotency key that was used before, returns that
    /// application unchanged (`created: false`).
    pub async fn submit_application(&self, new: NewApplication) -> Result<Submitted> {
        let (reply, answer) = oneshot::channel();
        match self.submissions.sender(self).send((new, reply)).await {
            Ok(()) => answer.await.unwrap_or_else(|_| {
                // The writer went away with the batch (its runtime stopped):
                // whether it committed is unknown; the caller retries with
                // its idempotency key.
                Err(StorageError::Config(
                    "the submission writer stopped; please try again".into(),
                ))
            }),
            Err(mpsc::error::SendError((new, _))) => self.write_one(&new).await,
        }
    }

    /// Submits several applications in one transaction (what the writer
    /// does with each batch); if that fails, each again on its own, so every
    /// item gets its own result, in order.
    pub async fn submit_applications(&self, items: &[NewApplication]) -> Vec<Result<Submitted>> {
        match self.write_batch(items).await {
            Ok(done) => done.into_iter().map(Ok).collect(),
            Err(e) if items.len() == 1 && !unique_violation(&e) => vec![Err(e)],
            Err(e) => {
                if items.len() > 1 {
                    tracing::warn!(error = %e, size = items.len(), "submission batch failed; writing its items one by one");
                }
                let mut results = Vec::with_capacity(items.len());
                for item in items {
                    results.push(self.write_one(item).await);
                }
                results
            }
        }
    }

    /// One submission in its own transaction; a unique violation (a
    /// concurrent writer took the number or the key) is retried.
    async fn write_one(&self, new: &NewApplication) -> Result<Submitted> {
        for _ in 0..5 {
            match self.write_batch(std::slice::from_ref(new)).await {
                Err(e) if unique_violation(&e) => continue,
                other => return other.map(|mut v| v.remove(0)),
            }
        }
        Err(StorageError::Conflict("reference"))
    }

    /// Writes `items` in one transaction; the result has one entry per item,
    /// in order.
    async fn write_batch(&self, items: &[NewApplication]) -> Result<Vec<Submitted>> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        // Stored precision, so the answer equals what a later read returns.
        let now = Utc::now().trunc_subsecs(6);
        let year = now.year();
        let mut out: Vec<Option<Submitted>> = vec![None; items.len()];

        // Idempotency: the first item with a key stands for all later ones in
        // the batch; keys seen before are answered with their application.
        let mut first_with_key: HashMap<(Uuid, &str), usize> = HashMap::new();
        let mut repeat_of: Vec<Option<usize>> = vec![None; items.len()];
        let mut keys_of_tenant: HashMap<Uuid, Vec<&str>> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(key) = item.idempotency_key.as_deref() {
                match first_with_key.entry((item.tenant.0, key)) {
                    Entry::Occupied(first) => repeat_of[i] = Some(*first.get()),
                    Entry::Vacant(v) => {
                        v.insert(i);
                        keys_of_tenant.entry(item.tenant.0).or_default().push(key);
                    }
                }
            }
        }
        for (tenant, keys) in &keys_of_tenant {
            for chunk in keys.chunks(ROWS_PER_INSERT) {
                let found = application::Entity::find()
                    .filter(application::Column::TenantId.eq(*tenant))
                    .filter(application::Column::IdempotencyKey.is_in(chunk.iter().copied()))
                    .all(&txn)
                    .await?;
                for existing in found {
                    let Some(&i) = existing
                        .idempotency_key
                        .as_deref()
                        .and_then(|k| first_with_key.get(&(*tenant, k)))
                    else {
                        continue;
                    };
                    let case = repo
                        .case_of(TenantId(*tenant), existing.id)
                        .await?
                        .ok_or(StorageError::NotFound("case"))?;
                    out[i] = Some(Submitted {
                        application: existing,
                        case,
                        access_token: None,
                        created: false,
                    });
                }
            }
        }

        // New applications, per tenant in the order they came.
        let mut tenants: Vec<TenantId> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if out[i].is_none() && repeat_of[i].is_none() && !tenants.contains(&item.tenant) {
                tenants.push(item.tenant);
            }
        }
        let mut applications = Vec::new();
        let mut files = Vec::new();
        let mut cases = Vec::new();
        let mut audit = Vec::new();
        let mut jobs = Vec::new();
        let mut drafts: Vec<(TenantId, Uuid)> = Vec::new();
        for tenant in tenants {
            let fresh: Vec<usize> = (0..items.len())
                .filter(|&i| {
                    items[i].tenant == tenant && out[i].is_none() && repeat_of[i].is_none()
                })
                .collect();
            // From here the tenant's submissions are serialised (head lock),
            // so MAX(seq) + 1 … + n are free.
            let head = lock_audit_head(&txn, tenant, fresh.len() as i64).await?;
            let max: Option<i64> = application::Entity::find()
                .select_only()
                .column_as(application::Column::Seq.max(), "max")
                .filter(application::Column::TenantId.eq(tenant.0))
                .filter(application::Column::Year.eq(year))
                .into_tuple()
                .one(&txn)
                .await?
                .flatten();
            let mut prev_hash = head.last_hash;
            for (seq, i) in (max.unwrap_or(0) + 1..).zip(fresh) {
                let new = &items[i];
                let reference = Reference {
                    prefix: new.prefix.clone(),
                    year,
                    seq,
                };
                let (app_id, case_id) = (Uuid::now_v7(), Uuid::now_v7());
                let (entry, hash) = audit_entry_model(
                    tenant,
                    case_id,
                    &new.actor,
                    "received",
                    &serde_json::json!({ "application": app_id, "org_unit": new.org_unit_id, "files": new.files.len() }),
                    now,
                    &prev_hash,
                );
                prev_hash = hash;
                audit.push(entry);
                let token = generate_token();
                let application = application::Model {
                    id: app_id,
                    tenant_id: tenant.0,
                    reference: reference.to_string(),
                    year,
                    seq,
                    service_id: new.service_id,
                    form_version_id: new.form_version_id,
                    data: new.data.to_string(),
                    idempotency_key: new.idempotency_key.clone(),
                    request_hash: new.request_hash.clone(),
                    access_token_hash: token_hash(&token),
                    submitted_at: now,
                    citizen_id: new.citizen_id,
                    notify_email: new.notify_email.clone(),
                };
                let case = case::Model {
                    id: case_id,
                    tenant_id: tenant.0,
                    application_id: app_id,
                    org_unit_id: new.org_unit_id,
                    status: CaseStatus::Received.code().to_string(),
                    assignee_id: None,
                    due_at: new.due_days.map(|d| now + chrono::Duration::days(d.into())),
                    created_at: now,
                    updated_at: now,
                };
                files.extend(
                    new.files
                        .iter()
                        .map(|f| file_model(tenant, app_id, f, None)),
                );
                // Without an account, the receipt email is the applicant's
                // copy of the access link: the token travels in the job,
                // sealed with the instance key (never in plain text in the
                // database), and is scrubbed once sent.
                let mut payload = serde_json::json!({ "application": app_id, "reference": reference.to_string() });
                if new.citizen_id.is_none() && new.notify_email.is_some() {
                    payload["sealed_access_token"] =
                        serde_json::json!(self.secrets.seal(&token, &app_id.to_string()));
                }
                jobs.push(new_job(Some(tenant), "application.received", &payload));
                // The receipt PDF is typeset once, by a job that retries
                // until it is stored; "received" never waits for it.
                jobs.push(new_job(
                    Some(tenant),
                    "application.receipt",
                    &serde_json::json!({ "application": app_id }),
                ));
                if let Some(d) = new.draft_id {
                    drafts.push((tenant, d));
                }
                applications.push(application::ActiveModel::from(application.clone()));
                cases.push(case::ActiveModel::from(case.clone()));
                out[i] = Some(Submitted {
                    application,
                    case,
                    access_token: Some(token),
                    created: true,
                });
            }
            set_audit_head(&txn, tenant, prev_hash).await?;
        }

        insert_rows::<application::Entity>(&txn, applications).await?;
        insert_rows::<application_file::Entity>(&txn, files).await?;
        insert_rows::<case::Entity>(&txn, cases).await?;
        insert_rows::<audit_entry::Entity>(&txn, audit).await?;
        insert_rows::<outbox_job::Entity>(&txn, jobs).await?;
        for (tenant, draft) in drafts {
            form_draft::Entity::delete_many()
                .filter(form_draft::Column::TenantId.eq(tenant.0))
                .filter(form_draft::Column::Id.eq(draft))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;

        // A key repeated within the batch gets the first one's application.
        for i in 0..items.len() {
            if let Some(first) = repeat_of[i] {
                let mut again = out[first]
                    .clone()
                    .ok_or(StorageError::NotFound("application"))?;
                again.access_token = None;
                again.created = false;
                out[i] = Some(again);
            }
        }
        out.into_iter()
            .map(|s| s.ok_or(StorageError::NotFound("application")))
            .collect()
    }
}

/// Multi-row INSERTs in chunks, in the given order (audit ids follow the chain).
async fn insert_rows<E: EntityTrait>(
    txn: &sea_orm::DatabaseTransaction,
    rows: Vec<E::ActiveModel>,
) -> Result<()>
where
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}
