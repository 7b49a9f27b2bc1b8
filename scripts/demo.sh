#!/usr/bin/env bash
# Installs what is missing, builds and runs hosm's main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHOSM_BUILD_TESTS=OFF -DHOSM_BUILD_BENCH=OFF \
      -DHOSM_ENABLE_CUDA=OFF
cmake --build build -j"$(nproc)" --target demo
./build/examples/demo "$@"
