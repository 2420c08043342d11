//! `rathaus-payprovider`: the test payment provider as a process, for demos
//! and end-to-end walks. Never for real money.
//!
//! Environment: `RATHAUS_PAYPROVIDER_SECRET` (required, the shared secret),
//! `RATHAUS_PAYPROVIDER_ADDR` (default `127.0.0.1:8090`),
//! `RATHAUS_PAYPROVIDER_PUBLIC_URL` (default `http://<addr>`),
//! `RATHAUS_PAYPROVIDER_AGS` (optional: the only AGS accepted).

use rathaus_payprovider::{ProviderConfig, serve};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(secret) = env("RATHAUS_PAYPROVIDER_SECRET") else {
        eprintln!("RATHAUS_PAYPROVIDER_SECRET fehlt (missing)");
        return std::process::ExitCode::FAILURE;
    };
    let addr = env("RATHAUS_PAYPROVIDER_ADDR").unwrap_or_else(|| "127.0.0.1:8090".into());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{addr}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let public_url = env("RATHAUS_PAYPROVIDER_PUBLIC_URL").unwrap_or_else(|| {
        listener
            .local_addr()
            .map_or_else(|_| format!("http://{addr}"), |a| format!("http://{a}"))
    });
    let config = ProviderConfig {
        secret,
        ags: env("RATHAUS_PAYPROVIDER_AGS"),
        public_url: public_url.clone(),
    };
    eprintln!("Test-Zahlungsanbieter (test payment provider) auf (on) {public_url}");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match serve(listener, config, shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
