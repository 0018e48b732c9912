#!/usr/bin/env bash
# Benchmark: a file-heavy guest under `wasmforge run` vs `wasmtime run` (the same module, both
# with their compiled-code cache warm) — the guest walks a tree of 20 folders × 50 small files,
# opens, stats and reads each (1,000 files) and prints a count and a checksum. Side by side in
# one hyperfine run, then the context switches of one run of each (GNU time's %w/%c), which
# show whether each WASI file call crosses threads. Both for a wasip1 module and a wasip2
# component. Aim: ≤ 1.0× the Wasmtime CLI's time, with warm start unchanged.
# Not part of the test suite: timings on shared machines are noisy, ratios are what count.
# Usage: bench/io.sh [hyperfine options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/common.sh
need_hyperfine
need_wasmtime
release_wasmforge

# The guest: walk a folder recursively, read every file.
mkdir -p "$work/walker/src"
cat > "$work/walker/Cargo.toml" <<'TOML'
[package]
name = "walker"
version = "0.1.0"
edition = "2021"

[workspace]
TOML
cat > "$work/walker/src/main.rs" <<'RS'
use std::{fs, io::Read, path::Path};

fn walk(dir: &Path, files: &mut u64, sum: &mut u64) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("read_dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        let meta = fs::metadata(&path).expect("metadata");
        if meta.is_dir() {
            walk(&path, files, sum);
        } else {
            let mut bytes = Vec::new();
            fs::File::open(&path).expect("open").read_to_end(&mut bytes).expect("read");
            *files += 1;
            *sum = bytes.iter().fold(*sum, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
        }
    }
}

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| "/data".into());
    let (mut files, mut sum) = (0, 0);
    walk(Path::new(&root), &mut files, &mut sum);
    println!("{files} files, checksum {sum:x}");
}
RS
for d in $(seq -w 1 20); do
    mkdir -p "$work/tree/d$d"
    for f in $(seq -w 1 50); do
        head -c $((200 + 10#$f * 37)) /dev/urandom > "$work/tree/d$d/f$f.txt"
    done
done

for target in wasip1 wasip2; do
    "$wf" -q build --release --target "$target" "$work/walker" >/dev/null
    wasm="$work/walker/target/wasmforge/$target/release/walker.wasm"
    cp "$wasm" "$work/walker-$target.wasm"
done

for target in wasip1 wasip2; do
    wasm="$work/walker-$target.wasm"
    wf_cmd="$wf run --dir $work/tree::/data $wasm /data"
    wt_cmd="$wasmtime run -C cache=y --dir $work/tree::/data $wasm /data"
    # Same answer from both, and warm caches.
    a="$($wf_cmd)"; b="$($wt_cmd)"
    [ "$a" = "$b" ] || { echo "outputs differ: wasmforge '$a' vs wasmtime '$b'" >&2; exit 1; }
    echo "== $target: $a ($(stat -c %s "$wasm") bytes); $("$wasmtime" --version)"
    hyperfine --warmup 5 --min-runs 30 -N --export-json "$work/io-$target.json" "$@" \
        -n "wasmtime run" "$wt_cmd" \
        -n "wasmforge run" "$wf_cmd" >&2
    switches() { /usr/bin/time -f '%w %c' "$@" 2>&1 >/dev/null | tail -1; }
    python3 - "$work/io-$target.json" "$(switches $wt_cmd)" "$(switches $wf_cmd)" <<'PY'
import json, sys
r = {x["command"]: x["mean"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
wt, wf = r["wasmtime run"], r["wasmforge run"]
wt_v, wt_i = sys.argv[2].split()
wf_v, wf_i = sys.argv[3].split()
print(f"wall: wasmtime {wt:.1f} ms, wasmforge {wf:.1f} ms — wasmforge/wasmtime {wf/wt:.2f}x")
print(f"context switches (voluntary/involuntary): wasmtime {wt_v}/{wt_i}, wasmforge {wf_v}/{wf_i}")
PY
done
