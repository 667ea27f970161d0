#!/usr/bin/env bash
# The one test command: formatting, lints, and every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --all-features
