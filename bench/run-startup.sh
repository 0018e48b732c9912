#!/usr/bin/env bash
# Benchmark: process wall time and peak memory of `wasmforge run hello.wasm` (compile cache warm)
# vs `wasmtime run hello.wasm` (the Wasmtime CLI of the same version, its cache on) vs a native
# hello binary, side by side in one hyperfine run. Not part of the test suite.
# Needs hyperfine and the Wasmtime CLI: cargo install --locked wasmtime-cli@48.0.8
# Usage: bench/run-startup.sh [path/to/wasmtime]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
wasmtime="${1:-$(command -v wasmtime || echo /opt/wasmtime-cli/bin/wasmtime)}"
[ -x "$wasmtime" ] || { echo "needs the Wasmtime CLI: cargo install --locked wasmtime-cli@48.0.8" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
unset RUSTUP_TOOLCHAIN

cargo build --release --locked -p wasmforge --quiet
wf="$PWD/target/release/wasmforge"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r examples/hello-rust "$work/"
"$wf" -q build --release "$work/hello-rust" >/dev/null
wasm="$work/hello-rust/target/wasmforge/wasip1/release/hello-rust.wasm"
rustc -O -o "$work/hello-native" "$work/hello-rust/src/main.rs"
export WASMFORGE_CACHE_DIR="$work/wf-cache"

# Warm both caches (Wasmtime's cache is on by default in its CLI).
"$wf" run "$wasm" >/dev/null
"$wasmtime" run -C cache=y "$wasm" >/dev/null

echo "module: $wasm ($(stat -c %s "$wasm") bytes); $("$wasmtime" --version)"
hyperfine --warmup 10 --min-runs 100 -N --export-json "$work/run.json" \
    -n "native" "$work/hello-native" \
    -n "wasmtime run" "$wasmtime run -C cache=y $wasm" \
    -n "wasmforge run" "$wf run $wasm"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
python3 - "$work/run.json" "$(rss "$work/hello-native")" "$(rss "$wasmtime" run -C cache=y "$wasm")" "$(rss "$wf" run "$wasm")" <<'PY'
import json, sys
r = {x["command"]: x["mean"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
native, wt, wf = r["native"], r["wasmtime run"], r["wasmforge run"]
rss_native, rss_wt, rss_wf = (int(x) for x in sys.argv[2:5])
print(f"wall: native {native:.2f} ms, wasmtime {wt:.2f} ms, wasmforge {wf:.2f} ms")
print(f"ratios: wasmforge/wasmtime {wf/wt:.2f}x, wasmforge/native {wf/native:.1f}x")
print(f"max RSS: native {rss_native} KiB, wasmtime {rss_wt} KiB, wasmforge {rss_wf} KiB "
      f"(wasmforge/wasmtime {rss_wf/rss_wt:.2f}x)")
PY
