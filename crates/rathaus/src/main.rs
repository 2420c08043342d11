//! The `rathaus` binary. All logic lives in the library part of this crate.

/// mimalloc instead of the system allocator: a server allocates and frees
/// many small buffers on several threads, where glibc's malloc spent a
/// measurable share of the submission path in consolidation (ADR 0009).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // ring as the one TLS crypto provider, before any HTTPS client (ADR 0012).
    rathaus_storage::install_tls_crypto_provider();
    rathaus::cli::main().await
}
