#!/usr/bin/env bash
# Developer convenience: compiles the given test files (paths under tests/)
# with the doctest main into one binary and runs it, without building the
# whole suite. Extra doctest options follow `--`.
#   bash scripts/test-one.sh tests/hessian/low_rank.test.cpp [more.test.cpp] [-- -tc="*woodbury*"]
set -euo pipefail
cd "$(dirname "$0")/.."
srcs=(); args=()
while (($#)); do
  if [[ $1 == -- ]]; then shift; args=("$@"); break; fi
  srcs+=("$1"); shift
done
((${#srcs[@]})) || { echo "usage: $0 tests/x.test.cpp ... [-- doctest options]" >&2; exit 2; }
out=${HOSM_ONE_DIR:-/tmp/hosm-one-$(id -u)}
mkdir -p "$out"
flags=(-std=gnu++20 -O2 -fopenmp -Wall -Wextra -DHOSM_HAS_OPENMP=1
       -DTHRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_CPP -Itests -Iinclude
       -isystem /usr/include/eigen3 -isystem /usr/local/cuda/include/cccl)
[[ -f $out/main.o ]] || g++ "${flags[@]}" -c tests/support/main.cpp -o "$out/main.o"
name=$(basename "${srcs[0]}" .test.cpp)-$$
g++ "${flags[@]}" "$out/main.o" "${srcs[@]}" -o "$out/$name"
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} "$out/$name" "${args[@]}"
