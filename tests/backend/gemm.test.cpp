#include "support/backends.hpp"

#include <hosm/backend/gemm.hpp>
#include <hosm/core/eigen.hpp>

using namespace hosm;
using backend::transpose;

#if !defined(__CUDACC__)
TEST_CASE_TEMPLATE("backend/gemm: every transpose case against Eigen", B, HOSM_TEST_BACKENDS) {
    const index_t m = 5, n = 4, k = 3;
    for (transpose ta : {transpose::no, transpose::yes})
        for (transpose tb : {transpose::no, transpose::yes}) {
            matrix<double> A = ta == transpose::no ? matrix<double>::Random(m, k)
                                                   : matrix<double>::Random(k, m);
            matrix<double> Bm = tb == transpose::no ? matrix<double>::Random(k, n)
                                                    : matrix<double>::Random(n, k);
            matrix<double> C = matrix<double>::Random(m, n);
            const matrix<double> opA = ta == transpose::no ? A : matrix<double>(A.transpose());
            const matrix<double> opB = tb == transpose::no ? Bm : matrix<double>(Bm.transpose());
            const matrix<double> expect = 0.5 * opA * opB - 2.0 * C;
            backend::gemm<B>(ta, tb, m, n, k, 0.5, A.data(), A.rows(), Bm.data(), Bm.rows(), -2.0,
                             C.data(), m);
            CHECK((C - expect).cwiseAbs().maxCoeff() < 1e-14);
        }
}

TEST_CASE_TEMPLATE("backend/gemm: strided batches, shared weights and beta = 0", B,
                   HOSM_TEST_BACKENDS) {
    const index_t m = 6, n = 2, k = 4, nb = 7;
    const matrix<float> W = matrix<float>::Random(m, k);  // shared: stride 0
    matrix<float> X = matrix<float>::Random(k, n * nb);   // nb blocks of k x n
    matrix<float> Y = matrix<float>::Constant(m, n * nb, std::numeric_limits<float>::quiet_NaN());
    backend::gemm_strided_batched<B>(transpose::no, transpose::no, m, n, k, 1.0f, W.data(), m, 0,
                                     X.data(), k, k * n, 0.0f, Y.data(), m, m * n, nb);
    const matrix<float> expect = W * X;  // blocks side by side
    CHECK((Y - expect).cwiseAbs().maxCoeff() < 1e-5f);
}

TEST_CASE("backend/gemm: bad leading dimensions raise hosm::error") {
    matrix<double> A(3, 3), C(3, 3);
    CHECK_THROWS_AS(backend::gemm<backend::cpp>(transpose::no, transpose::no, 3, 3, 3, 1.0,
                                                A.data(), 2, A.data(), 3, 0.0, C.data(), 3),
                    hosm::error);
    CHECK_THROWS_AS(backend::gemm<backend::cpp>(transpose::no, transpose::no, 3, 3, 3, 1.0,
                                                A.data(), 3, A.data(), 3, 0.0, C.data(), 1),
                    hosm::error);
    CHECK_THROWS_AS(backend::gemm<backend::cpp>(transpose::no, transpose::no, -1, 3, 3, 1.0,
                                                A.data(), 3, A.data(), 3, 0.0, C.data(), 3),
                    hosm::error);
}
#endif
