// hosm/backend/gemm.hpp — dense GEMM on batches of column-major matrices.
//
//   gemm_strided_batched<B>(ta, tb, m, n, k, alpha, A, lda, strideA,
//                           Bm, ldb, strideB, beta, C, ldc, strideC, batch)
//
// computes C_b = alpha op(A_b) op(B_b) + beta C_b for b in [0, batch), with
// X_b = X + b * strideX, the argument convention of cublasGemmStridedBatched.
// A stride of 0 shares one matrix across the batch (the weights of a layer).
// On host back ends each product is an Eigen product on mapped memory and the
// batch is spread over B's threads; `gemm` is the batch-of-one case.
#pragma once
#include <Eigen/Dense>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/core/checks.hpp>

namespace hosm::backend {

enum class transpose { no, yes };

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
}  // namespace detail

template <concepts::Backend B, class T>
void gemm_strided_batched(transpose ta, transpose tb, index_t m, index_t n, index_t k, T alpha,
                          const T* A, index_t lda, index_t strideA, const T* Bm, index_t ldb,
                          index_t strideB, T beta, T* C, index_t ldc, index_t strideC,
                          index_t batch) {
    static_assert(B::host_memory,
                  "hosm::backend::gemm: the CUDA back end's cuBLAS GEMM is not available yet; "
                  "use a host back end (cpp, omp)");
    constexpr const char* where = "backend::gemm";
    if (m < 0 || n < 0 || k < 0) hosm::detail::fail(where, "negative size m=", m, " n=", n, " k=", k);
    const index_t ar = ta == transpose::no ? m : k;
    const index_t br = tb == transpose::no ? k : n;
    if (lda < (ar > 1 ? ar : 1)) hosm::detail::fail(where, "argument 'lda' = ", lda, " is below the rows of op(A)'s storage, ", ar);
    if (ldb < (br > 1 ? br : 1)) hosm::detail::fail(where, "argument 'ldb' = ", ldb, " is below the rows of op(B)'s storage, ", br);
    if (ldc < (m > 1 ? m : 1)) hosm::detail::fail(where, "argument 'ldc' = ", ldc, " is below m = ", m);
    if (batch <= 0 || m == 0 || n == 0) return;
    if (batch == 1) {
        detail::gemm_one(ta, tb, m, n, k, alpha, A, lda, Bm, ldb, beta, C, ldc);
        return;
    }
    for_each_index<B>(batch, [=](index_t b) {
        detail::gemm_one(ta, tb, m, n, k, alpha, A + b * strideA, lda, Bm + b * strideB, ldb, beta,
                         C + b * strideC, ldc);
    });
}

/// C = alpha op(A) op(B) + beta C for one product.
template <concepts::Backend B, class T>
void gemm(transpose ta, transpose tb, index_t m, index_t n, index_t k, T alpha, const T* A,
          index_t lda, const T* Bm, index_t ldb, T beta, T* C, index_t ldc) {
    gemm_strided_batched<B>(ta, tb, m, n, k, alpha, A, lda, 0, Bm, ldb, 0, beta, C, ldc, 0, 1);
}

}  // namespace hosm::backend
