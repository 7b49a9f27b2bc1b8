// hosm/backend/detail/cublas.hpp — cuBLAS handles and the CUDA back end's GEMM.
//
// Included by hosm/backend/cuda.hpp only, so host translation units never see
// a CUDA header. Not a public header on its own: include hosm/backend/cuda.hpp.
//
// Handles. cuBLAS wants one handle per host thread and device (a handle is
// bound to the device that was current when it was created, and sharing one
// between threads needs external locking). cublas_handle() keeps a
// thread_local table indexed by device ordinal; a handle is created on the
// first GEMM a thread issues on a device and destroyed when that thread ends
// (for the main thread: at exit(), before static destructors and the CUDA
// runtime's own teardown). Creation costs about a millisecond and some device
// memory (cuBLAS's workspace); every later call is a table look-up plus one
// cudaGetDevice.
//
// Stream and modes. Handles are set to the default stream Thrust launches
// on (the legacy default stream, or the per-thread one when the translation
// unit is compiled with --default-stream per-thread), so a GEMM is ordered
// after the Thrust kernels that produced its inputs and before those that read
// its output, with no synchronisation in between. If a program mixes both
// stream modes across translation units, the legacy stream's implicit
// synchronisation keeps the order. Pointer mode is host (alpha and beta are
// host scalars); the math mode is cuBLAS's default (no TF32 for float), so
// float results stay IEEE single-precision products with float accumulation.
//
// Errors. A failing CUDA or cuBLAS call throws hosm::error naming the call and
// the status, e.g.
//   hosm: backend::gemm (cuda): cublasDgemmStridedBatched_64 returned
//   CUBLAS_STATUS_INVALID_VALUE (7)
// Kernel faults are asynchronous: they surface at the next synchronising call
// (a copy to the host, for instance), not necessarily at the GEMM that caused
// them.
#pragma once
#if !defined(__CUDACC__)
#error "hosm/backend/detail/cublas.hpp is part of the CUDA back end; include hosm/backend/cuda.hpp from a .cu translation unit"
#endif
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>
#include <vector>

#include <hosm/backend/transpose.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>

namespace hosm::backend::detail {

/// Throws hosm::error naming `call` if `e` is not cudaSuccess.
inline void check_cuda(const char* where, const char* call, cudaError_t e) {
    if (e != cudaSuccess)
        hosm::detail::fail(where, call, " returned ", cudaGetErrorName(e), " (", static_cast<int>(e),
                           "): ", cudaGetErrorString(e));
}

/// Throws hosm::error naming `call` if `s` is not CUBLAS_STATUS_SUCCESS.
inline void check_cublas(const char* where, const char* call, cublasStatus_t s) {
    if (s != CUBLAS_STATUS_SUCCESS)
        hosm::detail::fail(where, call, " returned ", cublasGetStatusName(s), " (",
                           static_cast<int>(s), "): ", cublasGetStatusString(s));
}

/// The stream Thrust's CUDA system launches on by default (as
/// thrust::cuda_cub::default_stream()).
inline cudaStream_t default_stream() {
#if defined(CUDA_API_PER_THREAD_DEFAULT_STREAM)
    return cudaStreamPerThread;
#else
    return cudaStreamLegacy;
#endif
}

/// The calling thread's handles, one per device ordinal, created on demand.
class cublas_handles {
public:
    cublas_handles() = default;
    cublas_handles(const cublas_handles&) = delete;
    cublas_handles& operator=(const cublas_handles&) = delete;
    ~cublas_handles() {
        // Errors cannot be reported from here; a handle whose context is
        // already gone is simply dropped.
        for (cublasHandle_t h : handles_)
            if (h != nullptr) (void)cublasDestroy(h);
    }

    /// The handle for the current device of this thread.
    cublasHandle_t get(const char* where) {
        int device = 0;
        check_cuda(where, "cudaGetDevice", cudaGetDevice(&device));
        const auto d = static_cast<std::size_t>(device);
        if (handles_.size() <= d) handles_.resize(d + 1, nullptr);
        if (handles_[d] == nullptr) {
            cublasHandle_t h = nullptr;
            check_cublas(where, "cublasCreate", cublasCreate(&h));
            handles_[d] = h;  // owned from here on, even if the calls below throw
            check_cublas(where, "cublasSetStream", cublasSetStream(h, default_stream()));
            check_cublas(where, "cublasSetPointerMode",
                         cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
        }
        return handles_[d];
    }

private:
    std::vector<cublasHandle_t> handles_;
};

/// This thread's cuBLAS handle for its current device (created lazily).
inline cublasHandle_t cublas_handle(const char* where) {
    thread_local cublas_handles handles;
    return handles.get(where);
}

inline cublasOperation_t cublas_op(transpose t) {
    return t == transpose::no ? CUBLAS_OP_N : CUBLAS_OP_T;
}

/// C_b = alpha op(A_b) op(B_b) + beta C_b on the device; arguments already
/// checked by backend::gemm_strided_batched (sizes >= 0, leading dimensions,
/// batch >= 1, m, n >= 1). Pointers are device pointers.
template <class T>
void cublas_gemm_strided_batched(transpose ta, transpose tb, index_t m, index_t n, index_t k,
                                 T alpha, const T* A, index_t lda, index_t strideA, const T* Bm,
                                 index_t ldb, index_t strideB, T beta, T* C, index_t ldc,
                                 index_t strideC, index_t batch) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "hosm::backend::gemm (cuda): cuBLAS GEMM is provided for float and double");
    constexpr const char* where = "backend::gemm (cuda)";
    cublasHandle_t h = cublas_handle(where);
    const cublasOperation_t oa = cublas_op(ta), ob = cublas_op(tb);
    using i64 = std::int64_t;
    if (batch == 1) {
        if constexpr (std::is_same_v<T, float>)
            check_cublas(where, "cublasSgemm_64",
                         cublasSgemm_64(h, oa, ob, i64(m), i64(n), i64(k), &alpha, A, i64(lda), Bm,
                                        i64(ldb), &beta, C, i64(ldc)));
        else
            check_cublas(where, "cublasDgemm_64",
                         cublasDgemm_64(h, oa, ob, i64(m), i64(n), i64(k), &alpha, A, i64(lda), Bm,
                                        i64(ldb), &beta, C, i64(ldc)));
        return;
    }
    using ll = long long;
    if constexpr (std::is_same_v<T, float>)
        check_cublas(where, "cublasSgemmStridedBatched_64",
                     cublasSgemmStridedBatched_64(h, oa, ob, i64(m), i64(n), i64(k), &alpha, A,
                                                  i64(lda), ll(strideA), Bm, i64(ldb), ll(strideB),
                                                  &beta, C, i64(ldc), ll(strideC), i64(batch)));
    else
        check_cublas(where, "cublasDgemmStridedBatched_64",
                     cublasDgemmStridedBatched_64(h, oa, ob, i64(m), i64(n), i64(k), &alpha, A,
                                                  i64(lda), ll(strideA), Bm, i64(ldb), ll(strideB),
                                                  &beta, C, i64(ldc), ll(strideC), i64(batch)));
}

}  // namespace hosm::backend::detail
