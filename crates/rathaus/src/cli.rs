//! Command line: `serve`, `demo`, `migrate`, `worker`, `admin …`.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::{admin, config::Settings, demo, server};

#[derive(Parser, Debug)]
#[command(
    name = "rathaus",
    version,
    about = "Online-Rathaus: the municipal services platform"
)]
pub struct Cli {
    /// Configuration file (TOML); default: ./rathaus.toml when present.
    #[arg(long, global = true, env = "RATHAUS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the admin variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (and outbox workers).
    Serve,
    /// Migrate, seed the demo municipality Musterstadt (idempotent) and serve it.
    Demo {
        /// Also create this many synthetic published services (for benchmarks).
        #[arg(long, default_value_t = 0)]
        services: usize,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// Only list applied migrations.
        #[arg(long)]
        status: bool,
    },
    /// Run outbox workers only (for dedicated worker instances).
    Worker {
        /// Process all due jobs, then exit.
        #[arg(long)]
        drain: bool,
    },
    /// Administration commands.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Run the test payment provider (speaks pmPayment; moves no money): for
    /// demos and tests, never for real payments.
    PaymentProvider {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// The shared secret of the start hash (as `RATHAUS_PAYMENT_SECRET`
        /// of the platform).
        #[arg(long, env = "RATHAUS_PAYMENT_SECRET")]
        secret: String,
        /// The only AGS accepted (any when not given).
        #[arg(long)]
        ags: Option<String>,
        /// The address browsers reach it by (default `http://<listen>`).
        #[arg(long)]
        public_url: Option<String>,
    },
}

fn init_logging(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,tower_http=warn")
    });
    let registry = tracing_subscriber::registry().with(filter);
    if settings.log_format == "json" {
        let _ = registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .try_init();
    } else {
        let _ = registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init();
    }
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Fehler / error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    init_logging(&settings);
    tracing::debug!(?settings, "configuration");
    match cli.command {
        Command::Serve => {
            let store = server::open_store(&settings).await?;
            server::run(&settings, store, false, None).await
        }
        Command::Demo { services } => {
            let mut settings = settings;
            let store = server::open_store(&settings).await?;
            let tenant = demo::seed(&store).await?;
            demo::seed_defect_reports(&store, tenant).await?;
            crate::demo::start_payment_provider(&mut settings).await?;
            demo::seed_payments(&store, tenant).await?;
            crate::demo_records::seed(&settings, &store, tenant).await?;
            if services > 0 {
                let started = std::time::Instant::now();
                let n = demo::generate_services(&store, tenant, services).await?;
                println!(
                    "{n} synthetic services generated in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            demo::print_banner(&settings.public_url());
            server::run(&settings, store, true, Some(demo::SLUG.to_string())).await
        }
        Command::Migrate { status } => {
            let store = server::open_store(&settings).await?;
            if status {
                for m in store.applied_migrations().await? {
                    println!("{m}");
                }
            } else {
                println!(
                    "migrations applied: {}",
                    store.applied_migrations().await?.len()
                );
            }
            Ok(())
        }
        Command::PaymentProvider {
            listen,
            secret,
            ags,
            public_url,
        } => {
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let public_url = public_url.unwrap_or_else(|| {
                format!(
                    "http://{}",
                    listener
                        .local_addr()
                        .map_or(listen.clone(), |a| a.to_string())
                )
            });
            println!("Test-Zahlungsanbieter (test payment provider) auf (on) {public_url}");
            let shutdown = server::shutdown_signal();
            rathaus_payprovider::serve(
                listener,
                rathaus_payprovider::ProviderConfig {
                    secret,
                    ags,
                    public_url,
                },
                async move {
                    let mut s = shutdown;
                    let _ = s.changed().await;
                },
            )
            .await
            .context("payment provider failed")
        }
        Command::Worker { drain } => {
            let store = server::open_store(&settings).await?;
            server::run_worker(&settings, store, drain).await
        }
        // Offline: a seal and the certificate need no database.
        Command::Admin(admin::AdminCommand::VerifySeal(a))
            if a.seal.is_some() && a.cert.is_some() =>
        {
            admin::verify_seal(&a, None).await
        }
        Command::Admin(cmd) => {
            let store = server::open_store(&settings).await?;
            admin::run(&store, cmd, &settings).await
        }
    }
}
