#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (docs/fuzzing.md)
# and fails on a crash, a hang or a leak of memory beyond libFuzzer's limit.
# Needs a nightly toolchain and cargo-fuzz; under CI (CI=true) both are
# installed when missing and their absence fails the run, elsewhere a
# missing tool skips with a NOTICE (the property tests of `cargo test`
# cover the same parsers).
#   RATHAUS_FUZZ_SECONDS  seconds per target (default 60)
#   RATHAUS_FUZZ_TARGETS  space-separated subset (default: all targets)
#   RATHAUS_FUZZ_SANITIZER  none (default: safe Rust; panics, overflows, stack
#                         overflows and hangs are caught without one) or address
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${RATHAUS_FUZZ_SECONDS:-60}"
read -r -a targets <<<"${RATHAUS_FUZZ_TARGETS:-xdatenfelder genericode rules multipart text seal}"

missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "ERROR: $1 (CI=true: fuzzing must run)" >&2
    exit 1
  fi
  echo "NOTICE: $1; fuzzing skipped (the property tests of cargo test cover the parsers)"
  exit 0
}

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  if [ "${CI:-}" = "true" ]; then
    rustup toolchain install nightly --profile minimal
  else
    missing "no nightly toolchain (rustup toolchain install nightly)"
  fi
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    cargo install cargo-fuzz --locked
  else
    missing "cargo-fuzz is not installed (cargo install cargo-fuzz)"
  fi
fi
cargo +nightly fuzz --version

# Fuzz builds (nightly, sanitizer flags) never share artefacts with the normal build.
target_dir="${CARGO_TARGET_DIR:-$PWD/fuzz/target}/fuzz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd fuzz
sanitizer="${RATHAUS_FUZZ_SANITIZER:-none}"
# Debug assertions and overflow checks on: an arithmetic overflow is a finding.
cargo +nightly fuzz build --target-dir "$target_dir" -s "$sanitizer" -a
failed=()
for t in "${targets[@]}"; do
  echo "--- fuzzing $t for ${seconds}s ---"
  mkdir -p "$work/$t" "artifacts/$t"
  # New inputs go to a scratch corpus; the committed seeds stay as they are.
  if ! cargo +nightly fuzz run --target-dir "$target_dir" -s "$sanitizer" -a "$t" "$work/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"$work/$t.log" 2>&1; then
    failed+=("$t")
    echo "FAILED: $t; last 60 lines of its log:"
    tail -n 60 "$work/$t.log"
    echo "the input that failed is in fuzz/artifacts/$t/ (reproduce: cargo +nightly fuzz run $t fuzz/artifacts/$t/<file>)"
  else
    grep -E '^stat::number_of_executed_units|^Done' "$work/$t.log" | tr '\n' ' '
    echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: ${targets[*]}: ${seconds}s each, no crash"
