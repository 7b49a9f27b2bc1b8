// hosm/backend/gemm.hpp — dense GEMM on batches of column-major matrices.
//
//   gemm_strided_batched<B>(ta, tb, m, n, k, alpha, A, lda, strideA,
//                           Bm, ldb, strideB, beta, C, ldc, strideC, batch)
//
// computes C_b = alpha op(A_b) op(B_b) + beta C_b for b in [0, batch), with
// X_b = X + b * strideX, the argument convention of cublasGemmStridedBatched.
// A stride of 0 shares one matrix across the batch (the weights of a layer).
// All matrices are column-major; lda, ldb, ldc are the leading dimensions of
// the stored (not the transposed) matrices, and must be >= max(1, rows).
// With beta == 0, C is written without being read (NaN or garbage in C does
// not leak through 0 * C), on every back end.
//
// Host back ends (cpp, omp): each product is an Eigen product on mapped
// memory and the batch is spread over B's threads.
// CUDA back end: one cuBLAS call (cublas{S,D}gemm_64 for a batch of one,
// cublas{S,D}gemmStridedBatched_64 otherwise) on the calling thread's handle
// for the current device, on the default stream; A, B and C must be device
// memory. The cuBLAS code lives in backend/detail/cublas.hpp and is reached
// through backend::cuda (hosm/backend/cuda.hpp, nvcc only), so this header
// includes no CUDA header. Handles and errors: see detail/cublas.hpp.
// `gemm` is the batch-of-one case.
//
// Errors (hosm::error naming the argument and value): negative m, n, k;
// a leading dimension below the rows of the stored matrix; on CUDA, a failing
// cuBLAS or CUDA call (naming the call and its status).
#pragma once
#include <Eigen/Dense>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/transpose.hpp>
#include <hosm/core/checks.hpp>

namespace hosm::backend {

namespace detail {
template <class T>
using mat_map = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;
template <class T>
using cmat_map =
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;

template <class T>
void gemm_one(transpose ta, transpose tb, index_t m, index_t n, index_t k, T alpha, const T* A,
              index_t lda, const T* Bm, index_t ldb, T beta, T* C, index_t ldc) {
    const index_t ar = ta == transpose::no ? m : k, ac = ta == transpose::no ? k : m;
    const index_t br = tb == transpose::no ? k : n, bc = tb == transpose::no ? n : k;
    cmat_map<T> a(A, ar, ac, Eigen::OuterStride<>(lda));
    cmat_map<T> b(Bm, br, bc, Eigen::OuterStride<>(ldb));
    mat_map<T> c(C, m, n, Eigen::OuterStride<>(ldc));
    if (beta == T(0)) {
        c.setZero();  // so NaN/garbage in C does not leak through 0 * C
    } else if (beta != T(1)) {
        c *= beta;
    }
    if (ta == transpose::no && tb == transpose::no) c.noalias() += alpha * a * b;
    else if (ta == transpose::yes && tb == transpose::no) c.noalias() += alpha * a.transpose() * b;
    else if (ta == transpose::no && tb == transpose::yes) c.noalias() += alpha * a * b.transpose();
    else c.noalias() += alpha * a.transpose() * b.transpose();
}

/// B runs GEMMs in its own (device) memory: it has a static
/// gemm_strided_batched<T> with this header's argument list (backend::cuda).
template <class B, class T>
concept device_gemm_backend = requires(transpose t, index_t i, T s, const T* p, T* q) {
    B::template gemm_strided_batched<T>(t, t, i, i, i, s, p, i, i, p, i, i, s, q, i, i, i);
};

/// Batch b of the host path (a named functor: nvcc-safe, unlike a lambda).
template <class T>
struct gemm_batch_fn {
    transpose ta, tb;
    index_t m, n, k;
    T alpha;
    const T* A;
    index_t lda, strideA;
    const T* Bm;
    index_t ldb, strideB;
    T beta;
    T* C;
    index_t ldc, strideC;
    void operator()(index_t b) const {
        gemm_one(ta, tb, m, n, k, alpha, A + b * strideA, lda, Bm + b * strideB, ldb, beta,
                 C + b * strideC, ldc);
    }
};
}  // namespace detail

template <concepts::Backend B, class T>
void gemm_strided_batched(transpose ta, transpose tb, index_t m, index_t n, index_t k, T alpha,
                          const T* A, index_t lda, index_t strideA, const T* Bm, index_t ldb,
                          index_t strideB, T beta, T* C, index_t ldc, index_t strideC,
                          index_t batch) {
    static_assert(B::host_memory || detail::device_gemm_backend<B, T>,
                  "hosm::backend::gemm: back end B keeps its data outside host memory but has no "
                  "device GEMM (a static B::gemm_strided_batched<T>); for backend::cuda include "
                  "hosm/backend/cuda.hpp, and use float or double");
    constexpr const char* where = "backend::gemm";
    if (m < 0 || n < 0 || k < 0) hosm::detail::fail(where, "negative size m=", m, " n=", n, " k=", k);
    const index_t ar = ta == transpose::no ? m : k;
    const index_t br = tb == transpose::no ? k : n;
    if (lda < (ar > 1 ? ar : 1)) hosm::detail::fail(where, "argument 'lda' = ", lda, " is below the rows of op(A)'s storage, ", ar);
    if (ldb < (br > 1 ? br : 1)) hosm::detail::fail(where, "argument 'ldb' = ", ldb, " is below the rows of op(B)'s storage, ", br);
    if (ldc < (m > 1 ? m : 1)) hosm::detail::fail(where, "argument 'ldc' = ", ldc, " is below m = ", m);
    if (batch <= 0 || m == 0 || n == 0) return;
    if constexpr (B::host_memory) {
        if (batch == 1) {
            detail::gemm_one(ta, tb, m, n, k, alpha, A, lda, Bm, ldb, beta, C, ldc);
            return;
        }
        for_each_index<B>(batch, detail::gemm_batch_fn<T>{ta, tb, m, n, k, alpha, A, lda, strideA, Bm,
                                                          ldb, strideB, beta, C, ldc, strideC});
    } else {
        B::template gemm_strided_batched<T>(ta, tb, m, n, k, alpha, A, lda, strideA, Bm, ldb,
                                            strideB, beta, C, ldc, strideC, batch);
    }
}

/// C = alpha op(A) op(B) + beta C for one product.
template <concepts::Backend B, class T>
void gemm(transpose ta, transpose tb, index_t m, index_t n, index_t k, T alpha, const T* A,
          index_t lda, const T* Bm, index_t ldb, T beta, T* C, index_t ldc) {
    gemm_strided_batched<B>(ta, tb, m, n, k, alpha, A, lda, 0, Bm, ldb, 0, beta, C, ldc, 0, 1);
}

}  // namespace hosm::backend
