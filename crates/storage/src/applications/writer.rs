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
use sea_orm::{QueryOrder, QuerySelect, prelude::*};
use tokio::sync::{mpsc, oneshot};

use super::{NewApplication, Submitted, file_model};
use crate::{
    Repo, Result, StorageError, Store,
    audit::{audit_entry_model, lock_audit_head, set_audit_head},
    cases::CaseRepository,
    entities::{
        application, application_file, application_number_floor, audit_entry, case, defect_report,
        defect_update, form_draft, outbox_job,
    },
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
        let postgres = self.backend == crate::Backend::Postgres;
        for (tenant, keys) in &keys_of_tenant {
            // PostgreSQL: the keys as one JSON array, so the statement text
            // is the same for every batch size (one prepared statement, not
            // one per length of an IN list).
            let chunk_len = if postgres {
                keys.len()
            } else {
                ROWS_PER_INSERT
            };
            for chunk in keys.chunks(chunk_len.max(1)) {
                let found = if postgres {
                    // One probe of the unique (tenant, key) index per key,
                    // whatever the statistics say: a table that was never
                    // analysed (a new installation) looks empty to the
                    // planner, and `key IN (SELECT …)` then became a scan of
                    // all the tenant's applications per batch (ADR 0009).
                    application::Entity::find()
                        .from_raw_sql(sea_orm::Statement::from_sql_and_values(
                            sea_orm::DbBackend::Postgres,
                            "SELECT a.* FROM json_array_elements_text(CAST($1 AS json)) AS k(key) \
                             CROSS JOIN LATERAL (SELECT * FROM \"applications\" \
                             WHERE \"tenant_id\" = $2 AND \"idempotency_key\" = k.key LIMIT 1) AS a",
                            [
                                serde_json::Value::from(chunk.to_vec()).to_string().into(),
                                (*tenant).into(),
                            ],
                        ))
                        .all(&txn)
                        .await?
                } else {
                    application::Entity::find()
                        .filter(application::Column::TenantId.eq(*tenant))
                        .filter(application::Column::IdempotencyKey.is_in(chunk.iter().copied()))
                        .all(&txn)
                        .await?
                };
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
        let mut defects = Vec::new();
        let mut updates = Vec::new();
        for tenant in tenants {
            let fresh: Vec<usize> = (0..items.len())
                .filter(|&i| {
                    items[i].tenant == tenant && out[i].is_none() && repeat_of[i].is_none()
                })
                .collect();
            // From here the tenant's submissions are serialised (head lock),
            // so MAX(seq) + 1 … + n are free.
            let head = lock_audit_head(&txn, tenant, fresh.len() as i64).await?;
            // The highest number so far: the last entry of the (tenant,
            // year, seq) index, one backwards step — not MAX(seq), which a
            // planner that thinks the table is empty runs as a walk over all
            // the tenant's rows of the year (ADR 0009).
            let max: Option<i64> = application::Entity::find()
                .select_only()
                .column(application::Column::Seq)
                .filter(application::Column::TenantId.eq(tenant.0))
                .filter(application::Column::Year.eq(year))
                .order_by_desc(application::Column::Seq)
                .limit(1)
                .into_tuple()
                .one(&txn)
                .await?;
            // Numbers of destroyed applications (e-file) are not given again.
            let floor = application_number_floor::Entity::find_by_id((tenant.0, year))
                .one(&txn)
                .await?
                .map(|f| f.floor_seq);
            let max = max.max(floor);
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
                    status: if new.awaiting_payment {
                        CaseStatus::AwaitingPayment
                    } else {
                        CaseStatus::Received
                    }
                    .code()
                    .to_string(),
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
                if let Some(d) = &new.defect {
                    let mut report = d.report.clone();
                    report.tenant_id = tenant.0;
                    report.application_id = app_id;
                    report.case_id = case_id;
                    report.reference = reference.to_string();
                    report.created_at = now;
                    report.updated_at = now;
                    updates.push(crate::defects::first_update(&report));
                    for (kind, payload) in &d.jobs {
                        jobs.push(new_job(Some(tenant), kind, payload));
                    }
                    defects.push(defect_report::ActiveModel::from(report));
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
        insert_rows::<defect_report::Entity>(&txn, defects).await?;
        insert_rows::<defect_update::Entity>(&txn, updates).await?;
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

/// Inserts `rows` in the given order (audit ids follow the chain).
///
/// PostgreSQL: one statement per table whatever the batch size — the rows
/// travel as one JSON array and `json_populate_recordset` turns them into
/// rows of the table's own types. Multi-row `VALUES` lists would give every
/// batch size its own statement text (a new `Parse` of up to 3,000
/// parameters each time, the prepared-statement cache churning) and cost
/// more to encode (ADR 0009). Rows with a value this path cannot carry as
/// JSON, and SQLite (in process, no network), use multi-row INSERTs.
async fn insert_rows<E: EntityTrait>(
    txn: &sea_orm::DatabaseTransaction,
    rows: Vec<E::ActiveModel>,
) -> Result<()>
where
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    if rows.is_empty() {
        return Ok(());
    }
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres
        && let Some(statement) = json_recordset_insert::<E>(&rows)
    {
        txn.execute_raw(statement).await?;
        return Ok(());
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// `INSERT INTO t (cols) SELECT cols FROM json_populate_recordset(NULL::t,
/// $1) WITH ORDINALITY … ORDER BY ordinality` for PostgreSQL, or None when a
/// row cannot be carried as JSON (another set of columns than the first row,
/// or a value type without an exact JSON form).
fn json_recordset_insert<E: EntityTrait>(rows: &[E::ActiveModel]) -> Option<sea_orm::Statement>
where
    E::ActiveModel: ActiveModelTrait<Entity = E>,
{
    use sea_orm::{ActiveValue, Iterable};
    let columns: Vec<E::Column> = E::Column::iter()
        .filter(|c| !rows[0].is_not_set(*c))
        .collect();
    let chosen = |c: &E::Column| columns.iter().any(|x| x.as_str() == c.as_str());
    let mut array = Vec::with_capacity(rows.len());
    for row in rows {
        let mut object = serde_json::Map::with_capacity(columns.len());
        for column in E::Column::iter() {
            match row.get(column) {
                ActiveValue::Set(v) | ActiveValue::Unchanged(v) => {
                    if !chosen(&column) {
                        return None;
                    }
                    object.insert(column.as_str().to_string(), json_of(&v)?);
                }
                ActiveValue::NotSet if chosen(&column) => return None,
                ActiveValue::NotSet => {}
            }
        }
        array.push(serde_json::Value::Object(object));
    }
    let table = E::default().table_name().to_string();
    let list = columns
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    Some(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        format!(
            "INSERT INTO \"{table}\" ({list}) SELECT {list} FROM json_populate_recordset(NULL::\"{table}\", $1::json) WITH ORDINALITY AS r ORDER BY r.ordinality"
        ),
        [sea_orm::Value::String(Some(
            serde_json::Value::Array(array).to_string(),
        ))],
    ))
}

/// The JSON form of a value PostgreSQL reads back exactly (None: no such form).
fn json_of(value: &sea_orm::Value) -> Option<serde_json::Value> {
    use sea_orm::Value as V;
    use serde_json::Value as J;
    Some(match value {
        V::Bool(None)
        | V::TinyInt(None)
        | V::SmallInt(None)
        | V::Int(None)
        | V::BigInt(None)
        | V::String(None)
        | V::Uuid(None)
        | V::ChronoDateTimeUtc(None)
        | V::Json(None) => J::Null,
        V::Bool(Some(b)) => J::Bool(*b),
        V::TinyInt(Some(n)) => J::from(*n),
        V::SmallInt(Some(n)) => J::from(*n),
        V::Int(Some(n)) => J::from(*n),
        V::BigInt(Some(n)) => J::from(*n),
        V::String(Some(s)) => J::String(s.clone()),
        V::Uuid(Some(u)) => J::String(u.to_string()),
        V::ChronoDateTimeUtc(Some(t)) => {
            J::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        }
        V::Json(Some(j)) => (**j).clone(),
        _ => return None,
    })
}
