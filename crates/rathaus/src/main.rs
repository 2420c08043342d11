//! The `rathaus` binary. All logic lives in the library part of this crate.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rathaus::cli::main().await
}
