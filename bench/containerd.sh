#!/usr/bin/env bash
# Benchmark: the wasmforge containerd shim against runc, on the same containerd (Debian's 1.6,
# started here as root with its own root, state and socket in a temp folder, native snapshotter),
# one after the other, alternating:
# - start to exit: `ctr run --rm` of examples/hello-rust, as a Wasm image (`push --layout image`)
#   on `io.containerd.wasmforge.v1`, and as a native static binary (the same program built for
#   x86_64 Linux with crt-static) in a scratch image on runc (`io.containerd.runc.v2`); RUNS runs
#   each after one warm-up (which compiles the Wasm image ahead into containerd's store);
# - peak memory of the shim process (VmHWM) while one long-running container of each kind sleeps:
#   wasmforge's shim (the runwasi ttrpc server) vs containerd-shim-runc-v2, and of the container's
#   own process (Wasmtime and the guest vs the native program);
# - memory per container with MANY (10) of each kind sleeping: the proportional set size (PSS:
#   pages shared between processes, such as the binary's code, divided among them) of each
#   container's shim-side processes (wasmforge: the shim, runwasi's zygote and its helper; runc:
#   the shim) and of its own process.
# Aims (issue 30): start to exit ≤ 0.5× runc's; shim memory ≤ 0.5× runc's shim. Not a test.
# Needs root, containerd, ctr, runc, docker-registry, umoci, skopeo, gcc, python3, the Rust
# wasm32-wasip1 target. WF=path/to/wasmforge (built with --features containerd) skips the build;
# RUNS (20), MANY (10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "$(id -u)" = 0 ] || { echo "needs root (containerd)" >&2; exit 1; }
for tool in containerd ctr runc docker-registry umoci skopeo gcc python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
if [ -z "${WF:-}" ]; then
    cargo build --release --locked -p wasmforge --features containerd --quiet
    WF="$PWD/target/release/wasmforge"
fi
runs="${RUNS:-20}"
work="$(mktemp -d /tmp/wf-bench-ctd.XXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
export WASMFORGE_CACHE_DIR="$work/wf-cache"

# containerd of its own, the shim on its PATH.
mkdir -p "$work/bin"
ln -s "$WF" "$work/bin/containerd-shim-wasmforge-v1"
cat > "$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
TOML
PATH="$work/bin:$PATH" containerd --config "$work/config.toml" > "$work/containerd.log" 2>&1 &
pids+=($!)
ctr() { command ctr --address "$work/containerd.sock" "$@"; }
export CONTAINERD_SNAPSHOTTER=native
for _ in $(seq 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done

# A registry for both images.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work/registry" "$port" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
pids+=($!)
reg="127.0.0.1:$port"
for _ in $(seq 100); do curl -s "http://$reg/v2/" >/dev/null && break; sleep 0.1; done

echo "$("$WF" --version); $(containerd --version | awk '{print $3}'); $(runc --version | head -1)"

# The Wasm images: hello-rust and the probe (it sleeps), built for release.
cp -r examples/hello-rust "$work/hello-rust"
rm -rf "$work/hello-rust/target"
hello_wasm=$("$WF" -q --format json build --release "$work/hello-rust" | python3 -c 'import json,sys; print(json.load(sys.stdin)["artifacts"][0]["path"])')
cp -r tests/fixtures/sandbox-probe "$work/probe"
probe_wasm=$("$WF" -q --format json build --release "$work/probe" | python3 -c 'import json,sys; print(json.load(sys.stdin)["artifacts"][0]["path"])')
"$WF" -q push --layout image "$hello_wasm" "$reg/hello-wasm:1" >/dev/null
"$WF" -q push --layout image "$probe_wasm" "$reg/sleep-wasm:1" >/dev/null

# The native images: hello-rust for x86_64 Linux, static, and a static C program that sleeps,
# each alone in a scratch image (umoci), copied to the registry by skopeo.
(cd "$work/hello-rust" && RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --quiet --target x86_64-unknown-linux-gnu --target-dir "$work/native-target")
native_hello="$work/native-target/x86_64-unknown-linux-gnu/release/hello-rust"
printf '#include <unistd.h>\nint main(void){ sleep(60); return 0; }\n' > "$work/sleep.c"
gcc -static -O2 -o "$work/sleep" "$work/sleep.c"
scratch_image() { # NAME BINARY
    local layout="$work/oci-$1"
    umoci init --layout "$layout"
    umoci new --image "$layout:1"
    umoci unpack --rootless --image "$layout:1" "$work/bundle-$1" >/dev/null
    cp "$2" "$work/bundle-$1/rootfs/$1"
    umoci repack --image "$layout:1" "$work/bundle-$1"
    umoci config --image "$layout:1" --config.entrypoint "/$1"
    skopeo copy -q --dest-tls-verify=false "oci:$layout:1" "docker://$reg/$1:1"
}
scratch_image hello "$native_hello"
scratch_image sleep "$work/sleep"
echo "sizes: hello.wasm $(stat -c %s "$hello_wasm") bytes, native hello $(stat -c %s "$native_hello") bytes"

for image in hello-wasm sleep-wasm hello sleep; do
    ctr images pull --plain-http "$reg/$image:1" >/dev/null
done

# Start to exit, alternating; the first run of each is a warm-up.
python3 - "$work/containerd.sock" "$reg" "$runs" <<'PY'
import statistics, subprocess, sys, time
sock, reg, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def ctr_run(runtime, image, cid):
    argv = ["ctr", "--address", sock, "run", "--rm", "--runtime", runtime, f"{reg}/{image}:1", cid]
    started = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "CONTAINERD_SNAPSHOTTER": "native"})
    took = time.perf_counter() - started
    if out.returncode != 0 or "Hello" not in out.stdout:
        sys.exit(f"{runtime} {image}: exit {out.returncode}: {out.stdout} {out.stderr}")
    return took
kinds = [("io.containerd.wasmforge.v1", "hello-wasm", "wasm"), ("io.containerd.runc.v2", "hello", "runc")]
times = {name: [] for _, _, name in kinds}
for runtime, image, name in kinds:
    ctr_run(runtime, image, f"warm-{name}")
for i in range(runs):
    for runtime, image, name in kinds:
        times[name].append(ctr_run(runtime, image, f"{name}-{i}"))
for name in times:
    t = times[name]
    print(f"start to exit, {name:>4}: median {statistics.median(t)*1000:7.1f} ms, mean {statistics.mean(t)*1000:7.1f} ms, min {min(t)*1000:7.1f} ms ({len(t)} runs)")
print(f"ratio wasm/runc: median {statistics.median(times['wasm'])/statistics.median(times['runc']):.2f}x, mean {statistics.mean(times['wasm'])/statistics.mean(times['runc']):.2f}x")
PY

# Peak memory while a container of each kind sleeps.
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
ctr run -d --runtime io.containerd.wasmforge.v1 "$reg/sleep-wasm:1" mem-wasm /sandbox-probe.wasm sleep 60 >/dev/null
ctr run -d "$reg/sleep:1" mem-runc >/dev/null
sleep 2
wasm_shim=$(pgrep -f -- "-id mem-wasm" | head -1 || true)
runc_shim=$(pgrep -f -- "containerd-shim-runc-v2 -namespace default -id mem-runc" | head -1 || true)
wasm_task=$(ctr task ls | awk '$1=="mem-wasm" {print $2}')
runc_task=$(ctr task ls | awk '$1=="mem-runc" {print $2}')
ws=$(hwm "$wasm_shim"); rs=$(hwm "$runc_shim"); wt=$(hwm "$wasm_task"); rt=$(hwm "$runc_task")
echo "shim peak RSS: wasmforge ${ws} KiB, runc ${rs} KiB (ratio $(python3 -c "print(f'{$ws/$rs:.2f}')")x)"
echo "container process peak RSS: wasmforge (Wasmtime + guest) ${wt} KiB, native ${rt} KiB"
for id in mem-wasm mem-runc; do
    ctr task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
done
sleep 1
for id in mem-wasm mem-runc; do
    ctr task delete "$id" >/dev/null 2>&1 || true
    ctr containers rm "$id" >/dev/null 2>&1 || true
done
grep -o 'Shim peak memory usage was: [^"]*' "$work/containerd.log" | tail -1 | sed 's/^/last hello shim (its own report): /'

# Memory per container with MANY of each kind running.
many="${MANY:-10}"
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
for i in $(seq "$many"); do
    ctr run -d --runtime io.containerd.wasmforge.v1 "$reg/sleep-wasm:1" "many-wasm-$i" /sandbox-probe.wasm sleep 60 >/dev/null
    ctr run -d "$reg/sleep:1" "many-runc-$i" >/dev/null
done
sleep 2
wasm_shims=0; wasm_tasks=0; runc_shims=0; runc_tasks=0
for i in $(seq "$many"); do
    for p in $(pgrep -f -- "-id many-wasm-$i "); do
        if [ "$(cat "/proc/$p/comm")" = "youki:[2:INIT]" ]; then
            wasm_tasks=$((wasm_tasks + $(pss "$p")))
        else
            wasm_shims=$((wasm_shims + $(pss "$p")))
        fi
    done
    p=$(pgrep -f -- "containerd-shim-runc-v2 -namespace default -id many-runc-$i " | head -1)
    runc_shims=$((runc_shims + $(pss "$p")))
    t=$(ctr task ls | awk -v id="many-runc-$i" '$1==id {print $2}')
    runc_tasks=$((runc_tasks + $(pss "$t")))
done
echo "with $many of each running, PSS per container: shim side wasmforge $((wasm_shims / many)) KiB, runc $((runc_shims / many)) KiB (ratio $(python3 -c "print(f'{$wasm_shims/$runc_shims:.2f}')")x); the container's process wasmforge $((wasm_tasks / many)) KiB, native $((runc_tasks / many)) KiB"
for i in $(seq "$many"); do
    ctr task kill -s SIGKILL "many-wasm-$i" >/dev/null 2>&1 || true
    ctr task kill -s SIGKILL "many-runc-$i" >/dev/null 2>&1 || true
done
sleep 2
for i in $(seq "$many"); do
    for id in "many-wasm-$i" "many-runc-$i"; do
        ctr task delete "$id" >/dev/null 2>&1 || true
        ctr containers rm "$id" >/dev/null 2>&1 || true
    done
done
