#!/usr/bin/env bash
# Benchmark: `wasmforge doctor` on hello-rust (warm: probes cached), next to the one
# `cargo metadata` call it makes, so the share spent in cargo shows; then the no-op rebuild
# ratio (with the pre-flight checks every build runs) from bench/build-noop.sh.
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
"$wf" -q doctor "$proj" >/dev/null 2>&1 || true   # warm the probe cache

hyperfine --warmup 3 --min-runs 30 -N --export-json "$work/doctor.json" "$@" \
    -n "cargo metadata" "cargo metadata --format-version 1 --manifest-path $proj/Cargo.toml --filter-platform wasm32-wasip1" \
    -n "wasmforge doctor" "$wf -q doctor $proj"

python3 - "$work/doctor.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
meta, doc = r["cargo metadata"], r["wasmforge doctor"]
print(f"doctor {doc['mean']*1000:.1f} ms; cargo metadata {meta['mean']*1000:.1f} ms "
      f"= {100*meta['mean']/doc['mean']:.0f}% of it; everything else {(doc['mean']-meta['mean'])*1000:.1f} ms")
PY
bench/build-noop.sh "$@"
