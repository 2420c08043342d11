//! Starting the parts: database, file storage, web server, outbox workers;
//! stopping them gracefully on Ctrl-C / SIGTERM.

use std::time::Duration;

use anyhow::Context;
use rathaus_storage::{
    DbConfig, Store,
    files::FileStore,
    outbox::{Worker, WorkerConfig},
};
use rathaus_web::{AppState, WebConfig, platform::metrics::MetricsAccess};
use tokio::{net::TcpListener, sync::watch};

use crate::{config::Settings, jobs};

/// Connects and migrates.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    if settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
    }
    let url = settings.database_url();
    let store = Store::connect(&DbConfig {
        url: url.clone(),
        max_connections: settings.db_max_connections,
    })
    .await
    .with_context(|| {
        format!(
            "cannot connect to database {}",
            rathaus_storage::redact_url(&url)
        )
    })?;
    store.migrate().await.context("applying migrations")?;
    Ok(store.with_secret_key(settings.secret_key()?))
}

/// A process-unique worker id: host, pid and a random suffix.
pub fn worker_id(n: u32) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!(
        "{host}-{}-{}-{n}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    )
}

/// The notification sender of this process (SMTP or mail files).
pub fn notifier(settings: &Settings, store: &Store) -> anyhow::Result<jobs::Notifier> {
    Ok(jobs::Notifier {
        store: store.clone(),
        files: FileStore::open(&settings.storage_url()).context("opening file storage")?,
        mailer: jobs::Mailer::with_ca(
            settings.smtp_url.as_deref(),
            settings.smtp_ca_file.as_deref(),
            settings.mail_dir(),
        )?,
        public_url: settings.public_url(),
        from: settings.mail_from.clone(),
    })
}

/// The use cases over this process's database and file store.
pub fn app(
    settings: &Settings,
    store: &Store,
    files: FileStore,
) -> anyhow::Result<rathaus_app::App> {
    let mut app = rathaus_app::App::new(store.clone(), files);
    app.uploads = settings.upload_limits();
    app.payments = payment_config(settings)?;
    Ok(app)
}

/// Online payment, when a provider is configured (address and secret).
pub fn payment_config(
    settings: &Settings,
) -> anyhow::Result<Option<std::sync::Arc<rathaus_app::payments::PaymentConfig>>> {
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let (Some(url), Some(secret)) = (
        nonempty(&settings.payment_provider_url),
        nonempty(&settings.payment_secret),
    ) else {
        return Ok(None);
    };
    let ags = nonempty(&settings.payment_ags)
        .context("RATHAUS_PAYMENT_AGS is needed with RATHAUS_PAYMENT_PROVIDER_URL")?;
    let mut client = rathaus_app::payments::PmPaymentClient::new(&url, &secret, &ags)
        .map_err(|e| anyhow::anyhow!("payment provider: {e}"))?;
    if let Some(public) = nonempty(&settings.payment_provider_public_url) {
        client = client.with_pay_base(&public);
    }
    Ok(Some(std::sync::Arc::new(
        rathaus_app::payments::PaymentConfig {
            provider: std::sync::Arc::new(client),
            public_url: settings.public_url(),
        },
    )))
}

/// The job handlers of this process.
pub fn handlers(
    settings: &Settings,
    notifier: &jobs::Notifier,
    app: &rathaus_app::App,
) -> rathaus_storage::outbox::Handlers {
    jobs::handlers_for(notifier.clone(), app.clone())
        .with(
            "storage.sweep",
            jobs::StorageSweep {
                app: app.clone(),
                grace: settings.orphan_grace(),
            },
        )
        .with(
            jobs::RECONCILE_JOB,
            jobs::ReconcilePayments {
                app: app.clone(),
                min_age: chrono::Duration::seconds(
                    i64::try_from(settings.payment_reconcile_secs.clamp(1, 3600)).unwrap_or(60),
                ),
            },
        )
}

pub fn worker_config(settings: &Settings, n: u32) -> WorkerConfig {
    let mut cfg = WorkerConfig::new(worker_id(n));
    cfg.lease = Duration::from_secs(settings.worker_lease_secs.max(1));
    cfg
}

/// Turns true on Ctrl-C or SIGTERM. The SIGTERM handler is installed before
/// this returns, so a signal right after start-up is not fatal.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match term.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("shutdown requested: finishing running requests and jobs");
        let _ = tx.send(true);
    });
    rx
}

/// Runs the web server (and in-process workers) until shutdown.
pub async fn run(
    settings: &Settings,
    store: Store,
    demo_mode: bool,
    default_tenant: Option<String>,
) -> anyhow::Result<()> {
    let files = FileStore::open(&settings.storage_url()).context("opening file storage")?;
    let mut web = WebConfig::new(settings.public_url());
    web.demo_mode = demo_mode;
    web.default_tenant = settings.default_tenant.clone().or(default_tenant);
    web.login_attempts_per_minute = settings.login_attempts_per_minute;
    web.draft_days = settings.draft_days.clamp(1, 365);
    web.submits_per_minute = settings.submits_per_minute.max(1);
    web.trusted_proxies =
        rathaus_web::platform::client::TrustedProxies::parse(&settings.trusted_proxies)?;
    web.metrics = match (&settings.metrics_token, &settings.metrics_listen) {
        (Some(token), _) if !token.trim().is_empty() => {
            MetricsAccess::Token(token.trim().to_string())
        }
        (_, Some(_)) => MetricsAccess::Off,
        _ if settings.metrics_public || demo_mode => MetricsAccess::Public,
        _ => {
            tracing::info!(
                "/metrics is off on the public listener: set RATHAUS_METRICS_LISTEN, RATHAUS_METRICS_TOKEN or RATHAUS_METRICS_PUBLIC=true"
            );
            MetricsAccess::Off
        }
    };
    web.uploads_per_minute = settings.uploads_per_minute.max(1);
    web.upload_limits = settings.upload_limits();
    web.session_max_hours = settings.session_max_hours.clamp(1, 24 * 30);
    web.payments = payment_config(settings)?;
    web.bookings_per_minute = settings.bookings_per_minute.max(1);
    web.open311_per_minute = settings.open311_per_minute.max(1);
    web.appointments = std::sync::Arc::new(settings.appointments()?);
    if let Some(p) = &web.payments {
        tracing::info!(provider = p.provider.name(), "online payment is on");
    }
    let listener = TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal();

    let notifier = notifier(settings, &store)?;
    tracing::info!(mail = notifier.mailer.describe(), "notifications");
    let payments_on = web.payments.is_some();
    let state = AppState::new(store.clone(), files.clone(), web);
    // The jobs run on the web's use-case layer: one e-file search index.
    let jobs_app = state.app.clone();
    let mut workers = Vec::new();
    workers.push(tokio::spawn(jobs::refresh_record_index(
        jobs_app.clone(),
        Duration::from_secs(60),
        shutdown.clone(),
    )));
    for n in 0..settings.workers {
        let worker = Worker::new(
            store.clone(),
            handlers(settings, &notifier, &jobs_app),
            worker_config(settings, n),
        );
        workers.push(tokio::spawn(worker.run(shutdown.clone())));
    }
    if settings.storage_sweep_secs > 0 {
        workers.push(tokio::spawn(jobs::schedule_sweeps(
            store.clone(),
            Duration::from_secs(settings.storage_sweep_secs.max(60)),
            shutdown.clone(),
        )));
    }
    if settings.payment_reconcile_secs > 0 && payments_on {
        workers.push(tokio::spawn(jobs::schedule_job(
            store.clone(),
            jobs::RECONCILE_JOB,
            Duration::from_secs(settings.payment_reconcile_secs),
            shutdown.clone(),
        )));
    }
    workers.push(tokio::spawn(jobs::schedule_job(
        store.clone(),
        rathaus_storage::appointments::SWEEP_JOB,
        Duration::from_secs(60),
        shutdown.clone(),
    )));
    workers.push(tokio::spawn(jobs::schedule_job(
        store.clone(),
        rathaus_storage::defects::SWEEP_JOB,
        Duration::from_secs(3600),
        shutdown.clone(),
    )));
    tracing::info!(%addr, database = %rathaus_storage::redact_url(&settings.database_url()), files = files.describe(), "rathaus is listening");
    println!("rathaus läuft auf / is running at http://{addr}");
    let metrics_server = match settings
        .metrics_listen
        .as_deref()
        .filter(|a| !a.trim().is_empty())
    {
        Some(metrics_addr) => {
            let metrics_listener = TcpListener::bind(metrics_addr)
                .await
                .with_context(|| format!("cannot listen on {metrics_addr} (metrics)"))?;
            tracing::info!(addr = %metrics_listener.local_addr()?, "metrics are served here");
            Some(tokio::spawn(rathaus_web::serve_metrics(
                metrics_listener,
                state.clone(),
                shutdown.clone(),
            )))
        }
        None => None,
    };
    rathaus_web::serve(listener, state, shutdown)
        .await
        .context("web server failed")?;
    if let Some(m) = metrics_server {
        let _ = m.await;
    }
    for w in workers {
        let _ = w.await;
    }
    store.close().await.ok();
    tracing::info!("stopped");
    Ok(())
}

/// Runs only outbox workers (a dedicated worker instance).
pub async fn run_worker(settings: &Settings, store: Store, drain: bool) -> anyhow::Result<()> {
    let count = settings.workers.max(1);
    let notifier = notifier(settings, &store)?;
    let files = FileStore::open(&settings.storage_url()).context("opening file storage")?;
    let jobs_app = app(settings, &store, files)?;
    if drain {
        let worker = Worker::new(
            store.clone(),
            handlers(settings, &notifier, &jobs_app),
            worker_config(settings, 0),
        );
        let n = worker.drain().await?;
        println!("{n} job(s) processed");
        return Ok(());
    }
    let shutdown = shutdown_signal();
    let mut handles = Vec::new();
    for n in 0..count {
        let worker = Worker::new(
            store.clone(),
            handlers(settings, &notifier, &jobs_app),
            worker_config(settings, n),
        );
        handles.push(tokio::spawn(worker.run(shutdown.clone())));
    }
    for h in handles {
        let _ = h.await;
    }
    Ok(())
}
