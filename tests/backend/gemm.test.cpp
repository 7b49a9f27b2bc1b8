// Tests of backend::gemm / gemm_strided_batched (hosm/backend/gemm.hpp).
//
// Oracle: Eigen's dense product in double on the host. The operands live in
// the back end's memory (hosm::batch<T, B>), so the same bodies run on cpp
// and omp (Eigen on mapped memory) and, compiled by nvcc, on cuda (cuBLAS).
// Tolerances: double 1e-13, float 1e-5 relative to sum |a||b| + |beta c|
// (the rounding bound of k <= 9 products, with room for FMA contraction).
#include "support/backends.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <hosm/backend/batch.hpp>
#include <hosm/backend/gemm.hpp>
#include <hosm/core/eigen.hpp>

using namespace hosm;
using backend::transpose;

namespace {

template <class T>
constexpr double tol_of = std::is_same_v<T, double> ? 1e-13 : 1e-5;

template <class T, class B>
T* ptr(batch<T, B>& b) { return b.view().data; }
template <class T, class B>
const T* ptr(const batch<T, B>& b) { return b.view().data; }

/// One product of every transpose case, against Eigen.
template <class T, class B>
void check_transposes() {
    const index_t m = 5, n = 4, k = 3;
    for (transpose ta : {transpose::no, transpose::yes})
        for (transpose tb : {transpose::no, transpose::yes}) {
            CAPTURE(int(ta));
            CAPTURE(int(tb));
            const matrix<double> A = ta == transpose::no ? matrix<double>::Random(m, k)
                                                         : matrix<double>::Random(k, m);
            const matrix<double> Bm = tb == transpose::no ? matrix<double>::Random(k, n)
                                                          : matrix<double>::Random(n, k);
            const matrix<double> C = matrix<double>::Random(m, n);
            // the oracle sees the T-rounded inputs
            const matrix<double> Ar = A.cast<T>().template cast<double>(),
                                 Br = Bm.cast<T>().template cast<double>(),
                                 Cr = C.cast<T>().template cast<double>();
            const matrix<double> opA = ta == transpose::no ? Ar : matrix<double>(Ar.transpose());
            const matrix<double> opB = tb == transpose::no ? Br : matrix<double>(Br.transpose());
            const matrix<double> expect = 0.5 * opA * opB - 2.0 * Cr;
            const matrix<double> scale =
                0.5 * opA.cwiseAbs() * opB.cwiseAbs() + 2.0 * Cr.cwiseAbs();
            const batch<T, B> a(matrix<T>(A.cast<T>())), b(matrix<T>(Bm.cast<T>()));
            batch<T, B> c(matrix<T>(C.cast<T>()));
            backend::gemm<B>(ta, tb, m, n, k, T(0.5), ptr(a), A.rows(), ptr(b), Bm.rows(), T(-2),
                             ptr(c), m);
            const matrix<double> got = c.to_eigen().template cast<double>();
            CHECK(((got - expect).array() / (1.0 + scale.array())).abs().maxCoeff() < tol_of<T>);
        }
}

/// A shared weight matrix (stride 0) times nb blocks; beta = 0 over NaN.
template <class T, class B>
void check_strided_shared() {
    const index_t m = 6, n = 2, k = 4, nb = 7;
    const matrix<T> W = matrix<T>::Random(m, k);
    const matrix<T> X = matrix<T>::Random(k, n * nb);  // nb blocks of k x n
    const batch<T, B> w(W), x(X);
    batch<T, B> y(m, n * nb, std::numeric_limits<T>::quiet_NaN());
    backend::gemm_strided_batched<B>(transpose::no, transpose::no, m, n, k, T(1), ptr(w), m, 0,
                                     ptr(x), k, k * n, T(0), ptr(y), m, m * n, nb);
    const matrix<double> expect = W.template cast<double>() * X.template cast<double>();
    const matrix<double> got = y.to_eigen().template cast<double>();
    CHECK((got - expect).cwiseAbs().maxCoeff() < 10 * tol_of<T>);
}

/// Per-batch A and B with padded leading dimensions and transposes; C_b
/// accumulates (beta = 1).
template <class T, class B>
void check_strided_padded() {
    const index_t m = 3, n = 5, k = 4, nb = 3, lda = k + 2, ldb = n + 1, ldc = m + 3;
    // op(A_b) = A_b^T with A_b stored k x m in lda rows; op(B_b) = B_b^T stored n x k.
    const index_t sA = lda * m, sB = ldb * k, sC = ldc * n;
    const matrix<T> A = matrix<T>::Random(lda, m * nb), Bm = matrix<T>::Random(ldb, k * nb),
                    C = matrix<T>::Random(ldc, n * nb);
    const batch<T, B> a(A), b(Bm);
    batch<T, B> c(C);
    backend::gemm_strided_batched<B>(transpose::yes, transpose::yes, m, n, k, T(1.5), ptr(a), lda,
                                     sA, ptr(b), ldb, sB, T(1), ptr(c), ldc, sC, nb);
    const matrix<double> got = c.to_eigen().template cast<double>();
    double worst = 0;
    for (index_t q = 0; q < nb; ++q) {
        const matrix<double> Ab = A.block(0, q * m, k, m).template cast<double>();
        const matrix<double> Bb = Bm.block(0, q * k, n, k).template cast<double>();
        const matrix<double> Cb = C.block(0, q * n, m, n).template cast<double>();
        const matrix<double> want = 1.5 * Ab.transpose() * Bb.transpose() + Cb;
        worst = std::fmax(worst, (got.block(0, q * n, m, n) - want).cwiseAbs().maxCoeff());
        // the padding rows of C are not touched
        CHECK(got.block(m, q * n, ldc - m, n) == C.block(m, q * n, ldc - m, n).template cast<double>());
    }
    CHECK(worst < 10 * tol_of<T>);
}

}  // namespace

TEST_CASE_TEMPLATE("backend/gemm: every transpose case against Eigen", B, HOSM_TEST_BACKENDS) {
    check_transposes<double, B>();
    check_transposes<float, B>();
}

TEST_CASE_TEMPLATE("backend/gemm: strided batches, shared weights and beta = 0", B,
                   HOSM_TEST_BACKENDS) {
    check_strided_shared<float, B>();
    check_strided_shared<double, B>();
}

TEST_CASE_TEMPLATE("backend/gemm: strided batches with padded leading dimensions", B,
                   HOSM_TEST_BACKENDS) {
    check_strided_padded<double, B>();
    check_strided_padded<float, B>();
}

TEST_CASE_TEMPLATE("backend/gemm: k = 0 scales C by beta; empty m or n does nothing", B,
                   HOSM_TEST_BACKENDS) {
    const matrix<double> C0 = matrix<double>::Random(3, 2);
    batch<double, B> c(C0), a(3, 1), b(1, 2);
    backend::gemm<B>(transpose::no, transpose::no, 3, 2, 0, 1.0, ptr(a), 3, ptr(b), 1, 0.5,
                     ptr(c), 3);
    CHECK((c.to_eigen() - 0.5 * C0).cwiseAbs().maxCoeff() < 1e-15);
    backend::gemm<B>(transpose::no, transpose::no, 0, 2, 1, 1.0, ptr(a), 1, ptr(b), 1, 0.0,
                     ptr(c), 1);
    CHECK((c.to_eigen() - 0.5 * C0).cwiseAbs().maxCoeff() < 1e-15);
}

TEST_CASE_TEMPLATE("backend/gemm: bad sizes and leading dimensions raise hosm::error", B,
                   HOSM_TEST_BACKENDS) {
    batch<double, B> A(3, 3), C(3, 3);
    double* a = ptr(A);
    double* c = ptr(C);
    CHECK_THROWS_AS(backend::gemm<B>(transpose::no, transpose::no, 3, 3, 3, 1.0, a, 2, a, 3, 0.0, c, 3),
                    hosm::error);
    CHECK_THROWS_AS(backend::gemm<B>(transpose::no, transpose::no, 3, 3, 3, 1.0, a, 3, a, 3, 0.0, c, 1),
                    hosm::error);
    CHECK_THROWS_AS(backend::gemm<B>(transpose::no, transpose::yes, 3, 3, 3, 1.0, a, 3, a, 2, 0.0, c, 3),
                    hosm::error);
    CHECK_THROWS_AS(backend::gemm<B>(transpose::no, transpose::no, -1, 3, 3, 1.0, a, 3, a, 3, 0.0, c, 3),
                    hosm::error);
    try {
        backend::gemm<B>(transpose::no, transpose::no, 3, 3, 3, 1.0, a, 2, a, 3, 0.0, c, 3);
    } catch (const hosm::error& e) {
        CHECK(std::string(e.what()).find("'lda' = 2") != std::string::npos);
    }
}
