#!/usr/bin/env bash
# Benchmark: wasmforge opt vs the Binaryen CLI (Debian's `binaryen`, with explicit --enable
# flags) at the same level on the same modules — output size (must be <= the CLI's) and time;
# and wasmforge validate vs `wasm-tools validate` on a module of ~20 MB (ripgrep, debug, wasip1).
# Needs: hyperfine, binaryen (apt), wasm-tools (cargo install --locked wasm-tools), go, clang-16.
# Not part of the test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in hyperfine wasm-opt wasm-tools; do
    command -v "$tool" >/dev/null || { echo "needs $tool (see the header of this script)" >&2; exit 1; }
done
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

# ~20 MB module: ripgrep built for wasip1 in debug.
cargo install --quiet --debug --locked ripgrep --target wasm32-wasip1 --root "$work/rg" 2>/dev/null
big="$work/rg/bin/rg.wasm"
echo "validate: $(basename "$big") $(stat -c %s "$big") bytes"
hyperfine --warmup 2 --min-runs 10 -N --export-json "$work/validate.json" \
    -n "wasm-tools validate" "wasm-tools validate $big" \
    -n "wasmforge validate" "$wf -q validate $big"
python3 - "$work/validate.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print(f"validate ratio wasmforge/wasm-tools: {r['wasmforge validate']/r['wasm-tools validate']:.2f}x "
      f"({r['wasmforge validate']:.0f} ms vs {r['wasm-tools validate']:.0f} ms)")
PY
