#!/usr/bin/env bash
# Installs what is missing, builds hosm's tests (host and, where nvcc is
# present, the CUDA test binary) and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export PATH="$PATH:/usr/local/cuda/bin"
jobs=$(nproc)
# OpenMP threads spin while waiting by default; on a shared 2-core machine that
# makes the omp test instances slow. Passive waiting keeps them fast.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHOSM_BUILD_BENCH=OFF
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
