// hosm/backend/cuda.hpp — the CUDA back end (translation units compiled by nvcc).
//
// Memory is device memory (thrust::device_vector); batched per-sample functors
// run as Thrust kernels on the default stream of the current device, and
// backend::gemm runs cuBLAS on the same stream (backend/detail/cublas.hpp:
// one lazily created handle per host thread and device). Views and pointers
// handed to algorithms with this back end must point at device memory;
// hosm::batch<T, backend::cuda> and the library's own containers allocate it.
//
// Synchronisation. The policy is thrust::cuda::par_nosync: for_each_index and
// the other Thrust calls that return nothing only enqueue their kernels, so a
// chain of kernels and GEMMs (a training step, a sampler step) runs without
// the host waiting after each one. The host waits only where it needs a value:
// a reduction's result (a loss, a count of non-finite entries), a copy to host
// memory (batch::to_eigen, thrust::copy to a host iterator), or a device
// allocation or free. Stream order makes every kernel see its predecessors'
// results. A fault inside a kernel is therefore reported at the next such
// point (as a thrust::system_error or hosm::error), not by the launch that
// caused it; compute-sanitizer (scripts/gpu-check.sh) names the kernel.
//
// Link: CUDA::cudart and CUDA::cublas — the hosm::cuda CMake target adds both
// (hosm::hosm itself stays free of CUDA for host-only users).
#pragma once
#if !defined(__CUDACC__)
#error "hosm/backend/cuda.hpp must be compiled by nvcc (a .cu translation unit)"
#endif
#include <thrust/device_vector.h>
#include <thrust/system/cuda/execution_policy.h>

#include <hosm/backend/detail/cublas.hpp>
#include <hosm/backend/transpose.hpp>
#include <hosm/core/types.hpp>

namespace hosm::backend {

struct cuda {
    static constexpr const char* name = "cuda";
    static constexpr bool host_memory = false;
    template <class T>
    using vector = thrust::device_vector<T>;
    static auto policy() { return thrust::cuda::par_nosync; }

    /// The device GEMM behind backend::gemm_strided_batched<cuda> (arguments
    /// checked there; see backend/gemm.hpp for the contract).
    template <class T>
    static void gemm_strided_batched(transpose ta, transpose tb, index_t m, index_t n, index_t k,
                                     T alpha, const T* A, index_t lda, index_t strideA, const T* Bm,
                                     index_t ldb, index_t strideB, T beta, T* C, index_t ldc,
                                     index_t strideC, index_t batch) {
        detail::cublas_gemm_strided_batched(ta, tb, m, n, k, alpha, A, lda, strideA, Bm, ldb,
                                            strideB, beta, C, ldc, strideC, batch);
    }
};

}  // namespace hosm::backend
