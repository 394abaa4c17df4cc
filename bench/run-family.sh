#!/bin/bash
# CogVideoX 1.5 and HunyuanVideo on the device (bench/RESULTS.md, issues 13
# and 14), each mode one device call; the build and the converted files are
# reused while the machine stays warm:
#   bench/run-family.sh FAMILY forward      build, the CUDA suites (bench/cuda-suites.sh), attention at the family's shape vs
#                                           torch, one real-size transformer forward (dense, Sparse
#                                           VideoGen) vs diffusers
#   bench/run-family.sh FAMILY generate N   the whole generation with N steps: svg-run (Sparse VideoGen,
#                                           then --no-svg) vs the diffusers pipeline, same steps
#   bench/run-family.sh cogvideox t5        T5 v1.1 XXL at real size (226 tokens) vs transformers
# FAMILY: cogvideox (1360x768x81, the 5B) or hunyuan (1280x720x129, the 13B with Llama-3-8B and CLIP-L).
# Random real-size weights from bench/configs; outputs go to $OUT (default /tmp).
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp}
FAMILY=${1:?family: cogvideox or hunyuan}
MODE=${2:-forward}
REPS=${REPS:-3}  # timed forwards per side
B=build-dev
case "$FAMILY" in
cogvideox)
  CFG=bench/configs/cogvideox1.5-5b-pipeline TOK="--tokenizer tests/data/tokenizer_spm/spm_unigram.model"
  SIZE="--width 1360 --height 768 --frames 81" OPS=cogvideox1.5 ;;
hunyuan)
  CFG=bench/configs/hunyuanvideo-pipeline TOK=""
  SIZE="--width 1280 --height 720 --frames 129" OPS=hunyuan-720p ;;
*) echo "unknown family $FAMILY (cogvideox, hunyuan)"; exit 2 ;;
esac
PIPE=/tmp/$FAMILY-pipeline.gguf
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv,noheader
df -h /tmp | tail -1
if [ ! -x $B/svg-run ]; then
  t0=$(date +%s)
  cmake -S . -B $B -DSVG_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a >/dev/null || exit 1
  cmake --build $B -j16 2>&1 |
    grep -E "error|warning: " | head -20
  echo "build: $(( $(date +%s) - t0 )) s"
fi
convert() {  # the whole pipeline for generate, the transformer alone (less disk, less time) for forward
  [ -f $PIPE ] && return 0
  t0=$(date +%s)
  if [ "$1" = forward ]; then
    $B/svg-convert -q --random $CFG/transformer/config.json --type bf16 -o $PIPE || { echo "convert failed"; exit 1; }
  else
    $B/svg-convert -q --random $CFG $TOK --type bf16 -o $PIPE || { echo "convert failed"; exit 1; }
  fi
  echo "convert: $(( $(date +%s) - t0 )) s, $(du -h $PIPE | cut -f1)"
}
case "$MODE" in
forward)
  bench/cuda-suites.sh $B
  $B/svg-bench --only $OPS --reps 10 | tee $OUT/ops.txt
  python3 bench/torch_bench.py --only $OPS 2>&1 | tail -12 | tee -a $OUT/ops.txt
  rm -f $PIPE && convert forward
  $B/svg-bench --model $PIPE $SIZE --reps $REPS --svg 0.3 --svg-dense-layers 0 | tee $OUT/forward.txt
  rm -f $PIPE
  python3 bench/diffusers_${FAMILY}_bench.py forward $CFG $SIZE --reps $REPS 2>&1 | tail -1 | tee -a $OUT/forward.txt
  ;;
generate)
  N=${3:-10}
  convert generate
  timeout 500 $B/svg-run $PIPE "a cat surfing a wave" $SIZE --steps $N -o /tmp/$FAMILY-svg.avi --json -q | tee $OUT/generation.jsonl
  python3 bench/diffusers_${FAMILY}_bench.py pipeline $CFG $SIZE --steps $N 2>&1 | tail -1 | tee -a $OUT/generation.jsonl
  timeout 500 $B/svg-run $PIPE "a cat surfing a wave" $SIZE --steps $N --no-svg -o /tmp/$FAMILY-dense.avi --json -q | tee -a $OUT/generation.jsonl
  ;;
t5)
  [ "$FAMILY" = cogvideox ] || { echo "t5 is the CogVideoX text encoder"; exit 2; }
  # the T5 path at real size against transformers (f32 reference of random bf16 weights)
  if python3 bench/t5_real_size_check.py $CFG /tmp/t5check 2>&1 | tail -1; then
    $B/svg-convert -q /tmp/t5check/text_encoder -o /tmp/t5check.gguf &&
    $B/svg-forward /tmp/t5check.gguf --component text_encoder --backend cuda --inputs /tmp/t5check/t5.safetensors --out /tmp/t5out.safetensors &&
    python3 -c "
from safetensors.torch import load_file
a = load_file('/tmp/t5out.safetensors')['last_hidden_state']; b = load_file('/tmp/t5check/t5.safetensors')['last_hidden_state']
print('T5 XXL 226 tokens, svg.cpp CUDA (bf16 weights) vs transformers f32: rel L2 %.3g' % ((a - b).norm() / b.norm()).item())" | tee $OUT/t5.txt
    rm -rf /tmp/t5check /tmp/t5check.gguf
  fi
  ;;
*) echo "unknown mode $MODE (forward, generate N, t5)"; exit 2 ;;
esac
