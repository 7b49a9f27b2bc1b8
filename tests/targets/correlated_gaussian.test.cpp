// Tests of targets::correlated_gaussian (hosm/targets/correlated_gaussian.hpp).
// The documented construction is checked exactly: Sigma's eigenvalues are
// the log-spaced lambda_i (1e-12 relative, from an Eigen eigensolver), it is
// symmetric, mu = 0, and it is a pure function of (dim, seed).
#include "support/backends.hpp"
#include "support/errors.hpp"
#include "targets/fd_support.hpp"

#include <cmath>
#include <string>

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

TEST_CASE("targets/factor_gaussian: diag(psi) + W W^T as documented; s2 is diagonal plus PSD rank k") {
    const index_t D = 40, k = 6;
    const md S = targets::factor_gaussian_covariance(D, k, 7);
    CHECK(S == S.transpose());
    CHECK(targets::factor_gaussian_covariance(D, k, 7) == S);
    CHECK(targets::factor_gaussian_covariance(D, k, 8) != S);
    // W = first k Haar columns scaled by sqrt(c_j): W^T W = diag(c), so the
    // off-diagonal of S is (Q_k diag(c) Q_k^T) off the diagonal, and
    // S - diag(psi) has exactly the eigenvalues c_j (and D - k zeros)
    const auto psi = [&](index_t i) { return std::pow(10.0, -std::log10(5.0) * double(i) / double(D - 1)); };
    md L = S;
    for (index_t i = 0; i < D; ++i) L(i, i) -= psi(i);
    Eigen::SelfAdjointEigenSolver<md> eig(L, Eigen::EigenvaluesOnly);
    for (index_t i = 0; i < D - k; ++i) CHECK(std::abs(eig.eigenvalues()(i)) < 1e-12);
    for (index_t j = 0; j < k; ++j)
        CHECK(eig.eigenvalues()(D - k + j) == doctest::Approx(std::pow(10.0, double(j) / double(k - 1))).epsilon(1e-12));
    // s2 = -S^-1 = diag(alpha) + PSD of rank k exactly (Woodbury): removing
    // the diagonal -1/psi leaves a PSD matrix of rank k
    md N = -S.inverse();
    for (index_t i = 0; i < D; ++i) N(i, i) += 1.0 / psi(i);
    Eigen::SelfAdjointEigenSolver<md> eN(N, Eigen::EigenvaluesOnly);
    const double top = eN.eigenvalues()(D - 1);
    CHECK(top > 0.1);
    for (index_t i = 0; i < D - k; ++i) CHECK(std::abs(eN.eigenvalues()(i)) < 1e-10 * top);
    CHECK(eN.eigenvalues()(D - k) > 1e-3 * top);
    const auto g = targets::factor_gaussian<double>(D, k, 7);
    CHECK(g.dim() == D);
    CHECK(g.mean() == vd::Zero(D));
    CHECK(g.covariance() == S);
    // one factor, dim 1: psi = 1, c = 1
    CHECK(targets::factor_gaussian_covariance(1, 1, 3)(0, 0) == doctest::Approx(2.0).epsilon(1e-15));
    // bad input
    CHECK_THROWS_AS(targets::factor_gaussian<double>(0, 1, 1), hosm::error);
    CHECK_THROWS_AS(targets::factor_gaussian<double>(5, 0, 1), hosm::error);
    const std::string m = hosm_test::message_of([] { (void)targets::factor_gaussian_covariance(5, 6, 1); });
    CHECK(m.find("factors = 6") != std::string::npos);
    CHECK(m.find("dim = 5") != std::string::npos);
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
    const auto fd = targets::factor_gaussian<double, B>(20, 4, 3);
    const auto ff = targets::factor_gaussian<float, B>(20, 4, 3);
    const md fs = fd.score(X);
    const matrix<float> fsf32 = ff.score(matrix<float>(X.cast<float>()));
    const md fsf = fsf32.cast<double>();
    CHECK(close(fsf, fs, 1e-4, mag(fs)));
    check_derivatives(fd, X.leftCols(2));
}
