// Tests of hosm/models/detail/small_gemm.hpp: C = beta C + A B for n <= 16
// columns equals a double Eigen product (float: 1e-5 relative to the largest
// |A||B| sum; double: 1e-13), for row counts around the packet blocks (tails
// of fewer than one packet), a strided A (a row slice of a larger weight
// matrix, as mlp_layers' output blocks use), beta = 0 (NaN in C ignored) and
// beta = 1, and it is independent of n column by column. The prefetching loop
// (taken for an A over small_gemm_prefetch_bytes) gives the same bits as the
// plain one. small_gemm_tn (C = beta C + A^T B) is held to the same tests.
#include "support/backends.hpp"

#include <cmath>
#include <limits>

#include <hosm/core/eigen.hpp>
#include <hosm/models/detail/small_gemm.hpp>

using namespace hosm;

namespace {
auto sequential = [](index_t n, auto f) {
    for (index_t b = 0; b < n; ++b) f(b);
};
}

TEST_CASE_TEMPLATE("models/detail/small_gemm: equals a double product", T, float, double) {
    const T tol = std::is_same_v<T, float> ? T(1e-5) : T(1e-13);
    for (index_t m : {1, 7, 16, 31, 33, 100, 256, 2100})
        for (index_t n : {1, 3, 8, 10, 16})
            for (index_t k : {1, 5, 100, 256}) {
                CAPTURE(m);
                CAPTURE(n);
                CAPTURE(k);
                const index_t lda = m + 3;  // a row slice of a taller matrix
                const matrix<T> Afull = matrix<T>::Random(lda, k);
                const matrix<T> Bm = matrix<T>::Random(k, n);
                const matrix<T> C0 = matrix<T>::Random(m, n);
                const matrix<double> ref =
                    Afull.topRows(m).template cast<double>() * Bm.template cast<double>();
                const double scale =
                    (Afull.topRows(m).cwiseAbs().template cast<double>() * Bm.cwiseAbs().template cast<double>())
                        .maxCoeff();
                matrix<T> C = matrix<T>::Constant(m, n, std::numeric_limits<T>::quiet_NaN());
                models::detail::small_gemm_nn(m, n, k, Afull.data(), lda, Bm.data(), k, T(0), C.data(), m,
                                              sequential);
                CHECK((C.template cast<double>() - ref).cwiseAbs().maxCoeff() <= tol * scale);
                matrix<T> C1 = C0;
                models::detail::small_gemm_nn(m, n, k, Afull.data(), lda, Bm.data(), k, T(1), C1.data(), m,
                                              sequential);
                CHECK((C1.template cast<double>() - (ref + C0.template cast<double>())).cwiseAbs().maxCoeff() <=
                      tol * (scale + 1));
                if (n > 1) {  // column 0 alone gives the same numbers
                    matrix<T> c(m, 1);
                    models::detail::small_gemm_nn(m, 1, k, Afull.data(), lda, Bm.data(), k, T(0), c.data(), m,
                                                  sequential);
                    CHECK(c.col(0) == C.col(0));
                }
                // forced prefetch (threshold 0) and none (threshold max): the same bits
                matrix<T> Cp = C0, Cn = C0;
                models::detail::small_gemm_nn(m, n, k, Afull.data(), lda, Bm.data(), k, T(1), Cp.data(), m,
                                              sequential, std::size_t(0));
                models::detail::small_gemm_nn(m, n, k, Afull.data(), lda, Bm.data(), k, T(1), Cn.data(), m,
                                              sequential, std::numeric_limits<std::size_t>::max());
                CHECK(Cp == Cn);
                CHECK(Cp == C1);
            }
}

TEST_CASE_TEMPLATE("models/detail/small_gemm: A^T B equals a double product", T, float, double) {
    // C = beta C + A^T B, A k x m (a column slice of a wider matrix, lda > k):
    // around the 4-row and 5-column blocks and the scalar tail of k
    const T tol = std::is_same_v<T, float> ? T(1e-5) : T(1e-13);
    for (index_t m : {1, 3, 4, 7, 33, 256})
        for (index_t n : {1, 4, 5, 6, 10, 16})
            for (index_t k : {1, 3, 16, 67, 100, 300}) {
                CAPTURE(m);
                CAPTURE(n);
                CAPTURE(k);
                const index_t lda = k + 3;
                const matrix<T> Afull = matrix<T>::Random(lda, m);
                const matrix<T> Bm = matrix<T>::Random(k, n);
                const matrix<T> C0 = matrix<T>::Random(m, n);
                const matrix<double> At = Afull.topRows(k).transpose().template cast<double>();
                const matrix<double> ref = At * Bm.template cast<double>();
                const double scale =
                    (At.cwiseAbs() * Bm.cwiseAbs().template cast<double>()).maxCoeff();
                matrix<T> C = matrix<T>::Constant(m, n, std::numeric_limits<T>::quiet_NaN());
                models::detail::small_gemm_tn(m, n, k, Afull.data(), lda, Bm.data(), k, T(0), C.data(), m,
                                              sequential);
                CHECK((C.template cast<double>() - ref).cwiseAbs().maxCoeff() <= tol * scale);
                matrix<T> C1 = C0;
                models::detail::small_gemm_tn(m, n, k, Afull.data(), lda, Bm.data(), k, T(1), C1.data(), m,
                                              sequential);
                CHECK((C1.template cast<double>() - (ref + C0.template cast<double>())).cwiseAbs().maxCoeff() <=
                      tol * (scale + 1));
                // a column's numbers do not depend on n, nor a row's on which block it is in
                matrix<T> c(m, 1);
                models::detail::small_gemm_tn(m, 1, k, Afull.data(), lda, Bm.data(), k, T(0), c.data(), m,
                                              sequential);
                CHECK(c.col(0) == C.col(0));
                if (m > 1) {
                    matrix<T> r(1, n);
                    models::detail::small_gemm_tn(1, n, k, Afull.data() + (m - 1) * lda, lda, Bm.data(), k, T(0),
                                                  r.data(), 1, sequential);
                    CHECK(r.row(0) == C.row(m - 1));
                }
            }
}
