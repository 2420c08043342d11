//! The storage suite. Runs unchanged on SQLite (default) and on PostgreSQL
//! (`RATHAUS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use rathaus_domain::{
    identity::{Email, Role},
    outbox::RetryPolicy,
    tenancy::TenantId,
};
use rathaus_storage::prelude::*;
use rathaus_storage::{
    Backend, Repo, StorageError, TransactionTrait,
    identity::{NewUser, SessionRepository, TokenRepository, UserRepository, hash_password},
    migration::{Migrator, migration_names},
    outbox::{ClaimedJob, Handlers, JobHandler, OutboxRepository, Worker, WorkerConfig},
    tenancy::{NewOrgUnit, OrgUnitRepository, TenantRepository},
    test_support::{TestDb, announce_backend, tenant_input},
};
use sea_orm::{FromQueryResult, Statement};
use sea_orm_migration::MigratorTrait;

/// Without `RATHAUS_TEST_POSTGRES_URL` the suite runs on SQLite. Under
/// `CI=true` that must be asked for (`RATHAUS_TEST_BACKEND=sqlite`), so a
/// forgotten PostgreSQL URL fails instead of passing on SQLite; locally the
/// fallback prints a notice past cargo's output capture.
#[test]
fn postgres_is_used_unless_sqlite_is_asked_for() {
    use std::io::Write;
    let postgres =
        std::env::var(rathaus_storage::test_support::POSTGRES_ENV).is_ok_and(|s| !s.is_empty());
    let sqlite_on_purpose = std::env::var("RATHAUS_TEST_BACKEND").is_ok_and(|s| s == "sqlite");
    if postgres || sqlite_on_purpose {
        return;
    }
    let how = "set RATHAUS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres, or \
               RATHAUS_TEST_BACKEND=sqlite for a deliberate SQLite run";
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "CI=true, but RATHAUS_TEST_POSTGRES_URL is missing: {how}"
    );
    let _ = writeln!(
        std::io::stderr(),
        "\nNOTICE (fallback, would fail under CI=true): RATHAUS_TEST_POSTGRES_URL is missing, the storage suite runs on SQLite; {how}"
    );
}

async fn db() -> TestDb {
    announce_backend();
    TestDb::new().await
}

fn unit(kind: &str, name: &str, parent: Option<uuid::Uuid>) -> NewOrgUnit {
    NewOrgUnit {
        parent_id: parent,
        kind: kind.into(),
        name: name.into(),
        short_name: String::new(),
        street: "Marktplatz 1".into(),
        postal_code: "12345".into(),
        city: "Musterstadt".into(),
        phone: String::new(),
        email: String::new(),
        opening_hours: "Mo–Fr 8–12 Uhr".into(),
    }
}

async fn schema_of(db: &TestDb) -> Vec<String> {
    #[derive(FromQueryResult)]
    struct Line {
        line: String,
    }
    let sql = match db.store.backend() {
        Backend::Sqlite => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || \
               COALESCE(column_default, '') AS line FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> 'seaql_migrations' \
             UNION ALL SELECT indexname || ' ' || indexdef AS line FROM pg_indexes WHERE schemaname = 'public' \
             UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) AS line FROM pg_constraint \
               WHERE connamespace = 'public'::regnamespace \
             ORDER BY line"
        }
    };
    let backend = db.store.db().get_database_backend();
    Line::find_by_statement(Statement::from_string(backend, sql))
        .all(db.store.db())
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[tokio::test]
async fn migration_list_is_pinned() {
    // A released migration is never removed or renamed: extend this list, never edit it.
    assert_eq!(
        migration_names(),
        [
            "m20261122_000001_tenancy",
            "m20261122_000002_identity",
            "m20261122_000003_outbox",
            "m20261122_000004_catalog",
            "m20261122_000005_forms",
            "m20261122_000006_applications",
            "m20261122_000007_accounts_decisions",
            "m20261130_100001_draft_uploads",
            "m20261130_200001_account_tokens",
            "m20261130_300001_idempotency_hash",
            "m20261130_300002_receipt_documents",
            "m20261130_300003_editorial_changes",
            "m20261201_000001_records",
            "m20261202_000001_records_work",
            "m20261203_000001_payments",
            "m20261204_000001_payment_flow",
            "m20261205_000001_appointments",
            "m20261206_000001_defects",
        ]
    );
    let db = db().await;
    assert_eq!(
        db.store.applied_migrations().await.unwrap(),
        migration_names()
    );
    db.drop_db().await;
}

#[tokio::test]
async fn fresh_and_upgraded_databases_are_equal() {
    let fresh = db().await;
    let upgraded = TestDb::empty().await;
    // Upgrade one step at a time, as a long-lived installation would.
    for _ in migration_names() {
        Migrator::up(upgraded.store.db(), Some(1)).await.unwrap();
    }
    let a = schema_of(&fresh).await;
    assert!(a.len() > 10, "schema dump looks empty: {a:?}");
    assert_eq!(a, schema_of(&upgraded).await);
    // Going down and up again yields the same schema too.
    Migrator::down(upgraded.store.db(), None).await.unwrap();
    Migrator::up(upgraded.store.db(), None).await.unwrap();
    assert_eq!(a, schema_of(&upgraded).await);
    fresh.drop_db().await;
    upgraded.drop_db().await;
}

#[tokio::test]
async fn tenants_validate_and_reject_duplicates() {
    let db = db().await;
    let repo = db.store.repo();
    let t = repo
        .create_tenant(&tenant_input("musterstadt"))
        .await
        .unwrap();
    assert_eq!(
        repo.tenant_by_slug("musterstadt")
            .await
            .unwrap()
            .unwrap()
            .id,
        t.id
    );
    match repo.create_tenant(&tenant_input("musterstadt")).await {
        Err(StorageError::Conflict("slug")) => {}
        other => panic!("expected slug conflict, got {other:?}"),
    }
    let mut bad = tenant_input("Bad Slug");
    bad.ags = "123".into();
    bad.postal_code = "1234".into();
    match repo.create_tenant(&bad).await {
        Err(StorageError::Validation(errs)) => {
            let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["slug", "ags", "postal_code"]);
        }
        other => panic!("expected validation error, got {other:?}"),
    }
    db.drop_db().await;
}

#[tokio::test]
async fn org_units_form_a_tree_within_one_tenant() {
    let db = db().await;
    let repo = db.store.repo();
    let a = repo
        .create_tenant(&tenant_input("stadt-a"))
        .await
        .unwrap()
        .tenant_id();
    let b = repo
        .create_tenant(&tenant_input("stadt-b"))
        .await
        .unwrap()
        .tenant_id();
    let amt = repo
        .create_org_unit(a, &unit("office", "Ordnungsamt", None))
        .await
        .unwrap();
    let abt = repo
        .create_org_unit(a, &unit("department", "Gewerbe", Some(amt.id)))
        .await
        .unwrap();
    repo.create_org_unit(a, &unit("section", "Gewerbeanmeldung", Some(abt.id)))
        .await
        .unwrap();
    // A section cannot be a root, and an office cannot sit below a department.
    assert!(matches!(
        repo.create_org_unit(a, &unit("section", "Lose", None))
            .await,
        Err(StorageError::Validation(_))
    ));
    assert!(matches!(
        repo.create_org_unit(a, &unit("office", "Falsch", Some(abt.id)))
            .await,
        Err(StorageError::Validation(_))
    ));
    // Tenant B cannot hang a unit below tenant A's office, nor see it.
    assert!(matches!(
        repo.create_org_unit(b, &unit("department", "Fremd", Some(amt.id)))
            .await,
        Err(StorageError::Validation(_))
    ));
    assert!(repo.org_unit(b, amt.id).await.unwrap().is_none());
    assert!(repo.org_units(b).await.unwrap().is_empty());
    let units = repo.org_units(a).await.unwrap();
    let tree: Vec<_> = rathaus_storage::tenancy::as_tree(&units)
        .into_iter()
        .map(|(d, u)| format!("{d}:{}", u.name))
        .collect();
    assert_eq!(tree, ["0:Ordnungsamt", "1:Gewerbe", "2:Gewerbeanmeldung"]);
    // Same name in another tenant is fine; twice in one tenant is a conflict.
    repo.create_org_unit(b, &unit("office", "Ordnungsamt", None))
        .await
        .unwrap();
    assert!(matches!(
        repo.create_org_unit(a, &unit("office", "Ordnungsamt", None))
            .await,
        Err(StorageError::Conflict("name"))
    ));
    db.drop_db().await;
}

#[tokio::test]
async fn users_grants_and_tokens_are_tenant_scoped() {
    let db = db().await;
    let repo = db.store.repo();
    let a = repo
        .create_tenant(&tenant_input("stadt-a"))
        .await
        .unwrap()
        .tenant_id();
    let b = repo
        .create_tenant(&tenant_input("stadt-b"))
        .await
        .unwrap()
        .tenant_id();
    let unit_a = repo
        .create_org_unit(a, &unit("office", "Bürgerbüro", None))
        .await
        .unwrap();
    let unit_b = repo
        .create_org_unit(b, &unit("office", "Bürgerbüro", None))
        .await
        .unwrap();
    let input = NewUser {
        email: "Anna@Example.org".into(),
        display_name: "Anna".into(),
        password_hash: hash_password("geheim-geheim"),
    };
    let anna_a = repo.create_user(a, &input).await.unwrap();
    assert_eq!(anna_a.email, "anna@example.org");
    // The same email may exist in another tenant, not twice in one.
    let anna_b = repo.create_user(b, &input).await.unwrap();
    assert!(matches!(
        repo.create_user(a, &input).await,
        Err(StorageError::Conflict("email"))
    ));
    let email = Email::parse("anna@example.org").unwrap();
    assert_eq!(
        repo.user_by_email(a, &email).await.unwrap().unwrap().id,
        anna_a.id
    );
    assert!(repo.user(b, anna_a.id).await.unwrap().is_none());

    repo.grant_role(a, anna_a.id, unit_a.id, Role::Clerk)
        .await
        .unwrap();
    repo.grant_role(a, anna_a.id, unit_a.id, Role::Clerk)
        .await
        .unwrap(); // idempotent
    repo.grant_role(a, anna_a.id, unit_a.id, Role::Editor)
        .await
        .unwrap();
    // No grant across tenants, in either direction.
    assert!(matches!(
        repo.grant_role(a, anna_a.id, unit_b.id, Role::Clerk).await,
        Err(StorageError::NotFound("org_unit"))
    ));
    assert!(matches!(
        repo.grant_role(b, anna_a.id, unit_b.id, Role::Clerk).await,
        Err(StorageError::NotFound("user"))
    ));
    let grants = repo.grants(a, anna_a.id).await.unwrap();
    assert_eq!(
        grants.iter().map(|g| g.role).collect::<Vec<_>>(),
        [Role::Editor, Role::Clerk]
    );
    assert!(repo.grants(b, anna_a.id).await.unwrap().is_empty());
    assert!(repo.grants(b, anna_b.id).await.unwrap().is_empty());

    // Tokens: stored hashed, revocable, expiring, and scoped to their tenant.
    let token = rathaus_storage::identity::generate_token();
    let t = repo
        .create_token(a, anna_a.id, "CLI", &token, None)
        .await
        .unwrap();
    assert_ne!(t.token_hash, token);
    let (tok, user) = repo.authenticate_token(&token).await.unwrap().unwrap();
    assert_eq!(
        (tok.id, user.id, TenantId(tok.tenant_id)),
        (t.id, anna_a.id, a)
    );
    assert!(repo.authenticate_token("rh_wrong").await.unwrap().is_none());
    assert!(
        !repo.revoke_token(b, t.id).await.unwrap(),
        "tenant B must not revoke A's token"
    );
    assert!(repo.revoke_token(a, t.id).await.unwrap());
    assert!(repo.authenticate_token(&token).await.unwrap().is_none());
    let expired = rathaus_storage::identity::generate_token();
    repo.create_token(
        a,
        anna_a.id,
        "old",
        &expired,
        Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
    )
    .await
    .unwrap();
    assert!(repo.authenticate_token(&expired).await.unwrap().is_none());
    assert!(matches!(
        repo.create_token(b, anna_a.id, "x", "rh_x", None).await,
        Err(StorageError::NotFound("user"))
    ));
    db.drop_db().await;
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_their_absolute_lifetime() {
    let db = db().await;
    let repo = db.store.repo();
    // Created at 500; saved again at 900 (the creation time stays).
    repo.save_session("s1", "{\"a\":1}", 2_000, 500)
        .await
        .unwrap();
    repo.save_session("s1", "{\"a\":2}", 3_000, 900)
        .await
        .unwrap(); // upsert
    assert_eq!(
        repo.load_session("s1", 1_000, 0).await.unwrap().as_deref(),
        Some("{\"a\":2}")
    );
    assert_eq!(
        repo.load_session("s1", 3_000, 0).await.unwrap(),
        None,
        "idle"
    );
    assert_eq!(
        repo.load_session("s1", 1_000, 500).await.unwrap(),
        None,
        "active, but created too long ago"
    );
    assert_eq!(
        repo.load_session("s1", 1_000, 499)
            .await
            .unwrap()
            .as_deref(),
        Some("{\"a\":2}")
    );
    repo.save_session("s2", "{}", 10_000, 4_000).await.unwrap();
    repo.save_session("s3", "{}", 10_000, 100).await.unwrap();
    assert_eq!(repo.count_sessions().await.unwrap(), 3);
    // s1 idle, s3 past its lifetime.
    assert_eq!(repo.delete_expired_sessions(5_000, 200).await.unwrap(), 2);
    repo.delete_session("s2").await.unwrap();
    assert_eq!(repo.load_session("s2", 0, 0).await.unwrap(), None);
    assert_eq!(repo.count_sessions().await.unwrap(), 0);
    db.drop_db().await;
}

#[tokio::test]
async fn outbox_jobs_live_and_die_with_their_transaction() {
    let db = db().await;
    let tenant = db
        .store
        .repo()
        .create_tenant(&tenant_input("stadt-a"))
        .await
        .unwrap()
        .tenant_id();
    let txn = db.store.db().begin().await.unwrap();
    let id = Repo(&txn)
        .enqueue(Some(tenant), "test", &serde_json::json!({"n": 1}))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    assert!(
        db.store.repo().job(id).await.unwrap().is_none(),
        "rolled back job must not exist"
    );

    let txn = db.store.db().begin().await.unwrap();
    Repo(&txn)
        .create_org_unit(tenant, &unit("office", "Bürgerbüro", None))
        .await
        .unwrap();
    let id = Repo(&txn)
        .enqueue(Some(tenant), "test", &serde_json::json!({"n": 2}))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let job = db.store.repo().job(id).await.unwrap().unwrap();
    assert_eq!(
        (job.status.as_str(), job.tenant_id),
        ("pending", Some(tenant.0))
    );
    db.drop_db().await;
}

/// Counts how often each job ran.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<HashMap<i64, u32>>>);

#[async_trait::async_trait]
impl JobHandler for Counter {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        *self.0.lock().unwrap().entry(job.id).or_default() += 1;
        Ok(())
    }
}

#[tokio::test]
async fn two_workers_run_every_job_exactly_once() {
    let db = db().await;
    let n = 200;
    for i in 0..n {
        db.store
            .repo()
            .enqueue(None, "count", &serde_json::json!({ "i": i }))
            .await
            .unwrap();
    }
    let counter = Counter::default();
    let make = |id: &str| {
        let mut cfg = WorkerConfig::new(id);
        cfg.batch = 5;
        Worker::new(
            db.store.clone(),
            Handlers::new().with("count", counter.clone()),
            cfg,
        )
    };
    let (w1, w2) = (make("worker-1"), make("worker-2"));
    let (r1, r2) = tokio::join!(w1.drain(), w2.drain());
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1 + r2, n, "claimed {r1} + {r2}");
    if db.store.backend() == Backend::Postgres {
        assert!(
            r1 > 0 && r2 > 0,
            "both workers should have worked: {r1} / {r2}"
        );
    }
    let runs = counter.0.lock().unwrap().clone();
    assert_eq!(runs.len(), n);
    assert!(runs.values().all(|c| *c == 1), "a job ran twice: {runs:?}");
    let counts = db.store.repo().job_counts().await.unwrap();
    assert_eq!(counts.get("done"), Some(&(n as u64)));
    db.drop_db().await;
}

struct AlwaysFails;

#[async_trait::async_trait]
impl JobHandler for AlwaysFails {
    async fn handle(&self, _job: &ClaimedJob) -> Result<(), String> {
        Err("remote system unavailable".into())
    }
}

#[tokio::test]
async fn failing_jobs_back_off_and_end_up_dead() {
    let db = db().await;
    let id = db
        .store
        .repo()
        .enqueue(None, "fails", &serde_json::json!({}))
        .await
        .unwrap();
    let mut cfg = WorkerConfig::new("w");
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base: Duration::ZERO,
        ceiling: Duration::ZERO,
    };
    let worker = Worker::new(
        db.store.clone(),
        Handlers::new().with("fails", AlwaysFails),
        cfg.clone(),
    );
    // With a zero backoff the job is due again at once: three attempts, then dead.
    sea_orm::ConnectionTrait::execute_unprepared(
        db.store.db(),
        &format!("UPDATE outbox_jobs SET max_attempts = 3 WHERE id = {id}"),
    )
    .await
    .unwrap();
    assert_eq!(worker.drain().await.unwrap(), 3);
    let job = db.store.repo().job(id).await.unwrap().unwrap();
    assert_eq!((job.status.as_str(), job.attempts), ("dead", 3));
    assert_eq!(job.last_error.as_deref(), Some("remote system unavailable"));
    // A dead job stays aside until an operator requeues it.
    assert_eq!(worker.drain().await.unwrap(), 0);
    assert!(db.store.repo().requeue_dead(id).await.unwrap());
    assert_eq!(
        db.store.repo().job(id).await.unwrap().unwrap().status,
        "pending"
    );

    // With a real backoff the job is not due immediately after a failure.
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base: Duration::from_secs(60),
        ceiling: Duration::from_secs(60),
    };
    let worker = Worker::new(
        db.store.clone(),
        Handlers::new().with("fails", AlwaysFails),
        cfg,
    );
    assert_eq!(worker.drain().await.unwrap(), 1);
    let job = db.store.repo().job(id).await.unwrap().unwrap();
    assert_eq!(job.status, "pending");
    assert!(job.run_after_ms > rathaus_storage::now_ms() + 50_000);
    db.drop_db().await;
}

#[tokio::test]
async fn expired_leases_are_reclaimed_and_completion_is_fenced() {
    let db = db().await;
    let id = db
        .store
        .repo()
        .enqueue(None, "count", &serde_json::json!({}))
        .await
        .unwrap();
    let claimed = db
        .store
        .claim_jobs("dead-worker", 10, Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // While the lease holds nobody else gets the job.
    assert!(
        db.store
            .claim_jobs("other", 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    let reclaimed = db
        .store
        .claim_jobs("other", 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].attempts, 2);
    // The first worker comes back late: its completion must not count.
    assert!(!db.store.complete_job("dead-worker", id).await.unwrap());
    assert!(db.store.complete_job("other", id).await.unwrap());
    assert_eq!(
        db.store.repo().job(id).await.unwrap().unwrap().status,
        "done"
    );
    db.drop_db().await;
}

mod catalog {
    use super::*;
    use rathaus_domain::catalog::{
        Audience, I18nText, ServiceContent, VersionStatus, WorkflowError,
    };
    use rathaus_storage::catalog::CatalogRepository;

    fn content(title: &str) -> ServiceContent {
        ServiceContent {
            slug: "hundesteuer-anmeldung".into(),
            leika_key: "99018001000000".into(),
            audience: vec![Audience::Citizen],
            org_unit: "Steueramt".into(),
            title: I18nText {
                de: title.into(),
                en: String::new(),
            },
            summary: I18nText {
                de: "Hunde anmelden.".into(),
                en: String::new(),
            },
            ..Default::default()
        }
    }

    async fn setup(db: &TestDb, slug: &str) -> (TenantId, uuid::Uuid, uuid::Uuid) {
        let repo = db.store.repo();
        let t = repo
            .create_tenant(&tenant_input(slug))
            .await
            .unwrap()
            .tenant_id();
        repo.create_org_unit(t, &unit("office", "Steueramt", None))
            .await
            .unwrap();
        let mk = |e: &str| NewUser {
            email: e.into(),
            display_name: e.into(),
            password_hash: "x".into(),
        };
        let a = repo.create_user(t, &mk("a@example.org")).await.unwrap().id;
        let b = repo.create_user(t, &mk("b@example.org")).await.unwrap().id;
        (t, a, b)
    }

    #[tokio::test]
    async fn four_eyes_publishing_and_versions() {
        let db = db().await;
        let repo = db.store.repo();
        let (t, alice, bob) = setup(&db, "stadt-a").await;
        let (svc, v1) = repo
            .create_service(t, alice, content("Hundesteuer anmelden"))
            .await
            .unwrap();
        assert_eq!((v1.number, v1.status()), (1, VersionStatus::Draft));
        assert!(
            repo.published(t, svc.id).await.unwrap().is_none(),
            "a draft is not public"
        );
        repo.submit_for_review(t, svc.id, alice).await.unwrap();
        match repo.approve(t, svc.id, alice).await {
            Err(StorageError::Workflow(WorkflowError::OwnApproval)) => {}
            other => panic!("own approval must be refused: {other:?}"),
        }
        repo.approve(t, svc.id, bob).await.unwrap();
        let public = repo
            .published_by_slug(t, "hundesteuer-anmeldung")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(public.content.title.de, "Hundesteuer anmelden");
        assert_eq!(public.org_unit.name, "Steueramt");

        // A change is a new draft; the public keeps the published version until approval.
        let v2 = repo
            .save_draft(t, svc.id, bob, content("Hundesteuer: Hund anmelden"))
            .await
            .unwrap();
        assert_eq!(v2.number, 2);
        assert_eq!(
            repo.published(t, svc.id)
                .await
                .unwrap()
                .unwrap()
                .content
                .title
                .de,
            "Hundesteuer anmelden"
        );
        repo.submit_for_review(t, svc.id, bob).await.unwrap();
        assert!(
            matches!(
                repo.save_draft(t, svc.id, bob, content("x")).await,
                Err(StorageError::Workflow(_))
            ),
            "no edits while in review"
        );
        repo.reject(t, svc.id, alice, "Bitte Gebühr ergänzen")
            .await
            .unwrap();
        repo.submit_for_review(t, svc.id, bob).await.unwrap();
        repo.approve(t, svc.id, alice).await.unwrap();
        assert_eq!(
            repo.published(t, svc.id)
                .await
                .unwrap()
                .unwrap()
                .content
                .title
                .de,
            "Hundesteuer: Hund anmelden"
        );
        let statuses: Vec<_> = repo
            .versions(t, svc.id)
            .await
            .unwrap()
            .iter()
            .map(|v| (v.number, v.status()))
            .collect();
        assert_eq!(
            statuses,
            [
                (2, VersionStatus::Published),
                (1, VersionStatus::Superseded)
            ]
        );

        // Every publication is logged for the search indexes.
        let log = repo.index_log_since(0, 100).await.unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(repo.index_log_head().await.unwrap(), log[1].id);
        repo.archive(t, svc.id).await.unwrap();
        assert!(repo.published(t, svc.id).await.unwrap().is_none());
        assert_eq!(repo.index_log_since(log[1].id, 100).await.unwrap().len(), 1);
        db.drop_db().await;
    }

    #[tokio::test]
    async fn catalog_is_tenant_scoped_and_validated() {
        let db = db().await;
        let repo = db.store.repo();
        let (a, alice, _) = setup(&db, "stadt-a").await;
        let (b, bert, _) = setup(&db, "stadt-b").await;
        let (svc, _) = repo
            .create_service(a, alice, content("Hundesteuer"))
            .await
            .unwrap();
        assert!(repo.service(b, svc.id).await.unwrap().is_none());
        assert!(matches!(
            repo.submit_for_review(b, svc.id, bert).await,
            Err(StorageError::Workflow(_))
        ));
        assert!(matches!(
            repo.approve(b, svc.id, bert).await,
            Err(StorageError::NotFound(_))
        ));
        // The same slug in another tenant is fine, twice in one is not.
        repo.create_service(b, bert, content("Hundesteuer"))
            .await
            .unwrap();
        assert!(matches!(
            repo.create_service(a, alice, content("Hundesteuer")).await,
            Err(StorageError::Conflict("slug"))
        ));
        let mut bad = content("x");
        bad.org_unit = "Gibt es nicht".into();
        bad.leika_key = "1".into();
        match repo.create_service(a, alice, bad).await {
            Err(StorageError::Validation(e)) => assert_eq!(e.0[0].field, "leika_key"),
            other => panic!("{other:?}"),
        }
        let mut bad = content("x");
        bad.slug = "andere".into();
        bad.org_unit = "Gibt es nicht".into();
        assert!(matches!(
            repo.create_service(a, alice, bad).await,
            Err(StorageError::Validation(_))
        ));
        repo.add_synonym(a, "Perso", "Personalausweis")
            .await
            .unwrap();
        assert!(matches!(
            repo.add_synonym(a, "perso", "Personalausweis").await,
            Err(StorageError::Conflict(_))
        ));
        assert_eq!(repo.synonyms(a).await.unwrap()[0].term, "perso");
        assert!(repo.synonyms(b).await.unwrap().is_empty());
        let id = repo.synonyms(a).await.unwrap()[0].id;
        assert!(!repo.delete_synonym(b, id).await.unwrap());
        assert!(repo.delete_synonym(a, id).await.unwrap());
        db.drop_db().await;
    }
}

mod forms {
    use super::*;
    use rathaus_domain::{
        catalog::{I18nText, VersionStatus, WorkflowError},
        forms::{FieldDef, FieldKind, FormDefinition, Item, Step},
    };
    use rathaus_storage::forms::FormRepository;

    fn def(label: &str) -> FormDefinition {
        let f: FieldDef = serde_json::from_value(serde_json::json!({
            "key": "name", "label": {"de": label, "en": "Name"}, "kind": "text", "required": true
        }))
        .unwrap();
        assert_eq!(f.kind, FieldKind::Text);
        FormDefinition {
            key: "test".into(),
            title: I18nText {
                de: "Test".into(),
                en: String::new(),
            },
            steps: vec![Step {
                key: "s".into(),
                title: I18nText::default(),
                items: vec![Item::Field(f)],
            }],
        }
    }

    async fn setup(db: &TestDb, slug: &str) -> (TenantId, uuid::Uuid, uuid::Uuid) {
        let repo = db.store.repo();
        let t = repo
            .create_tenant(&tenant_input(slug))
            .await
            .unwrap()
            .tenant_id();
        let mk = |e: &str| NewUser {
            email: e.into(),
            display_name: e.into(),
            password_hash: "x".into(),
        };
        let a = repo.create_user(t, &mk("a@example.org")).await.unwrap().id;
        let b = repo.create_user(t, &mk("b@example.org")).await.unwrap().id;
        (t, a, b)
    }

    #[tokio::test]
    async fn form_versions_follow_four_eyes_and_never_change_once_published() {
        let db = db().await;
        let repo = db.store.repo();
        let (t, alice, bob) = setup(&db, "stadt-a").await;
        let (form, v1) = db
            .store
            .create_form(t, alice, "test-form", None, &def("Name"), None)
            .await
            .unwrap();
        assert_eq!((v1.number, v1.status()), (1, VersionStatus::Draft));
        assert!(repo.published_form(t, form.id).await.unwrap().is_none());
        repo.submit_form(t, form.id, alice).await.unwrap();
        assert!(matches!(
            db.store.approve_form(t, form.id, alice).await,
            Err(StorageError::Workflow(WorkflowError::OwnApproval))
        ));
        db.store.approve_form(t, form.id, bob).await.unwrap();
        let (_, published) = repo.published_form(t, form.id).await.unwrap().unwrap();
        assert_eq!(published.id, v1.id);

        // Editing makes version 2; version 1 stays as it was until 2 is approved.
        let v2 = repo
            .save_form_draft(t, form.id, bob, &def("Familienname"), None)
            .await
            .unwrap();
        assert_eq!(v2.number, 2);
        let (_, still) = repo.published_form(t, form.id).await.unwrap().unwrap();
        assert_eq!(still.definition, v1.definition);
        repo.submit_form(t, form.id, bob).await.unwrap();
        repo.reject_form(t, form.id, alice, "Hilfetext fehlt")
            .await
            .unwrap();
        repo.submit_form(t, form.id, bob).await.unwrap();
        db.store.approve_form(t, form.id, alice).await.unwrap();
        let statuses: Vec<_> = repo
            .form_versions(t, form.id)
            .await
            .unwrap()
            .iter()
            .map(|v| (v.number, v.status()))
            .collect();
        assert_eq!(
            statuses,
            [
                (2, VersionStatus::Published),
                (1, VersionStatus::Superseded)
            ]
        );
        let old = repo.form_version(t, v1.id).await.unwrap().unwrap();
        assert_eq!(
            old.definition, v1.definition,
            "a published version never changes"
        );

        // A broken definition is refused with the path of the problem.
        let mut bad = def("x");
        if let Item::Field(f) = &mut bad.steps[0].items[0] {
            f.visible_if = Some("name ==".into());
        }
        match repo.save_form_draft(t, form.id, alice, &bad, None).await {
            Err(StorageError::Validation(e)) => assert_eq!(e.0[0].field, "name"),
            other => panic!("{other:?}"),
        }
        db.drop_db().await;
    }

    #[tokio::test]
    async fn forms_and_drafts_are_tenant_scoped_and_drafts_expire() {
        let db = db().await;
        let repo = db.store.repo();
        let (a, alice, _) = setup(&db, "stadt-a").await;
        let (b, bert, _) = setup(&db, "stadt-b").await;
        let (form, v1) = db
            .store
            .create_form(a, alice, "test-form", None, &def("Name"), None)
            .await
            .unwrap();
        assert!(repo.form(b, form.id).await.unwrap().is_none());
        assert!(repo.form_version(b, v1.id).await.unwrap().is_none());
        assert!(matches!(
            repo.save_form_draft(b, form.id, bert, &def("x"), None)
                .await,
            Err(StorageError::NotFound(_))
        ));
        // The same key in another tenant is fine, twice in one is not.
        db.store
            .create_form(b, bert, "test-form", None, &def("Name"), None)
            .await
            .unwrap();
        assert!(matches!(
            db.store
                .create_form(a, alice, "test-form", None, &def("Name"), None)
                .await,
            Err(StorageError::Conflict("key"))
        ));

        let later = chrono::Utc::now() + chrono::Duration::days(30);
        let (draft, token) = repo
            .create_draft(a, v1.id, &serde_json::json!({"name": "Muster"}), later)
            .await
            .unwrap();
        assert!(
            !draft.token_hash.contains(&token),
            "only the hash is stored"
        );
        let found = repo.draft_by_token(a, &token).await.unwrap().unwrap();
        assert_eq!(found.data()["name"], "Muster");
        assert!(
            repo.draft_by_token(b, &token).await.unwrap().is_none(),
            "another tenant cannot resume it"
        );
        assert!(matches!(
            repo.update_draft(b, draft.id, &serde_json::json!({}), 1, later)
                .await,
            Err(StorageError::NotFound(_))
        ));
        repo.update_draft(a, draft.id, &serde_json::json!({"name": "Neu"}), 1, later)
            .await
            .unwrap();
        assert_eq!(
            repo.draft_by_token(a, &token).await.unwrap().unwrap().step,
            1
        );
        let past = chrono::Utc::now() - chrono::Duration::seconds(1);
        repo.update_draft(a, draft.id, &serde_json::json!({}), 1, past)
            .await
            .unwrap();
        assert!(
            repo.draft_by_token(a, &token).await.unwrap().is_none(),
            "an expired draft cannot be resumed"
        );
        assert_eq!(
            repo.purge_expired_drafts(chrono::Utc::now()).await.unwrap(),
            1
        );
        db.drop_db().await;
    }
}

mod applications {
    use super::*;
    use rathaus_domain::{
        catalog::I18nText,
        forms::{FormDefinition, Item, Step},
    };
    use rathaus_storage::ConnectionTrait;
    use rathaus_storage::applications::{NewApplication, NewFile};

    async fn setup(db: &TestDb, slug: &str) -> (TenantId, uuid::Uuid, uuid::Uuid) {
        let repo = db.store.repo();
        let t = repo
            .create_tenant(&tenant_input(slug))
            .await
            .unwrap()
            .tenant_id();
        let unit = repo
            .create_org_unit(t, &unit("office", "Bürgerbüro", None))
            .await
            .unwrap()
            .id;
        let author = repo
            .create_user(
                t,
                &NewUser {
                    email: "a@example.org".into(),
                    display_name: "A".into(),
                    password_hash: "x".into(),
                },
            )
            .await
            .unwrap()
            .id;
        let def = FormDefinition {
            key: "f".into(),
            title: I18nText::default(),
            steps: vec![Step {
                key: "s".into(),
                title: I18nText::default(),
                items: vec![Item::Field(
                    serde_json::from_value(
                        serde_json::json!({"key": "name", "label": {"de": "Name"}, "kind": "text"}),
                    )
                    .unwrap(),
                )],
            }],
        };
        let (_, version) = db
            .store
            .create_form(t, author, "test", None, &def, None)
            .await
            .unwrap();
        (t, unit, version.id)
    }

    fn new_app(
        t: TenantId,
        unit: uuid::Uuid,
        version: uuid::Uuid,
        key: Option<&str>,
    ) -> NewApplication {
        NewApplication {
            tenant: t,
            prefix: "MS".into(),
            service_id: None,
            form_version_id: version,
            data: serde_json::json!({"name": "Muster"}),
            idempotency_key: key.map(String::from),
            request_hash: None,
            files: vec![NewFile {
                field_path: "nachweis".into(),
                file_key: "uploads/x".into(),
                name: "nachweis.pdf".into(),
                mime: "application/pdf".into(),
                size: 10,
                sha256: "0".repeat(64),
            }],
            org_unit_id: unit,
            draft_id: None,
            actor: "applicant".into(),
            due_days: Some(14),
            citizen_id: None,
            notify_email: Some("max@example.org".into()),
            awaiting_payment: false,
            defect: None,
        }
    }

    /// The e-file's storage: filing is idempotent per source, reads are
    /// tenant-scoped, a hand-over moves only closed files without a hold, and
    /// destroying deletes the application (with case, messages and files)
    /// and the documents, keeps the Vorgang and its deletion record, and
    /// enqueues the deletion of the objects — all in one transaction.
    #[tokio::test]
    async fn records_file_once_stay_in_their_tenant_and_destroy_with_a_record() {
        use rathaus_domain::records::{Disposition, DocumentKind, FileStatus};
        use rathaus_storage::records::{Filing, NewDocument, RecordRepository};
        let db = db().await;
        let (t, unit, version) = setup(&db, "stadt-a").await;
        let (b, _, _) = setup(&db, "stadt-b").await;
        let s = db
            .store
            .submit_application(new_app(t, unit, version, None))
            .await
            .unwrap();
        let doc = |kind: DocumentKind, source: uuid::Uuid| NewDocument {
            kind,
            title: "Dokument".into(),
            source_id: Some(source),
            date: chrono::Utc::now().date_naive(),
            filed_by: None,
            file_key: format!("records/{source}.json"),
            file_name: "d.json".into(),
            mime: "application/json".into(),
            size: 2,
            sha256: "a".repeat(64),
        };
        let mut filing = Filing {
            case_id: s.case.id,
            application_id: s.application.id,
            plan_node_id: None,
            org_unit_id: unit,
            file_number: format!("0-{}", s.application.reference),
            subject: "Antrag".into(),
            opened_at: s.application.submitted_at,
            closed_at: None,
            event_on: None,
            documents: vec![doc(DocumentKind::ApplicationData, s.application.id)],
        };
        let (file, new) = db.store.file_case(t, &filing).await.unwrap();
        assert_eq!(new.len(), 1);
        assert_eq!(file.status(), FileStatus::Open);
        // Again, with one more document: only the new one is filed.
        filing
            .documents
            .push(doc(DocumentKind::Message, uuid::Uuid::now_v7()));
        filing.closed_at = Some(chrono::Utc::now());
        filing.event_on = Some(chrono::Utc::now().date_naive());
        let (_, new) = db.store.file_case(t, &filing).await.unwrap();
        assert_eq!(new.len(), 1, "the data is filed once");
        let repo = db.store.repo();
        let docs = repo.filed_documents(t, file.id).await.unwrap();
        assert_eq!(
            docs.iter().map(|d| d.document.number).collect::<Vec<_>>(),
            [1, 2]
        );
        let file = repo.record_file(t, file.id).await.unwrap().unwrap();
        assert_eq!(file.status(), FileStatus::Closed);
        // Another tenant finds nothing.
        assert!(repo.record_file(b, file.id).await.unwrap().is_none());
        assert!(
            repo.record_file_of_case(b, s.case.id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(repo.filed_documents(b, file.id).await.unwrap().is_empty());
        assert!(repo.closed_files(b).await.unwrap().is_empty());
        // A hold keeps the file out of a hand-over.
        let actor = (uuid::Uuid::now_v7(), "user:a");
        db.store
            .set_legal_hold(t, file.id, Some("Klage"), actor)
            .await
            .unwrap();
        let as_of = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
        let (_, items) = db
            .store
            .create_disposal(t, as_of, &[(file.id, Disposition::Destroy)], actor)
            .await
            .unwrap();
        assert!(items.is_empty(), "a file on hold is not offered");
        db.store
            .set_legal_hold(t, file.id, None, actor)
            .await
            .unwrap();
        let (d, items) = db
            .store
            .create_disposal(t, as_of, &[(file.id, Disposition::Destroy)], actor)
            .await
            .unwrap();
        assert_eq!(items.len(), 1);
        // Another tenant cannot destroy it; the first of four eyes asks.
        assert!(repo.disposal(b, d.id).await.unwrap().is_none());
        let d = db.store.request_destruction(t, d.id, actor).await;
        assert!(d.is_err(), "only a confirmed hand-over can be destroyed");
        let d = repo
            .disposal(t, items[0].disposal_id)
            .await
            .unwrap()
            .unwrap();
        let mut requested: rathaus_storage::entities::record_disposal::ActiveModel = d.into();
        requested.destruction_requested_by = sea_orm::ActiveValue::Set(Some(actor.0));
        let d = sea_orm::ActiveModelTrait::update(requested, db.store.db())
            .await
            .unwrap();
        let approver = (uuid::Uuid::now_v7(), "user:b");
        let deletions = db
            .store
            .destroy_files(t, &d, &[(file.id, FileStatus::Destroyed)], approver)
            .await
            .unwrap();
        assert_eq!(deletions.len(), 1);
        assert!(
            repo.application(t, s.application.id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(repo.case(t, s.case.id).await.unwrap().is_none());
        assert!(repo.filed_documents(t, file.id).await.unwrap().is_empty());
        let after = repo.record_file(t, file.id).await.unwrap().unwrap();
        assert_eq!(after.status(), FileStatus::Destroyed);
        assert_eq!(repo.deletions_of(t, file.id).await.unwrap().len(), 1);
        let jobs = db
            .store
            .claim_jobs("t", 1000, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        let job = jobs
            .iter()
            .find(|j| j.kind == rathaus_storage::records::DELETE_OBJECTS_JOB)
            .expect("the objects' deletion is queued");
        let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
        let keys = payload["keys"].as_array().unwrap();
        assert!(
            keys.iter().any(|k| k == "uploads/x"),
            "the application's upload goes too"
        );
        assert!(
            keys.iter()
                .any(|k| k.as_str().unwrap().starts_with("records/"))
        );
        // The destroyed application's number is never given again.
        let next = db
            .store
            .submit_application(new_app(t, unit, version, None))
            .await
            .unwrap();
        assert!(
            next.application.seq > s.application.seq,
            "{} after the destroyed {}",
            next.application.reference,
            s.application.reference
        );
        db.drop_db().await;
    }

    /// Regression test for Nagle's algorithm on the database socket (sqlx
    /// 0.9.0 stopped setting TCP_NODELAY; vendor/README.md, ADR 0009): the
    /// group-commit writer sends large multi-row INSERTs, and with Nagle on,
    /// the tail of each waits for the server's delayed ACK, about 40 ms, on
    /// almost every batch. Measured per statement as the client sees it; an
    /// idle machine never comes near 40 ms, so more than a few such
    /// statements (allowing for a loaded machine) means the wait is back.
    #[tokio::test]
    async fn writer_statements_never_wait_for_a_delayed_ack() {
        let db = db().await;
        let (t, unit, version) = setup(&db, "stadt-nagle").await;
        let seen: Arc<Mutex<Vec<(Duration, String, usize)>>> = Arc::default();
        let mut store = db.store.clone();
        {
            let seen = seen.clone();
            store.observe_statements(move |info| {
                let sql = info.statement.sql.clone();
                let bytes = sql.len()
                    + info
                        .statement
                        .values
                        .as_ref()
                        .map(|v| v.0.iter().map(|v| format!("{v:?}").len()).sum::<usize>())
                        .unwrap_or(0);
                seen.lock()
                    .unwrap()
                    .push((info.elapsed, sql.chars().take(60).collect(), bytes));
            });
        }
        // 20 batches of 64 submissions with 2 KB of form data each: every
        // batch's application INSERT carries well over one TCP segment.
        let filler = "x".repeat(2048);
        for round in 0..20 {
            let batch: Vec<NewApplication> = (0..64)
                .map(|i| {
                    let mut app = new_app(t, unit, version, Some(&format!("nagle-{round}-{i}")));
                    app.data = serde_json::json!({"name": "Muster", "notiz": filler});
                    app
                })
                .collect();
            for result in store.submit_applications(&batch).await {
                result.unwrap();
            }
        }
        let seen = seen.lock().unwrap().clone();
        let inserts: Vec<_> = seen
            .iter()
            .filter(|(_, sql, _)| sql.starts_with("INSERT"))
            .collect();
        assert!(
            inserts.iter().any(|(_, _, bytes)| *bytes > 128 * 1024),
            "the test must send INSERTs larger than a loopback segment (64 KB)"
        );
        let slow: Vec<_> = seen
            .iter()
            .filter(|(d, _, _)| *d >= Duration::from_millis(40))
            .collect();
        let mut durations: Vec<Duration> = seen.iter().map(|(d, _, _)| *d).collect();
        durations.sort();
        eprintln!(
            "{} statements of the writer ({} INSERTs): median {:?}, max {:?}, {} took >= 40 ms",
            seen.len(),
            inserts.len(),
            durations[durations.len() / 2],
            durations[durations.len() - 1],
            slow.len()
        );
        assert!(
            slow.len() * 20 <= seen.len(),
            "{} of {} statements waited >= 40 ms (Nagle + delayed ACK? TCP_NODELAY lost): {:?}",
            slow.len(),
            seen.len(),
            slow.iter().take(10).collect::<Vec<_>>()
        );
        db.drop_db().await;
    }

    #[tokio::test]
    async fn submissions_are_numbered_idempotent_and_audited() {
        let db = db().await;
        let repo = db.store.repo();
        let (a, unit, version) = setup(&db, "stadt-a").await;
        let (b, unit_b, version_b) = setup(&db, "stadt-b").await;
        let year = chrono::Utc::now().format("%Y").to_string();

        let first = db
            .store
            .submit_application(new_app(a, unit, version, Some("key-0000001")))
            .await
            .unwrap();
        assert!(first.created);
        assert_eq!(first.application.reference, format!("MS-{year}-000001"));
        assert_eq!(
            first.case.status(),
            rathaus_domain::cases::CaseStatus::Received
        );
        let token = first.access_token.clone().unwrap();
        // The same key again: the same application, no new number, no token.
        let again = db
            .store
            .submit_application(new_app(a, unit, version, Some("key-0000001")))
            .await
            .unwrap();
        assert!(!again.created && again.access_token.is_none());
        assert_eq!(again.application.id, first.application.id);
        let second = db
            .store
            .submit_application(new_app(a, unit, version, None))
            .await
            .unwrap();
        assert_eq!(second.application.reference, format!("MS-{year}-000002"));
        // Another tenant counts on its own.
        let other = db
            .store
            .submit_application(new_app(b, unit_b, version_b, Some("key-0000001")))
            .await
            .unwrap();
        assert_eq!(other.application.reference, format!("MS-{year}-000001"));

        // The access token opens only its own application in its own tenant.
        let found = repo
            .application_by_access_token(a, &token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, first.application.id);
        assert!(
            repo.application_by_access_token(b, &token)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(repo.application_files(a, found.id).await.unwrap().len(), 1);
        assert_eq!(
            repo.application_by_reference(a, &format!("ms-{year}-000002"))
                .await
                .unwrap()
                .unwrap()
                .id,
            second.application.id
        );

        // The audit chain holds; changing one row breaks it there.
        let (n, broken) = repo.verify_audit(a).await.unwrap();
        assert_eq!((n, broken), (2, None));
        let entries = repo.audit_of_case(a, second.case.id).await.unwrap();
        assert_eq!(entries[0].action, "received");
        db.store
            .db()
            .execute_unprepared(&format!(
                "UPDATE audit_log SET actor = 'someone else' WHERE id = {}",
                entries[0].id
            ))
            .await
            .unwrap();
        let (_, broken) = repo.verify_audit(a).await.unwrap();
        assert_eq!(broken.unwrap().id, entries[0].id);
        assert_eq!(
            repo.verify_audit(b).await.unwrap().1,
            None,
            "tenant B untouched"
        );
        db.drop_db().await;
    }

    #[tokio::test]
    async fn concurrent_submissions_get_distinct_numbers() {
        let db = db().await;
        let (a, unit, version) = setup(&db, "stadt-a").await;
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .submit_application(new_app(
                        a,
                        unit,
                        version,
                        Some(&format!("parallel-{i:04}")),
                    ))
                    .await
                    .unwrap()
                    .application
                    .seq
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort();
        assert_eq!(seqs, (1..=16).collect::<Vec<i64>>());
        assert_eq!(db.store.repo().verify_audit(a).await.unwrap(), (16, None));
        db.drop_db().await;
    }

    #[tokio::test]
    async fn a_batch_numbers_per_tenant_answers_repeated_keys_and_isolates_a_bad_item() {
        let db = db().await;
        let repo = db.store.repo();
        let (a, unit, version) = setup(&db, "stadt-a").await;
        let (b, unit_b, version_b) = setup(&db, "stadt-b").await;
        let before = db
            .store
            .submit_application(new_app(a, unit, version, Some("before-0001")))
            .await
            .unwrap();

        // One transaction: two tenants, a key twice, a key used before.
        let batch = [
            new_app(a, unit, version, Some("batch-00001")),
            new_app(b, unit_b, version_b, None),
            new_app(a, unit, version, Some("batch-00001")),
            new_app(a, unit, version, Some("before-0001")),
            new_app(a, unit, version, None),
        ];
        let done: Vec<_> = db
            .store
            .submit_applications(&batch)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let seqs: Vec<(bool, i64)> = done
            .iter()
            .map(|s| (s.created, s.application.seq))
            .collect();
        assert_eq!(
            seqs,
            [(true, 2), (true, 1), (false, 2), (false, 1), (true, 3)]
        );
        assert_eq!(done[2].application.id, done[0].application.id);
        assert!(done[2].access_token.is_none() && done[0].access_token.is_some());
        assert_eq!(done[3].application.id, before.application.id);
        assert_eq!(done[3].case.id, before.case.id);
        // What the batch answered is what is stored.
        let stored = repo
            .application_by_reference(a, &done[4].application.reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, done[4].application);
        assert_eq!(
            repo.case_of(a, stored.id).await.unwrap().unwrap(),
            done[4].case
        );
        assert_eq!(repo.application_files(a, stored.id).await.unwrap().len(), 1);

        // An item that cannot be written (its org unit does not exist) fails
        // alone; the others of its batch are written one by one.
        let mut bad = new_app(a, unit, version, Some("bad-0000001"));
        bad.org_unit_id = uuid::Uuid::now_v7();
        let results = db
            .store
            .submit_applications(&[
                new_app(a, unit, version, Some("after-00001")),
                bad,
                new_app(b, unit_b, version_b, Some("after-00001")),
            ])
            .await;
        assert_eq!(results[0].as_ref().unwrap().application.seq, 4);
        assert!(results[1].is_err(), "{:?}", results[1]);
        assert_eq!(results[2].as_ref().unwrap().application.seq, 2);
        assert!(
            repo.application_by_key(a, "bad-0000001")
                .await
                .unwrap()
                .is_none()
        );

        // Both chains hold: one entry per created application.
        assert_eq!(repo.verify_audit(a).await.unwrap(), (4, None));
        assert_eq!(repo.verify_audit(b).await.unwrap(), (2, None));
        let jobs = db
            .store
            .db()
            .query_all_raw(sea_orm::Statement::from_string(
                db.store.db().get_database_backend(),
                "SELECT id FROM outbox_jobs WHERE kind = 'application.received'",
            ))
            .await
            .unwrap();
        assert_eq!(jobs.len(), 6, "one receipt job per created application");
        db.drop_db().await;
    }

    #[tokio::test]
    async fn a_decision_is_delivered_and_its_opening_recorded_once() {
        use rathaus_domain::{cases::CaseStatus, decisions::Variant};
        use rathaus_storage::applications::{CaseChange, CaseError, NewDecision};
        let db = db().await;
        let repo = db.store.repo();
        let (a, unit, version) = setup(&db, "stadt-a").await;
        let sub = db
            .store
            .submit_application(new_app(a, unit, version, None))
            .await
            .unwrap();
        let clerk = uuid::Uuid::now_v7();
        let file = |n: &str| NewFile {
            field_path: "bescheid".into(),
            file_key: format!("decisions/{n}.pdf"),
            name: "Bescheid.pdf".into(),
            mime: "application/pdf".into(),
            size: 100,
            sha256: "a".repeat(64),
        };
        let decision = |n: &str| NewDecision {
            variant: Variant::Approval,
            title: "Bescheid".into(),
            file: file(n),
        };
        // Not before the case is worked on.
        let early = db
            .store
            .decide(a, sub.case.id, (clerk, "user:x"), decision("0"))
            .await;
        assert!(matches!(early, Err(CaseError::Transition(_))));
        db.store
            .change_case(a, sub.case.id, (clerk, "user:x"), CaseChange::Claim)
            .await
            .unwrap();
        let m = db
            .store
            .decide(a, sub.case.id, (clerk, "user:x"), decision("1"))
            .await
            .unwrap();
        assert_eq!(m.kind, "decision");
        assert_eq!(
            repo.case(a, sub.case.id).await.unwrap().unwrap().status(),
            CaseStatus::Decided
        );
        let files = repo.message_files(a, sub.application.id).await.unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].message_id, Some(m.id));
        // Reading the thread is not the Bekanntgabe of a Bescheid…
        repo.mark_read(a, sub.application.id, true).await.unwrap();
        assert!(
            repo.message(a, m.id)
                .await
                .unwrap()
                .unwrap()
                .read_at
                .is_none()
        );
        // …opening it is, once.
        let first = db.store.open_decision(a, m.id).await.unwrap();
        let again = db.store.open_decision(a, m.id).await.unwrap();
        assert_eq!(first, again);
        assert!(
            db.store
                .open_decision(a, uuid::Uuid::now_v7())
                .await
                .is_err()
        );
        let actions: Vec<String> = repo
            .audit_of_case(a, sub.case.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            ["received", "claimed", "decided", "decision_opened"]
        );
        assert_eq!(repo.verify_audit(a).await.unwrap(), (4, None));
        // Decided once: a second decision is refused.
        assert!(matches!(
            db.store
                .decide(a, sub.case.id, (clerk, "user:x"), decision("2"))
                .await,
            Err(CaseError::Transition(_))
        ));
        db.drop_db().await;
    }

    #[tokio::test]
    async fn corrupt_status_columns_fail_to_read() {
        use rathaus_storage::applications::{CaseChange, CaseError, OfficeMessage};
        let db = db().await;
        let repo = db.store.repo();
        let (a, unit, version) = setup(&db, "stadt-a").await;
        let sub = db
            .store
            .submit_application(new_app(a, unit, version, None))
            .await
            .unwrap();
        let clerk = uuid::Uuid::now_v7();
        db.store
            .change_case(a, sub.case.id, (clerk, "user:x"), CaseChange::Claim)
            .await
            .unwrap();
        db.store
            .office_message(
                a,
                sub.case.id,
                (clerk, "user:x"),
                OfficeMessage {
                    body: "Hallo".into(),
                    requested_documents: None,
                    due_date: None,
                },
            )
            .await
            .unwrap();
        let corrupt = |table: &'static str, column: &'static str| {
            move |r: Result<(), StorageError>| match r {
                Err(StorageError::Corrupt {
                    table: t,
                    column: c,
                    value,
                }) => assert_eq!((t, c, value.as_str()), (table, column, "bogus")),
                other => panic!("expected corrupt {table}.{column}, got {other:?}"),
            }
        };
        let conn = db.store.db();

        conn.execute_unprepared("UPDATE cases SET status = 'bogus'")
            .await
            .unwrap();
        corrupt("cases", "status")(repo.case(a, sub.case.id).await.map(|_| ()));
        corrupt("cases", "status")(repo.case_of(a, sub.application.id).await.map(|_| ()));
        match db
            .store
            .change_case(
                a,
                sub.case.id,
                (clerk, "user:x"),
                CaseChange::Note("x".into()),
            )
            .await
        {
            Err(CaseError::Storage(e)) => corrupt("cases", "status")(Err::<(), _>(e)),
            other => panic!("expected a corrupt case, got {other:?}"),
        }

        conn.execute_unprepared("UPDATE messages SET kind = 'bogus'")
            .await
            .unwrap();
        corrupt("messages", "kind")(repo.messages(a, sub.application.id).await.map(|_| ()));

        conn.execute_unprepared("UPDATE form_versions SET status = 'bogus'")
            .await
            .unwrap();
        corrupt("form_versions", "status")(repo.form_version(a, version).await.map(|_| ()));

        conn.execute_unprepared("UPDATE outbox_jobs SET status = 'bogus'")
            .await
            .unwrap();
        corrupt("outbox_jobs", "status")(repo.job_counts().await.map(|_| ()));
        db.drop_db().await;
    }

    #[tokio::test]
    async fn inbox_pages_merge_units_and_statuses_in_order() {
        use rathaus_storage::applications::{CaseChange, InboxQuery};
        let db = db().await;
        let repo = db.store.repo();
        let (a, unit, version) = setup(&db, "stadt-a").await;
        let unit2 = repo
            .create_org_unit(a, &super::unit("office", "Zweites Amt", None))
            .await
            .unwrap()
            .id;
        let mut expected = Vec::new();
        for i in 0..23 {
            let u = if i % 3 == 0 { unit2 } else { unit };
            let sub = db
                .store
                .submit_application(new_app(a, u, version, None))
                .await
                .unwrap();
            if i % 2 == 0 {
                db.store
                    .change_case(
                        a,
                        sub.case.id,
                        (uuid::Uuid::now_v7(), "user:x"),
                        CaseChange::Claim,
                    )
                    .await
                    .unwrap();
            }
            expected.push(sub.case.id);
        }
        expected.reverse();
        let mut got = Vec::new();
        let mut q = InboxQuery {
            limit: 5,
            ..Default::default()
        };
        loop {
            let page = repo.inbox(a, &[unit, unit2], &q).await.unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 5);
            let last = page.last().unwrap();
            q.before = Some((last.case.created_at, last.case.id));
            got.extend(page.into_iter().map(|r| r.case.id));
        }
        assert_eq!(
            got, expected,
            "newest first over both units and statuses, each once"
        );
        let only_unit2 = repo
            .inbox(
                a,
                &[unit2],
                &InboxQuery {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(only_unit2.len(), 8);
        db.drop_db().await;
    }

    #[tokio::test]
    async fn the_receipt_job_carries_the_access_token_sealed_and_only_without_account() {
        use rathaus_storage::outbox::OutboxRepository;
        let db = db().await;
        let (a, unit, version) = setup(&db, "stadt-a").await;
        let anon = db
            .store
            .submit_application(new_app(a, unit, version, None))
            .await
            .unwrap();
        let citizen = db
            .store
            .repo()
            .create_citizen(
                a,
                &Email::parse("c@example.org").unwrap(),
                &rathaus_storage::identity::hash_password("ein langes Passwort"),
            )
            .await
            .unwrap();
        let mut with_account = new_app(a, unit, version, None);
        with_account.citizen_id = Some(citizen.id);
        with_account.notify_email = Some(citizen.email.clone());
        db.store.submit_application(with_account).await.unwrap();
        let rows = db
            .store
            .db()
            .query_all_raw(sea_orm::Statement::from_string(
                db.store.db().get_database_backend(),
                "SELECT id FROM outbox_jobs WHERE kind = 'application.received' ORDER BY id",
            ))
            .await
            .unwrap();
        let mut payloads = Vec::new();
        let mut raw = Vec::new();
        for r in rows {
            let id: i64 = r.try_get("", "id").unwrap();
            let job = db.store.repo().job(id).await.unwrap().unwrap();
            payloads.push(serde_json::from_str::<serde_json::Value>(&job.payload).unwrap());
            raw.push(job.payload);
        }
        assert_eq!(payloads.len(), 2);
        // Never in plain text: sealed with the instance key for this application.
        let token = anon.access_token.unwrap();
        assert!(!raw[0].contains(&token), "{}", raw[0]);
        assert!(payloads[0].get("access_token").is_none());
        let sealed = payloads[0]["sealed_access_token"].as_str().unwrap();
        assert_eq!(
            db.store
                .secrets()
                .open(sealed, &anon.application.id.to_string())
                .as_deref(),
            Some(token.as_str())
        );
        assert!(payloads[1].get("access_token").is_none());
        assert!(payloads[1].get("sealed_access_token").is_none());
        db.drop_db().await;
    }
}

mod accounts {
    use super::*;
    use std::collections::HashMap;

    #[tokio::test]
    async fn accounts_are_confirmed_once_and_isolated_per_tenant() {
        let db = db().await;
        let repo = db.store.repo();
        let a = repo
            .create_tenant(&tenant_input("stadt-a"))
            .await
            .unwrap()
            .tenant_id();
        let b = repo
            .create_tenant(&tenant_input("stadt-b"))
            .await
            .unwrap()
            .tenant_id();
        use rathaus_storage::{
            accounts::TokenPurpose,
            identity::{hash_password, token_hash},
        };
        let email = Email::parse("Erika@Example.org").unwrap();
        let first = hash_password("ein langes Passwort");
        let c = repo.create_citizen(a, &email, &first).await.unwrap();
        assert!(!c.confirmed());
        assert!(matches!(
            repo.create_citizen(a, &email, &first).await,
            Err(StorageError::Conflict("email"))
        ));
        // The same address may have an account in another municipality.
        repo.create_citizen(b, &email, &first).await.unwrap();
        // A confirmation token: no secret until it is mailed, then only its hash.
        let chosen = hash_password("das gewählte Passwort");
        let day = chrono::Utc::now() + chrono::Duration::hours(24);
        let t = repo
            .create_account_token(a, c.id, TokenPurpose::Confirm, Some(&chosen), day)
            .await
            .unwrap();
        assert!(t.token_hash.is_none());
        let (t, secret) = repo.issue_account_token(a, t.id).await.unwrap().unwrap();
        assert_eq!(t.token_hash.as_deref(), Some(token_hash(&secret).as_str()));
        assert!(
            repo.issue_account_token(b, t.id).await.unwrap().is_none(),
            "other tenant"
        );
        assert!(
            repo.account_token(b, &secret, TokenPurpose::Confirm)
                .await
                .unwrap()
                .is_none(),
            "other tenant"
        );
        assert!(
            repo.account_token(a, &secret, TokenPurpose::Reset)
                .await
                .unwrap()
                .is_none(),
            "other purpose"
        );
        assert!(
            repo.account_token(a, "wrong", TokenPurpose::Confirm)
                .await
                .unwrap()
                .is_none()
        );
        let found = repo
            .account_token(a, &secret, TokenPurpose::Confirm)
            .await
            .unwrap()
            .unwrap();
        let confirmed = repo
            .confirm_citizen(a, c.id, found.password_hash.as_deref())
            .await
            .unwrap();
        assert!(confirmed.confirmed());
        assert_eq!(confirmed.password_hash, chosen);
        assert_eq!(
            repo.delete_account_tokens(a, c.id, TokenPurpose::Confirm)
                .await
                .unwrap(),
            1
        );
        assert!(
            repo.account_token(a, &secret, TokenPurpose::Confirm)
                .await
                .unwrap()
                .is_none(),
            "used up"
        );
        // An expired token is not found, and the purge removes it.
        let past = chrono::Utc::now() - chrono::Duration::seconds(1);
        let old = repo
            .create_account_token(a, c.id, TokenPurpose::Reset, None, past)
            .await
            .unwrap();
        assert!(repo.issue_account_token(a, old.id).await.unwrap().is_none());
        assert!(
            repo.check_citizen_password(a, &email, "falsch")
                .await
                .unwrap()
                .is_none()
        );
        let logged = repo
            .check_citizen_password(a, &email, "das gewählte Passwort")
            .await
            .unwrap()
            .unwrap();
        assert!(logged.last_login_at.is_some());
        // Purge: the expired token goes, and B's unconfirmed account (created
        // before the cut-off, no pending token); A's confirmed account stays.
        let later = chrono::Utc::now() + chrono::Duration::seconds(1);
        let (tokens, accounts) = repo
            .purge_unconfirmed_citizens(chrono::Utc::now(), later)
            .await
            .unwrap();
        assert_eq!((tokens, accounts), (1, 1));
        assert!(repo.citizen_by_email(b, &email).await.unwrap().is_none());
        assert!(repo.citizen(a, c.id).await.unwrap().is_some());
        let saved = repo
            .save_profile(
                a,
                c.id,
                &HashMap::from([
                    ("family-name".to_string(), "Mustermann".to_string()),
                    ("postal-code".to_string(), " 48143 ".to_string()),
                    ("is_admin".to_string(), "true".to_string()),
                ]),
            )
            .await
            .unwrap();
        let p = saved.profile_map();
        assert_eq!(p.get("family-name").unwrap(), "Mustermann");
        assert_eq!(p.get("postal-code").unwrap(), "48143");
        assert!(!p.contains_key("is_admin"), "only profile fields are kept");
        assert!(repo.citizen(b, c.id).await.unwrap().is_none());
        db.drop_db().await;
    }

    #[tokio::test]
    async fn templates_fall_back_and_routing_rules_keep_their_order() {
        use rathaus_domain::decisions::Variant;
        let db = db().await;
        let repo = db.store.repo();
        let a = repo
            .create_tenant(&tenant_input("stadt-a"))
            .await
            .unwrap()
            .tenant_id();
        let b = repo
            .create_tenant(&tenant_input("stadt-b"))
            .await
            .unwrap()
            .tenant_id();
        let service = uuid::Uuid::now_v7();
        assert!(
            repo.decision_template(a, Some(service), Variant::Approval)
                .await
                .unwrap()
                .is_none()
        );
        db.store
            .save_decision_template(a, None, Variant::Approval, "Allgemein", "Text", "x")
            .await
            .unwrap();
        assert_eq!(
            repo.decision_template(a, Some(service), Variant::Approval)
                .await
                .unwrap()
                .unwrap()
                .title,
            "Allgemein"
        );
        db.store
            .save_decision_template(a, Some(service), Variant::Approval, "Eigen", "Text", "x")
            .await
            .unwrap();
        db.store
            .save_decision_template(a, Some(service), Variant::Approval, "Eigen 2", "Text", "y")
            .await
            .unwrap();
        let t = repo
            .decision_template(a, Some(service), Variant::Approval)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((t.title.as_str(), t.updated_by.as_str()), ("Eigen 2", "y"));
        assert_eq!(repo.service_templates(a, service).await.unwrap().len(), 1);
        assert!(
            repo.decision_template(a, Some(service), Variant::Rejection)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            repo.decision_template(b, Some(service), Variant::Approval)
                .await
                .unwrap()
                .is_none(),
            "other tenant"
        );
        let u1 = repo
            .create_org_unit(a, &unit("office", "Mitte", None))
            .await
            .unwrap()
            .id;
        let u2 = repo
            .create_org_unit(a, &unit("office", "Land", None))
            .await
            .unwrap()
            .id;
        let rules = vec![
            ("plz".to_string(), "48143-48155".to_string(), u1),
            ("plz".to_string(), "481*".to_string(), u2),
        ];
        db.store
            .replace_routing_rules(a, service, &rules)
            .await
            .unwrap();
        db.store
            .replace_routing_rules(a, service, &rules)
            .await
            .unwrap();
        let got = repo.routing_rules(a, service).await.unwrap();
        assert_eq!(
            got.iter().map(|r| r.org_unit_id).collect::<Vec<_>>(),
            vec![u1, u2]
        );
        assert!(repo.routing_rules(b, service).await.unwrap().is_empty());
        db.drop_db().await;
    }
}
