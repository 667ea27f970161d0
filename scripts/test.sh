#!/usr/bin/env bash
# The one test command: formatting, lints, the documentation, packaging of the library crates,
# and every test in the workspace, database tests included. PostgreSQL comes from scripts/pg-env.sh: DATABASE_URL if set, else a server on
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
echo "== cargo doc (warnings are errors: broken intra-doc links included)" >&2
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features
# Each library crate must build from its package alone, as crates.io would build it: the
# verification build unpacks every .crate and compiles it against the other packaged crates.
# --allow-dirty: this checks the working tree, it publishes nothing. The list names exactly
# the crates with `publish = false` (tests/tests/publishing.rs checks it): a new library crate
# is packaged without touching it, a new example or tool must be added to it.
echo "== cargo package (library crates, with their verification build)" >&2
# Cargo treats registry crates as immutable, and the verification build takes the packaged
# crates from a temporary local registry: a prismiq-core 0.1.0 unpacked into
# $CARGO_HOME/registry/src/-<hash>/ or compiled by an earlier run would be reused although
# this run packaged a different one, and the dependents verified against stale code. So the
# verification builds get a target directory of their own, where every prismiq-* unit came
# from a package, and those units and unpacked copies are dropped first (only local
# registries' source directories start with '-'); compiled crates.io dependencies stay.
verification_target=target/package-verification
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/prismiq-* \
    "$verification_target"/debug/.fingerprint/prismiq-* \
    "$verification_target"/debug/build/prismiq-* \
    "$verification_target"/debug/deps/*prismiq_*
CARGO_TARGET_DIR=$verification_target cargo package --workspace --allow-dirty \
    --exclude prismiq-demo --exclude prismiq-example-bearer-auth --exclude prismiq-sample \
    --exclude prismiq-tests --exclude http-load --exclude load-tally --exclude sql-load --exclude event-load --exclude sse-baseline \
    --exclude prismiq-migrate
if [ -n "${PRISMIQ_DROP_VERIFICATION:-}" ]; then
    rm -rf "$verification_target"
fi
echo "== cargo test (DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL)" >&2
cargo test --workspace --all-features
