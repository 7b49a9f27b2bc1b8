#!/usr/bin/env bash
# Installs what hosm needs on Debian 12 and is missing; installs nothing when
# everything is there. Needs root (or sudo) only when something is missing.
#   Debian: cmake g++ libeigen3-dev libxtensor-dev xtl-dev doctest-dev
#           librandom123-dev libbenchmark-dev python3-numpy (the tests check
#           that NumPy reads hosm's .npy/.npz checkpoints)
#   --extras: also python3-matplotlib (the examples' plot scripts) and
#           python3-torch (the PyTorch peer of bench/)
#   CUDA toolkit 13 (nvcc, CCCL 3): expected under /usr/local/cuda; Thrust/CUB
#           come from its CMake package. It is not installed by this script.
set -euo pipefail
pkgs=(cmake g++ make libeigen3-dev libxtensor-dev xtl-dev doctest-dev librandom123-dev libbenchmark-dev
      python3-numpy)
if [ "${1:-}" = "--extras" ]; then pkgs+=(python3-matplotlib python3-torch); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "hosm: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The NumPy checks run `python3` from PATH, which may be another interpreter
# than Debian's (pyenv, a venv): give that one NumPy from PyPI if it lacks it.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import numpy" >/dev/null 2>&1; then
  echo "hosm: installing numpy for $(command -v python3)"
  python3 -m pip install --quiet numpy >/dev/null 2>&1 ||
    echo "hosm: note: could not install numpy for python3; NumPy checks will be skipped" >&2
fi
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "hosm: note: nvcc is not on PATH; using /usr/local/cuda/bin" >&2
fi
if [ ! -f /usr/local/cuda/lib/cmake/cccl/cccl-config.cmake ] && ! command -v nvcc >/dev/null 2>&1; then
  echo "hosm: error: the CUDA toolkit (for CCCL 3: Thrust/CUB) was not found under /usr/local/cuda" >&2
  exit 1
fi
