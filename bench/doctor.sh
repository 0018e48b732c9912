#!/usr/bin/env bash
# Benchmark: `wasmforge doctor` on hello-rust (warm: probes cached, the project built), next to
# the one `cargo metadata` call it makes and to a no-op `wasmforge build` (doctor runs the
# build's steps: aim, doctor <= 1.5x a no-op build), side by side in one hyperfine run; then the
# no-op rebuild ratio (with the pre-flight checks every build runs) from bench/build-noop.sh.
# Not part of the test suite: timings on shared machines are noisy, ratios are what count.
# Usage: bench/doctor.sh [hyperfine options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

cargo build --release --locked -p wasmforge --quiet
wf="$PWD/target/release/wasmforge"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r examples/hello-rust "$work/"
proj="$work/hello-rust"
unset RUSTUP_TOOLCHAIN
export WASMFORGE_CACHE_DIR="$work/cache"
"$wf" -q doctor "$proj" >/dev/null 2>&1 || true   # warm the probe cache and build once

hyperfine --warmup 3 --min-runs 30 -N --export-json "$work/doctor.json" "$@" \
    -n "cargo metadata" "cargo metadata --format-version 1 --manifest-path $proj/Cargo.toml --filter-platform wasm32-wasip1" \
    -n "wasmforge doctor" "$wf -q doctor $proj" \
    -n "wasmforge build (no-op)" "$wf -q build $proj"

python3 - "$work/doctor.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
meta, doc, noop = r["cargo metadata"], r["wasmforge doctor"], r["wasmforge build (no-op)"]
print(f"doctor {doc['mean']*1000:.1f} ms; cargo metadata {meta['mean']*1000:.1f} ms "
      f"= {100*meta['mean']/doc['mean']:.0f}% of it; everything else {(doc['mean']-meta['mean'])*1000:.1f} ms")
print(f"doctor vs a no-op build: {doc['mean']*1000:.1f} vs {noop['mean']*1000:.1f} ms, "
      f"ratio {doc['mean']/noop['mean']:.2f}x")
PY
bench/build-noop.sh "$@"
