#!/bin/bash
# CogVideoX 1.5 on the device (bench/RESULTS.md, issue 13), in two calls that
# share the build and the converted file while the machine stays warm:
#   bench/run-cogvideox.sh forward      build, CUDA tests, D=64 attention vs torch, one transformer
#                                       forward at 1360x768x81 (dense, Sparse VideoGen) vs diffusers
#   bench/run-cogvideox.sh generate N   the whole generation with N steps: svg-run (Sparse VideoGen,
#                                       then --no-svg) vs diffusers' CogVideoXPipeline
#   bench/run-cogvideox.sh t5           T5 v1.1 XXL at real size (226 tokens) vs transformers
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
    test-wan test-sampler test-wan-vae test-umt5 test-embed-api svg-forward 2>test-wan test-sampler test-wan-vae svg-forward 2>&11 | grep -E "error|warning: " | head -20
  echo "build: $(( $(date +%s) - t0 )) s"
fi
if [ "${1:-forward}" != t5 ] && [ ! -f $PIPE ]; then
  t0=$(date +%s)
  $B/svg-convert -q --random $CFG --tokenizer $TOK --type bf16 -o $PIPE || { echo "convert failed"; exit 1; }
  echo "convert: $(( $(date +%s) - t0 )) s, $(du -h $PIPE | cut -f1)"
fi
case "${1:-forward}" in
forward)
  for t in test-cogvideox test-cogvideox-vae test-wan test-sampler test-wan-vae test-umt5 test-embed-api test-svg-run test-backend-ops; do
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
t5)
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
esac
