#!/usr/bin/env bash
# Sets up everything the test suite needs (idempotently), then runs the whole suite.
# Usage: tests/run.sh [extra cargo test arguments]
# With WASMFORGE_REQUIRE_TOOLS=1 (as .ci/run sets it) a missing tool fails its tests instead
# of skipping them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
command -v cargo >/dev/null || { echo "error: cargo not found; install Rust from https://rustup.rs" >&2; exit 1; }

step() { echo "==> $*"; }

# Rust WebAssembly targets for the default toolchain.
step "rustup targets"
rustup target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown

# A second toolchain *without* Wasm targets: the real "target missing" case the tests need.
if ! rustup toolchain list | grep -q '^nightly'; then
    step "rustup toolchain install nightly (minimal, no Wasm targets)"
    rustup toolchain install nightly --profile minimal --no-self-update
fi

step "cargo test"
cargo test --workspace --locked "$@"
