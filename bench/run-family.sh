#!/bin/bash
# CogVideoX 1.5 and HunyuanVideo on the device (bench/RESULTS.md, issues 13
# and 14), each mode one device call; the build and the converted files are
# reused while the machine stays warm:
#   bench/run-family.sh FAMILY check        build, the CUDA suites (bench/cuda-suites.sh), the family's
#                                           ops (attention, GEMMs, norms) vs torch
#   bench/run-family.sh FAMILY forward      one real-size transformer forward (dense, Sparse VideoGen)
#                                           vs diffusers
#   bench/run-family.sh FAMILY profile [LAYERS]  the transformer cut to LAYERS blocks at the real size:
#                                           time per kind of op (SVG_PROFILE=1), and diffusers on the cut
#   bench/run-family.sh FAMILY generate N   the whole generation with N steps: svg-run (Sparse VideoGen,
#                                           then --no-svg unless DENSE=0) vs the diffusers pipeline, same steps
#   bench/run-family.sh cogvideox t5        T5 v1.1 XXL at real size (226 tokens) vs transformers
# FAMILY: cogvideox (1360x768x81, the 5B) or hunyuan (1280x720x129, the 13B with Llama-3-8B and CLIP-L).
# Random real-size weights from bench/configs, written to $PIPE_DIR (default
# /dev/shm when it has room: the disk writes ~200 MB/s); outputs go to $OUT
# (default /tmp). REPS: timed forwards per side (default 3).
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
if [ -z "${PIPE_DIR:-}" ]; then
  PIPE_DIR=/tmp
  [ "$(df -k --output=avail /dev/shm 2>/dev/null | tail -1)" -gt 60000000 ] 2>/dev/null && PIPE_DIR=/dev/shm
fi
PIPE=$PIPE_DIR/$FAMILY-pipeline.gguf
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv,noheader
df -h /tmp $PIPE_DIR | tail -n +2
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
check)
  bench/cuda-suites.sh $B
  $B/svg-bench --only $OPS --reps 10 | tee $OUT/ops.txt
  python3 bench/torch_bench.py --only $OPS 2>&1 | tail -12 | tee -a $OUT/ops.txt
  ;;
forward)
  rm -f $PIPE && convert forward
  $B/svg-bench --model $PIPE $SIZE --reps $REPS --svg 0.3 --svg-dense-layers 0 | tee $OUT/forward.txt
  rm -f $PIPE
  python3 bench/diffusers_${FAMILY}_bench.py forward $CFG $SIZE --reps $REPS 2>&1 | tail -1 | tee -a $OUT/forward.txt
  ;;
profile)
  # the transformer cut to LAYERS blocks (default 2; HunyuanVideo's single-stream blocks in the same
  # 1:2 share), each block at its real shapes: SVG_PROFILE's GPU time per kind of op, dense (--svg 0),
  # then dense + Sparse VideoGen in one process, and diffusers on the same cut config
  CUT=/tmp/$FAMILY-cut
  mkdir -p $CUT/transformer
  python3 - "$CFG/transformer/config.json" "$CUT/transformer/config.json" "${3:-2}" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); n = int(sys.argv[3]); f = n / c["num_layers"]
c["num_layers"] = n
if "num_single_layers" in c: c["num_single_layers"] = max(1, round(c["num_single_layers"] * f))
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
  $B/svg-convert -q --random $CUT/transformer/config.json --type bf16 -o $PIPE_DIR/$FAMILY-cut.gguf || { echo "convert failed"; exit 1; }
  SVG_PROFILE=1 $B/svg-bench --model $PIPE_DIR/$FAMILY-cut.gguf $SIZE --reps $REPS --svg 0 2>&1 | tee $OUT/profile-dense.txt
  SVG_PROFILE=1 $B/svg-bench --model $PIPE_DIR/$FAMILY-cut.gguf $SIZE --reps $REPS --svg 0.3 --svg-dense-layers 0 2>&1 | tee $OUT/profile-svg.txt
  rm -f $PIPE_DIR/$FAMILY-cut.gguf
  python3 bench/diffusers_${FAMILY}_bench.py forward $CUT $SIZE --reps $REPS 2>&1 | tail -1 | tee -a $OUT/profile-dense.txt
  ;;
generate)
  N=${3:-10}
  convert generate
  timeout 500 $B/svg-run $PIPE "a cat surfing a wave" $SIZE --steps $N -o /tmp/$FAMILY-svg.avi --json -q | tee $OUT/generation.jsonl
  python3 bench/diffusers_${FAMILY}_bench.py pipeline $CFG $SIZE --steps $N 2>&1 | tail -1 | tee -a $OUT/generation.jsonl
  [ "${DENSE:-1}" = 0 ] ||
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
*) echo "unknown mode $MODE (check, forward, profile [LAYERS], generate N, t5)"; exit 2 ;;
esac
