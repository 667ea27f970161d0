#!/usr/bin/env bash
# The one test command: formatting, lints, and every test in the workspace, database tests
# included. PostgreSQL comes from scripts/pg-env.sh: DATABASE_URL if set, else a server on
# 127.0.0.1:5432, else a throwaway cluster from the installed binaries; Redis (for the result
# cache tests) likewise from scripts/redis-env.sh. With neither available it stops with
# instructions: database and cache tests are never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh
# shellcheck source=scripts/redis-env.sh
source scripts/redis-env.sh
trap 'prismiq_redis_stop; declare -F prismiq_pg_stop >/dev/null && prismiq_pg_stop' EXIT

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== cargo test (DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL)" >&2
cargo test --workspace --all-features
