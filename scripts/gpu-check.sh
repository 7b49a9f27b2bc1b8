#!/usr/bin/env bash
# GPU check of the CUDA back end, for a machine with an NVIDIA GPU: configures
# and builds hosm_cuda_tests only (no host tests, examples or benchmarks), runs
# it once plainly and once under compute-sanitizer's memcheck tool.
#
#   bash scripts/gpu-check.sh [doctest options, e.g. -tc="cuda/*"]
#
# Environment:
#   HOSM_GPU_BUILD_DIR      build directory (default build-cuda)
#   HOSM_CUDA_ARCHITECTURES CUDA architectures (default: the GPU's compute
#                           capability from nvidia-smi, else 90)
#   HOSM_GPU_JOBS           parallel compile jobs (default: nproc; nvcc needs
#                           about 1.5 GB of memory per job)
#   HOSM_SANITIZER_TOOL     compute-sanitizer tool (default memcheck)
# Exit status: 0 when the build, the plain run and the memcheck run all pass;
# 77 when there is no GPU (nothing was checked); the failing step's status
# otherwise. Unlike ctest, a skipped run (hosm_cuda_tests exiting 77 because it
# found no device) counts as a failure here.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU visible (nvidia-smi -L failed); nothing checked" >&2
  exit 77
fi
nvidia-smi -L

build=${HOSM_GPU_BUILD_DIR:-build-cuda}
arch=${HOSM_CUDA_ARCHITECTURES:-}
if [[ -z $arch ]]; then
  cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')
  arch=${cap:-90}
fi
jobs=${HOSM_GPU_JOBS:-$(nproc)}

sanitizer=$(command -v compute-sanitizer || true)
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [[ -n $sanitizer ]] && break
  [[ -x $c ]] && sanitizer=$c
done
if [[ -z $sanitizer ]]; then
  echo "gpu-check: compute-sanitizer not found (install the CUDA toolkit's cuda-sanitizer package)" >&2
  exit 2
fi

echo "gpu-check: building hosm_cuda_tests for sm_$arch in $build with $jobs jobs"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHOSM_BUILD_EXAMPLES=OFF \
      -DHOSM_BUILD_BENCH=OFF -DHOSM_ENABLE_CUDA=ON "-DHOSM_CUDA_ARCHITECTURES=$arch"
start=$SECONDS
cmake --build "$build" --target hosm_cuda_tests -j"$jobs"
echo "gpu-check: built in $((SECONDS - start)) s"
bin="$build/tests/cuda/hosm_cuda_tests"

run() {  # run NAME CMD...: treats exit 77 (no device) as a failure
  local name=$1 rc=0; shift
  echo "gpu-check: $name: $*"
  "$@" || rc=$?
  if ((rc == 77)); then
    echo "gpu-check: $name: hosm_cuda_tests found no CUDA device although nvidia-smi sees one" >&2
    exit 1
  elif ((rc != 0)); then
    echo "gpu-check: $name failed with status $rc" >&2
    exit "$rc"
  fi
}

run "plain run" "$bin" "$@"
run "${HOSM_SANITIZER_TOOL:-memcheck}" "$sanitizer" --tool "${HOSM_SANITIZER_TOOL:-memcheck}" \
    --error-exitcode 3 --print-limit 20 "$bin" "$@"
echo "gpu-check: all passed"
