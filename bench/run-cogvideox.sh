#!/bin/bash
# CogVideoX 1.5 on the device (bench/RESULTS.md, issue 13), in two calls that
# share the build and the converted file while the machine stays warm:
#   bench/run-cogvideox.sh forward      build, CUDA tests, D=64 attention vs torch, one transformer
#                                       forward at 1360x768x81 (dense, Sparse VideoGen) vs diffusers
#   bench/run-cogvideox.sh generate N   the whole generation with N steps: svg-run (Sparse VideoGen,
#                                       then --no-svg) vs diffusers' CogVideoXPipeline
# Outputs go to $OUT (default /tmp).
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp}
B=build-dev
CFG=bench/configs/cogvideox1.5-5b-pipeline
TOK=tests/data/tokenizer_spm/spm_unigram.model
PIPE=/tmp/cogvideox15-pipeline.gguf
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv,noheader
if [ ! -x $B/svg-run ]; then
  t0=$(date +%s)
  cmake -S . -B $B -DSVG_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a >/dev/null || exit 1
  cmake --build $B -j16 --target svg-run svg-convert svg-bench test-cogvideox test-cogvideox-vae test-svg-run test-backend-ops \
    test-wan test-sampler test-wan-vae 2>&1 | grep -E "error|warning: " | head -20
  echo "build: $(( $(date +%s) - t0 )) s"
fi
if [ ! -f $PIPE ]; then
  t0=$(date +%s)
  $B/svg-convert -q --random $CFG --tokenizer $TOK --type bf16 -o $PIPE || { echo "convert failed"; exit 1; }
  echo "convert: $(( $(date +%s) - t0 )) s, $(du -h $PIPE | cut -f1)"
fi
case "${1:-forward}" in
forward)
  for t in test-cogvideox test-cogvideox-vae test-wan test-sampler test-wan-vae test-svg-run test-backend-ops; do
    timeout 300 $B/$t --gtest_brief=1 2>&1 | grep -E "FAILED|PASSED|SKIPPED|rel L2" | head -20
  done
  $B/svg-bench --only cogvideox1.5 --reps 10 | tee $OUT/ops.txt
  python3 bench/torch_bench.py --only cogvideox1.5 2>&1 | tail -12 | tee -a $OUT/ops.txt
  $B/svg-bench --model $PIPE --width 1360 --height 768 --frames 81 --reps 3 --svg 0.3 --svg-dense-layers 0 | tee $OUT/forward.txt
  python3 bench/diffusers_cogvideox_bench.py forward $CFG --reps 3 2>&1 | tail -1 | tee -a $OUT/forward.txt
  ;;
generate)
  N=${2:-10}
  timeout 400 $B/svg-run $PIPE "a cat surfing a wave" --steps $N -o /tmp/cog-svg.avi --json -q | tee $OUT/generation.jsonl
  python3 bench/diffusers_cogvideox_bench.py pipeline $CFG --steps $N 2>&1 | tail -1 | tee -a $OUT/generation.jsonl
  timeout 300 $B/svg-run $PIPE "a cat surfing a wave" --steps $N --no-svg -o /tmp/cog-dense.avi --json -q | tee -a $OUT/generation.jsonl
  ;;
esac
