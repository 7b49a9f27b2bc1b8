// hosm/backend/cuda.hpp — the CUDA back end (translation units compiled by nvcc).
//
// Memory is device memory (thrust::device_vector); batched per-sample functors
// run as Thrust kernels. Views handed to algorithms with this back end must
// point at device memory.
#pragma once
#if !defined(__CUDACC__)
#error "hosm/backend/cuda.hpp must be compiled by nvcc (a .cu translation unit)"
#endif
#include <thrust/device_vector.h>
#include <thrust/system/cuda/execution_policy.h>

namespace hosm::backend {

struct cuda {
    static constexpr const char* name = "cuda";
    static constexpr bool host_memory = false;
    template <class T>
    using vector = thrust::device_vector<T>;
    static auto policy() { return thrust::cuda::par; }
};

}  // namespace hosm::backend
