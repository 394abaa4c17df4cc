#!/bin/bash
# bench/RESULTS.md's headline table in one device call (issue 15): every row
# ours against PyTorch in the same call, on the same card.
#   bench/run-all.sh [BIN_DIR]     (default build-dev: sm_90a binaries, built here when missing)
# Rows: dense attention at the Wan 480p / Wan 720p / HunyuanVideo / CogVideoX
# shapes vs cuDNN SDPA; the FFN GEMM at the Wan 14B 720p shape, bf16 and every
# quantized type, vs cuBLAS bf16 through torch; one Wan 1.3B 480p transformer
# forward (dense, Sparse VideoGen) vs diffusers; the whole Wan 1.3B 480p 81-frame
# 50-step generation (Sparse VideoGen default) vs diffusers' components, with its
# denoise and VAE decode split. Outputs go to $OUT (default /tmp): one file per
# part, and headline.txt with the ratios.
set -u
cd "$(dirname "$0")/.."
B=${1:-build-dev}
OUT=${OUT:-/tmp}
t_start=$(date +%s)
if [ ! -x "$B/svg-bench" ]; then
  cmake -S . -B "$B" -DSVG_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a >/dev/null &&
    cmake --build "$B" -j"$(nproc)" --target svg-bench svg-convert svg-run 2>&1 | grep -E "error" | head
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, diffusers; print('torch', torch.__version__, 'diffusers', diffusers.__version__)" | tee -a "$OUT/gpu.txt"

# ---- ops: attention and GEMM rows, ours then torch's
for only in "attention bf16 [" "wan14b-720p linear ffn-up"; do
  "$B/svg-bench" --only "$only" --reps 5
  python3 bench/torch_bench.py --only "$only" 2>&1 | grep -v "^torch "
done | tee "$OUT/ops.txt"

# ---- one Wan 1.3B 480p forward
"$B/svg-convert" -q --random --config bench/configs/wan2.1-t2v-1.3b.json --type bf16 -o /tmp/wan13-dit.gguf &&
  "$B/svg-bench" --model /tmp/wan13-dit.gguf --reps 3 --svg 0.3 | tee "$OUT/forward.txt"
rm -f /tmp/wan13-dit.gguf
python3 bench/diffusers_wan_bench.py bench/configs/wan2.1-t2v-1.3b.json --reps 3 --attention cudnn 2>&1 | tail -1 | tee -a "$OUT/forward.txt"

# ---- the whole generation: ours (bench/run-generation.sh), then diffusers'
OUT="$OUT" bench/run-generation.sh "$B"
python3 bench/diffusers_wan_pipeline_bench.py bench/configs/wan2.1-t2v-1.3b-pipeline --attention cudnn 2>&1 | tail -1 |
  tee -a "$OUT/generation.jsonl"

# ---- the table: our time / torch's for each row both sides printed
python3 - "$OUT" <<'PY' | tee "$OUT/headline.txt"
import json, re, sys
out = sys.argv[1]
rows = {}
for line in open(f"{out}/ops.txt"):
    m = re.match(r"(\S.*?\])\s+([\d.]+)\s", line)
    if m and not line.startswith(("backend", "op ")):
        rows.setdefault(m.group(1), []).append(float(m.group(2)))
print("| row | ours (ms) | torch (ms) | ratio |\n|---|---:|---:|---:|")
bf16 = [v[1] for k, v in rows.items() if "linear ffn-up bf16" in k and len(v) == 2]
for k, v in rows.items():
    if len(v) == 2:
        print(f"| {k} | {v[0]:.2f} | {v[1]:.2f} | {v[0] / v[1]:.2f} |")
    elif "linear ffn-up" in k and bf16:  # quantized weights: against torch's bf16 GEMM
        print(f"| {k} | {v[0]:.2f} | (bf16) {bf16[0]:.2f} | {v[0] / bf16[0]:.2f} |")
fw = open(f"{out}/forward.txt").read()
ours = re.findall(r"(dense attention|Sparse VideoGen attention[^:]*): ([\d.]+) ms", fw)
theirs = re.findall(r": ([\d.]+) ms", fw.splitlines()[-1]) if fw.strip() else []
for what, ms in ours:
    if theirs:
        print(f"| Wan 1.3B 480p forward, {what} | {float(ms):.1f} | {float(theirs[0]):.1f} | {float(ms) / float(theirs[0]):.2f} |")
gen = [json.loads(l) for l in open(f"{out}/generation.jsonl") if l.startswith("{")]
if len(gen) >= 2:
    o, d = gen[-2], gen[-1]
    for k_ours, k_theirs, name in (("total_s", "total_s", "generation"), ("denoise_s", "denoise_s", "denoise"),
                                   ("decode_s", "decode_s", "VAE decode")):
        if k_ours in o and k_theirs in d:
            print(f"| Wan 1.3B 480p 81f 50 steps, {name} (s) | {o[k_ours]:.1f} | {d[k_theirs]:.1f} | {o[k_ours] / d[k_theirs]:.2f} |")
PY
echo "run-all: $(( $(date +%s) - t_start )) s"
