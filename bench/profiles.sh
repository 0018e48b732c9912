#!/usr/bin/env bash
# Benchmark: two wasmforge binaries side by side (e.g. built with the `release` and the `install`
# profile): what a build profile costs where users feel it —
#   run, cold   Go hello with an empty compile cache (Cranelift compiling 2.3 MB)
#   run, warm   Rust hello, cache warm
#   opt -Oz     Go hello (Binaryen's C++)
# hyperfine, alternating the two binaries in one run; prints the ratios B/A. Not a test.
# Usage: bench/profiles.sh A B     (e.g. target/release/wasmforge target/install/wasmforge)
# Needs hyperfine, jq, go.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ $# -eq 2 ] || { echo "usage: bench/profiles.sh WASMFORGE_A WASMFORGE_B" >&2; exit 2; }
a="$(realpath "$1")"; b="$(realpath "$2")"
for tool in hyperfine jq go; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r examples/hello-go examples/hello-rust "$work/"
go_wasm=$("$a" -q --format json build --release "$work/hello-go" | jq -r '.artifacts[0].path')
go_core=$("$a" -q --format json build --release --no-opt "$work/hello-go" | jq -r '.artifacts[0].path')
cp "$go_core" "$work/go-core.wasm"
rust_wasm=$("$a" -q --format json build --release "$work/hello-rust" | jq -r '.artifacts[0].path')
mkdir -p "$work/cache-a" "$work/cache-b"
WASMFORGE_CACHE_DIR="$work/cache-a" "$a" run "$rust_wasm" >/dev/null
WASMFORGE_CACHE_DIR="$work/cache-b" "$b" run "$rust_wasm" >/dev/null

hyperfine -N --warmup 1 --runs 10 --export-json "$work/cold.json" \
    --prepare "rm -rf $work/cold" \
    -n A "env WASMFORGE_CACHE_DIR=$work/cold $a run -q $go_wasm" \
    -n B "env WASMFORGE_CACHE_DIR=$work/cold $b run -q $go_wasm" >/dev/null
hyperfine -N --warmup 10 --runs 100 --export-json "$work/warm.json" \
    -n A "env WASMFORGE_CACHE_DIR=$work/cache-a $a run -q $rust_wasm" \
    -n B "env WASMFORGE_CACHE_DIR=$work/cache-b $b run -q $rust_wasm" >/dev/null
# WASMFORGE_CACHE_DIR empty per run: opt's result cache must not answer.
hyperfine -N --warmup 1 --runs 10 --export-json "$work/opt.json" \
    --prepare "rm -rf $work/optcache" \
    -n A "env WASMFORGE_CACHE_DIR=$work/optcache $a -q opt -Oz $work/go-core.wasm -o $work/a.wasm" \
    -n B "env WASMFORGE_CACHE_DIR=$work/optcache $b -q opt -Oz $work/go-core.wasm -o $work/b.wasm" >/dev/null
cmp -s "$work/a.wasm" "$work/b.wasm" && echo "opt output: identical" || echo "opt output: differs"

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
for name, label in [("cold", "run, cold (Go hello)"), ("warm", "run, warm (Rust hello)"), ("opt", "opt -Oz (Go hello)")]:
    r = {x["command"]: (x["mean"] * 1000, x["stddev"] * 1000) for x in json.load(open(os.path.join(work, name + ".json")))["results"]}
    (a, sa), (b, sb) = r["A"], r["B"]
    print(f"{label:24} A {a:8.1f} ± {sa:5.1f} ms   B {b:8.1f} ± {sb:5.1f} ms   B/A {b/a:.3f}")
PY
