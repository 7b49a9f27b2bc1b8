// hosm/config.hpp — compiler and platform configuration.
//
// HOSM_HOST_DEVICE marks functions and functors that run both on the host and,
// when compiled by nvcc, on a CUDA device. CCCL 3 no longer defines
// __host__/__device__ for host compilers, so hosm defines its own macro.
#pragma once

#if defined(__CUDACC__)
#define HOSM_HOST_DEVICE __host__ __device__
#define HOSM_DEVICE_COMPILER 1
#else
#define HOSM_HOST_DEVICE
#define HOSM_DEVICE_COMPILER 0
#endif

#if defined(__CUDA_ARCH__)
#define HOSM_DEVICE_CODE 1
#else
#define HOSM_DEVICE_CODE 0
#endif

#define HOSM_VERSION_MAJOR 0
#define HOSM_VERSION_MINOR 1
#define HOSM_VERSION_PATCH 0
