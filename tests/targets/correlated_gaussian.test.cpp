// Tests of targets::correlated_gaussian (hosm/targets/correlated_gaussian.hpp).
// The documented construction is checked exactly: Sigma's eigenvalues are
// the log-spaced lambda_i (1e-12 relative, from an Eigen eigensolver), it is
// symmetric, mu = 0, and it is a pure function of (dim, seed).
#include "support/backends.hpp"
#include "targets/fd_support.hpp"

#include <cmath>

#include <hosm/random/stream.hpp>
#include <hosm/targets/correlated_gaussian.hpp>

using namespace hosm;
using namespace target_test;

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/correlated_gaussian: the documented spectrum, reproducible") {
    const index_t D = 100;
    const md S = targets::correlated_gaussian_covariance(D, 7);
    CHECK(S == S.transpose());
    Eigen::SelfAdjointEigenSolver<md> eig(S, Eigen::EigenvaluesOnly);
    for (index_t i = 0; i < D; ++i) {
        const double lambda = std::pow(10.0, -1.0 + 2.0 * double(i) / double(D - 1));
        CHECK(eig.eigenvalues()(i) == doctest::Approx(lambda).epsilon(1e-12));
    }
    // correlated: the off-diagonal part is not negligible
    CHECK((S - md(S.diagonal().asDiagonal())).cwiseAbs().maxCoeff() > 0.1);
    CHECK(targets::correlated_gaussian_covariance(D, 7) == S);
    CHECK(targets::correlated_gaussian_covariance(D, 8) != S);
    const auto g = targets::correlated_gaussian<double>(D, 7);
    CHECK(g.dim() == D);
    CHECK(g.mean() == vd::Zero(D));
    CHECK(g.covariance() == S);
    CHECK(g.low_rank_rank() == D - 1);
    // dim 1: lambda = 1
    CHECK(targets::correlated_gaussian_covariance(1, 3)(0, 0) == doctest::Approx(1.0).epsilon(1e-15));
    CHECK_THROWS_AS(targets::correlated_gaussian<double>(0, 1), hosm::error);
}
#endif

TEST_CASE_TEMPLATE("targets/correlated_gaussian: float and double agree; scores exact", B,
                   HOSM_TEST_BACKENDS) {
    const auto gd = targets::correlated_gaussian<double, B>(20, 3);
    const auto gf = targets::correlated_gaussian<float, B>(20, 3);
    const md X = gd.sample(random::stream{2, 0}, 8);
    const md sd = gd.score(X);
    const matrix<float> sf32 = gf.score(matrix<float>(X.cast<float>()));
    const md sf = sf32.cast<double>();
    CHECK(close(sf, sd, 1e-4, mag(sd)));  // float rounding of a condition-100 solve
    check_derivatives(gd, X.leftCols(2));
}
