#!/usr/bin/env bash
# EMT Table 1 (N = 128, L2 = 0, the four reference tasks, 5 seeds each) on this machine, in one
# command: trains the grid of docs/table1/spec.json with `emt sweep` (resumable: rerun after an
# interruption), writes the table and the decoding comparison into docs/REPRODUCTION.md with
# `emt table --decoding`, and redraws the figures of the EMT section from seed 0's networks.
#   tools/table1.sh [OUT_DIR]      (default runs/table1; about 25 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/table1}"
cargo build --release -q -p emt-cli
EMT=target/release/emt
start=$(date +%s)
"$EMT" sweep --spec docs/table1/spec.json --out "$OUT"
echo "sweep wall time: $(( $(date +%s) - start )) s"
"$EMT" table --results "$OUT/results.jsonl" --markdown docs/REPRODUCTION.md --json docs/table1/table.json --decoding
cp "$OUT/results.jsonl" docs/table1/results.jsonl
X=9241421688590303745
W="$OUT/weights/task${X}-262676-189_s8_d8_n128_l20_th0.96_seed0.safetensors"
"$EMT" plot memory --weights "$W" --out docs/table1/memory_composition.png --horizon 24
"$EMT" plot spectrum --weights "$W" --out docs/table1/spectrum_composition.png
"$EMT" plot phi --weights "$W" --out docs/table1/phi_composition.png
"$EMT" plot decoding --weights "$W" --out docs/table1/decoding_composition.png
"$EMT" plot decoding --weights "$OUT/weights/task255-0-0_s8_d8_n128_l20_th0.96_seed0.safetensors" --out docs/table1/decoding_repeat_copy.png
