#!/bin/bash
# Device runs without building on the device (bench/RESULTS.md, session 23).
#   bench/devbin.sh build     here (no GPU needed): build every target for sm_90a as shared
#                             libraries in build-dev, copy the binaries and the two libraries,
#                             stripped, to devbin/, and fetch diffusers' wheel into .whl/
#                             (both git-ignored; carry ["devbin", ".whl"], ~35 MB)
#   source bench/devbin.sh env   on the device, first in the command: build-dev points at
#                             devbin/, the tests' absolute data path (this checkout's, compiled
#                             in) points at the device's copy, the libraries and wheels are found
case "${1:-}" in
build)
  cd "$(dirname "$0")/.." || exit 1
  grep -qx '/devbin/' .git/info/exclude 2>/dev/null || echo /devbin/ >> .git/info/exclude
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
  cmake -S . -B build-dev -DSVG_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a -DBUILD_SHARED_LIBS=ON >/dev/null &&
    cmake --build build-dev -j"$(nproc)" 2>&1 | grep -E "error|warning: " | head -20
  rm -rf devbin && mkdir devbin
  for f in build-dev/*; do [ -f "$f" ] && [ -x "$f" ] && cp "$f" devbin/; done
  cp build-dev/*.so build-dev/demo.gguf devbin/ 2>/dev/null
  strip --strip-unneeded devbin/* 2>/dev/null
  [ -n "$(ls .whl/diffusers-* 2>/dev/null)" ] ||
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      -d .whl diffusers==0.42.1 regex importlib_metadata zipp
  du -sh devbin .whl
  ;;
env)
  # the binaries look for the tests' data and their own folder where they were built
  here=$(pwd)
  built=$(grep -a -o -m1 '/[[:alnum:]/_.+-]*/tests/data' devbin/test-svg-run 2>/dev/null | head -1 | sed 's|/tests/data$||')
  [ -n "$built" ] && [ ! -e "$built" ] && mkdir -p "$(dirname "$built")" && ln -s "$here" "$built"
  ln -sfn devbin build-dev
  export LD_LIBRARY_PATH="$here/devbin:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  if ls .whl/*.whl >/dev/null 2>&1; then
    if python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl; then
      export PYTHONPATH=/tmp/site
    else
      echo "devbin.sh: the wheels in .whl/ did not install (fetched for the device's Python 3.12)"
    fi
  fi
  true
  ;;
*) echo "usage: bench/devbin.sh build | source bench/devbin.sh env"; return 2 2>/dev/null || exit 2 ;;
esac
