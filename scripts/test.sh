#!/usr/bin/env bash
# The whole test suite: installs what it needs, then formatting, lints and every test.
# Tests that need ../shared (the real-mail corpus) skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

export CARGO_TERM_COLOR=never
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked --no-fail-fast
