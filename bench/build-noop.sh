#!/usr/bin/env bash
# Benchmark: a no-op rebuild through `wasmforge build` vs `cargo build --target wasm32-wasip1`
# directly, side by side in one hyperfine run, plus `wasmforge --version` process time.
# Not part of the test suite: timings on shared machines are noisy, ratios are what count.
# Usage: bench/build-noop.sh [hyperfine options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

cargo build --release --locked -p wasmforge --quiet
wf="$PWD/target/release/wasmforge"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r examples/hello-rust "$work/"
proj="$work/hello-rust"
unset RUSTUP_TOOLCHAIN
# Warm both paths once so each measured run is a no-op.
(cd "$proj" && cargo build --quiet --target wasm32-wasip1 && "$wf" -q build >/dev/null)

hyperfine --warmup 5 --min-runs 40 -N --export-json "$work/noop.json" "$@" \
    -n "cargo build --target wasm32-wasip1" "cargo build --quiet --manifest-path $proj/Cargo.toml --target wasm32-wasip1" \
    -n "wasmforge build" "$wf -q build $proj"
hyperfine --warmup 5 --min-runs 100 -N "$@" -n "wasmforge --version" "$wf --version"

python3 - "$work/noop.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
cargo, wf = r["cargo build --target wasm32-wasip1"], r["wasmforge build"]
print(f"no-op rebuild: cargo {cargo['mean']*1000:.1f} ms, wasmforge {wf['mean']*1000:.1f} ms, "
      f"ratio {wf['mean']/cargo['mean']:.2f}x, difference {(wf['mean']-cargo['mean'])*1000:.1f} ms")
PY
