#!/bin/bash
# Full Wan 2.1 1.3B generation at real size, random weights (bench/RESULTS.md,
# issue 5): svg-run against diffusers' components in one device call.
#   bench/run-generation.sh BIN_DIR     (BIN_DIR holds svg-convert, svg-run)
set -u
BIN=${1:?binaries}
HERE="$(cd "$(dirname "$0")" && pwd)"
CFG="$HERE/configs/wan2.1-t2v-1.3b-pipeline"
TOK="$HERE/../tests/data/tokenizer_spm/spm_unigram.model"
PIPE=/tmp/wan13-pipeline.gguf
if [ ! -f "$PIPE" ]; then
  t0=$(date +%s)
  timeout 300 "$BIN/svg-convert" -q --random "$CFG" --tokenizer "$TOK" --type bf16 -o "$PIPE" || { echo "convert failed"; exit 1; }
  echo "convert: $(( $(date +%s) - t0 )) s, $(du -h $PIPE | cut -f1)"
fi
# svg-run with the model's defaults: 832x480, 81 frames, 50 steps, cfg 5,
# Sparse VideoGen on; SVG_RUN_ARGS adds options (e.g. --no-svg)
timeout 400 "$BIN/svg-run" "$PIPE" "a cat surfing a wave" -o /tmp/cat-svg.avi --json -q ${SVG_RUN_ARGS:-} | tee -a "${OUT:-/tmp}/generation.jsonl"
