#!/usr/bin/env bash
# Benchmark: push and pull of a ~2.4 MB module (Go hello, debug) and a 20 MB module through a
# local distribution registry, wasmforge side by side with `skopeo copy` and the oras Python SDK
# in one hyperfine run each. Every push starts from empty registry storage, so each tool really
# uploads; pulls read what wasmforge pushed. Ratios are what count (timings here are noisy).
# Needs: hyperfine, docker-registry, skopeo, python3 with `oras` (pip install oras), go.
# Usage: bench/push-pull.sh [hyperfine options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in hyperfine docker-registry skopeo go; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
python3 -c 'import oras.client' 2>/dev/null || { echo "needs the oras SDK: pip install oras" >&2; exit 1; }

cargo build --release --locked -p wasmforge --quiet
wf="$PWD/target/release/wasmforge"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
reg="127.0.0.1:$port"
data="$work/data"
cat > "$work/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $data
http:
  addr: $reg
YAML
docker-registry serve "$work/config.yml" >/dev/null 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT
sleep 1

# The modules: Go hello (debug) and 20 MB (a custom section of incompressible bytes).
cp -r examples/hello-go "$work/hello-go"
go_wasm="$("$wf" -q build "$work/hello-go" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["artifacts"][0]["path"])')"
cp "$go_wasm" "$work/go-hello.wasm"
python3 - "$work/big.wasm" <<'PY'
import os, sys
payload = os.urandom(20 * 1024 * 1024)
name = b"bench"
body = bytes([len(name)]) + name + payload
def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n: return bytes(out)
open(sys.argv[1], "wb").write(b"\0asm\x01\0\0\0" + b"\0" + leb(len(body)) + body)
PY

cat > "$work/oras_push.py" <<'PY'
import json, os, sys, oras.client
host, file = sys.argv[1], sys.argv[2]
os.chdir(os.path.dirname(file))
with open("config.json", "w") as f:
    json.dump({"architecture": "wasm", "os": "wasip1"}, f)
oras.client.OrasClient(hostname=host, insecure=True).push(
    target=f"{host}/bench-oras:1", files=[os.path.basename(file) + ":application/wasm"],
    manifest_config="config.json:application/vnd.wasm.config.v0+json", disable_path_validation=True)
PY
cat > "$work/oras_pull.py" <<'PY'
import sys, oras.client
host, out = sys.argv[1], sys.argv[2]
oras.client.OrasClient(hostname=host, insecure=True).pull(target=f"{host}/bench-wf:1", outdir=out)
PY

for module in go-hello big; do
    file="$work/$module.wasm"
    echo "== $module.wasm: $(du -h "$file" | cut -f1)"
    SOURCE_DATE_EPOCH=1700000000 "$wf" -q push "$file" "oci:$work/layout-$module:1" >/dev/null
    hyperfine --warmup 1 --min-runs 10 -N "$@" --prepare "rm -rf $data/docker" \
        --export-json "$work/push-$module.json" \
        -n "wasmforge push" "$wf -q push $file $reg/bench-wf:1" \
        -n "skopeo copy" "skopeo copy -q --dest-tls-verify=false oci:$work/layout-$module:1 docker://$reg/bench-skopeo:1" \
        -n "oras SDK push" "python3 $work/oras_push.py $reg $file"
    "$wf" -q push "$file" "$reg/bench-wf:1" >/dev/null
    hyperfine --warmup 1 --min-runs 10 -N "$@" --prepare "rm -rf $work/out" \
        --export-json "$work/pull-$module.json" \
        -n "wasmforge pull" "$wf -q pull $reg/bench-wf:1 -o $work/out.wasm" \
        -n "skopeo copy" "skopeo copy -q --src-tls-verify=false docker://$reg/bench-wf:1 oci:$work/out:1" \
        -n "oras SDK pull" "python3 $work/oras_pull.py $reg $work/out"
    python3 - "$work/push-$module.json" "$work/pull-$module.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    r = {x["command"]: x["mean"] for x in json.load(open(path))["results"]}
    wf = next(v for k, v in r.items() if k.startswith("wasmforge"))
    print("  " + ", ".join(f"{k} {v*1000:.0f} ms ({wf/v:.2f}x)" for k, v in r.items()))
PY
done
