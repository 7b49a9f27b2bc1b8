// Tests of hosm/tweedie/posterior.hpp: Tweedie's posterior mean (seed 000
// Eq. 4) and the structured posterior covariance (Eq. 18).
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <hosm/tweedie/posterior.hpp>
#include <string>

#include "support/backends.hpp"
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;
using Mat = Eigen::MatrixXd;
using Vec = Eigen::VectorXd;

namespace {

/// Deterministic pseudo-random numbers in [-1, 1].
double noise(int i) { return std::sin(12.9898 * i + 78.233 * std::cos(0.37 * i)); }

/// Gaussian prior N(mu, Sigma), D = 4, noise sigma: q_sigma = N(mu, Sigma + sigma^2 I),
/// s1 = -Q (x~ - mu), s2 = -Q with Q = (Sigma + sigma^2 I)^-1; posterior
/// covariance C = (Sigma^-1 + I / sigma^2)^-1, mean C (Sigma^-1 mu + x~ / sigma^2).
struct gaussian_case {
    static constexpr int D = 4;
    double sigma = 0.45;
    Mat Sigma, Q, C;
    Vec mu;
    gaussian_case() {
        Mat A(D, D);
        for (int i = 0; i < D * D; ++i) A.data()[i] = noise(i);
        Sigma = A * A.transpose() + 0.3 * Mat::Identity(D, D);
        mu = Vec(D);
        for (int i = 0; i < D; ++i) mu[i] = noise(100 + i);
        Q = (Sigma + sigma * sigma * Mat::Identity(D, D)).inverse();
        C = (Sigma.inverse() + Mat::Identity(D, D) / (sigma * sigma)).inverse();
    }
    Vec posterior_mean(const Vec& xt) const {
        return C * (Sigma.inverse() * mu + xt / (sigma * sigma));
    }
};

/// sigma^4 H + sigma^2 I, the dense oracle.
Mat dense_cov(const Mat& H, double sigma) {
    const double v = sigma * sigma;
    return v * v * H + v * Mat::Identity(H.rows(), H.cols());
}

}  // namespace

TEST_CASE_TEMPLATE("tweedie/posterior: posterior mean is the exact Gaussian posterior mean", B,
                   HOSM_TEST_BACKENDS) {
    // Tolerance 1e-12 relative: only rounding (inverses of a well-conditioned 4x4).
    const gaussian_case g;
    constexpr index_t N = 33;
    matrix<double> X(g.D, N), S1(g.D, N);
    for (index_t j = 0; j < N; ++j) {
        for (int i = 0; i < g.D; ++i) X(i, j) = 2 * noise(1000 + static_cast<int>(j) * g.D + i);
        S1.col(j) = -g.Q * (X.col(j) - g.mu);
    }
    batch<double, B> xb(X), sb(S1), out(g.D, N);
    tweedie::posterior_mean(xb, sb, g.sigma, out);
    const matrix<double> M = out.to_eigen();
    for (index_t j = 0; j < N; ++j) {
        const Vec want = g.posterior_mean(X.col(j));
        CHECK((M.col(j) - want).norm() <= 1e-12 * want.norm());
    }
    // view form, in place over s1
    tweedie::posterior_mean<B>(xb.view(), sb.view(), g.sigma, sb.view());
    CHECK((sb.to_eigen() - M).norm() == 0.0);
}

TEST_CASE("tweedie/posterior: per-sample kernels") {
    const double x[3] = {1.0, -2.0, 0.5}, s1[3] = {0.25, 4.0, -1.0};
    double out[3];
    tweedie::mean(x, s1, 3, 0.5, out);
    CHECK(out[0] == 1.0 + 0.25 * 0.25);
    CHECK(out[1] == -2.0 + 0.25 * 4.0);
    CHECK(out[2] == 0.5 - 0.25);
    double d[2] = {-3.0, 1.0}, dout[2];
    tweedie::covariance(hessian::diagonal_view<const double>{d, 2}, 0.5,
                        hessian::diagonal_view<double>{dout, 2});
    CHECK(dout[0] == doctest::Approx(0.0625 * -3.0 + 0.25));
    CHECK(dout[1] == doctest::Approx(0.0625 + 0.25));
    // float batches with a double sigma literal
    batch<float> xf(2, 1, 1.0f), sf(2, 1, 2.0f), of(2, 1);
    tweedie::posterior_mean(xf, sf, 0.5, of);
    CHECK(of.to_eigen()(1, 0) == 1.5f);
}

TEST_CASE_TEMPLATE("tweedie/posterior: full s2 of a Gaussian gives the exact posterior covariance",
                   B, HOSM_TEST_BACKENDS) {
    // s2 = -(Sigma + sigma^2 I)^-1 for every sample: sigma^4 s2 + sigma^2 I = C exactly
    // (up to rounding; 1e-12 relative).
    const gaussian_case g;
    constexpr index_t N = 5;
    hessian::batch<hessian::full, double, B> s2(g.D, N), cov(g.D, N);
    for (index_t j = 0; j < N; ++j)
        std::copy(g.Q.data(), g.Q.data() + g.D * g.D, s2.data() + j * g.D * g.D);
    for (index_t k = 0; k < g.D * g.D * N; ++k) s2.data()[k] = -s2.data()[k];
    tweedie::posterior_covariance(s2, g.sigma, cov);
    for (index_t j = 0; j < N; ++j) {
        const Eigen::Map<const Mat> got(cov.data() + j * g.D * g.D, g.D, g.D);
        CHECK((got - g.C).norm() <= 1e-12 * g.C.norm());
    }
}

TEST_CASE_TEMPLATE("tweedie/posterior: structured covariance equals the dense formula", B,
                   HOSM_TEST_BACKENDS) {
    // For full, diagonal, low_rank<2> and low_rank<dynamic> s2 (N = 6 samples,
    // D = 5), to_dense(covariance) = sigma^4 to_dense(s2) + sigma^2 I to 1e-14
    // relative (the low-rank form scales B by sigma^2 = sqrt(sigma^4): one
    // extra rounding). Also in place (out = s2).
    constexpr index_t D = 5, N = 6;
    const double sigma = 0.8;
    int seed = 0;
    auto check_structure = [&](auto& s2, auto& out, auto dense_of) {
        auto fill = [&](double* p, index_t n) {
            for (index_t k = 0; k < n; ++k) p[k] = noise(seed++);
        };
        using S = typename std::remove_reference_t<decltype(s2)>::structure;
        if constexpr (std::is_same_v<S, hessian::full>) {
            fill(s2.data(), D * D * N);
            for (index_t j = 0; j < N; ++j) {  // symmetrize
                Eigen::Map<Mat> h(s2.data() + j * D * D, D, D);
                const Mat sym = 0.5 * (h + h.transpose());
                h = sym;
            }
        } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
            fill(s2.data(), D * N);
        } else {
            fill(s2.alpha_data(), D * N);
            fill(s2.B_data(), D * s2.rank() * N);
        }
        tweedie::posterior_covariance(s2, sigma, out);
        for (index_t j = 0; j < N; ++j) {
            const Mat want = dense_cov(dense_of(s2, j), sigma), got = dense_of(out, j);
            CHECK((got - want).norm() <= 1e-14 * want.norm());
        }
        std::vector<Mat> before;
        for (index_t j = 0; j < N; ++j) before.push_back(dense_of(out, j));
        tweedie::posterior_covariance(s2, sigma, s2);  // in place
        for (index_t j = 0; j < N; ++j)
            CHECK((dense_of(s2, j) - before[j]).norm() <= 1e-15 * before[j].norm());
    };
    auto dense_of = [](auto& h, index_t j) {
        Mat m(h.dim(), h.dim());
        hessian::to_dense(h.sample(j), m.data());
        return m;
    };
    {
        hessian::batch<hessian::full, double, B> s2(D, N), out(D, N);
        check_structure(s2, out, dense_of);
    }
    {
        hessian::batch<hessian::diagonal, double, B> s2(D, N), out(D, N);
        check_structure(s2, out, dense_of);
    }
    {
        hessian::batch<hessian::low_rank<2>, double, B> s2(D, N), out(D, N);
        check_structure(s2, out, dense_of);
    }
    {
        hessian::batch<hessian::low_rank<dynamic>, double, B> s2(D, N, 3), out(D, N, 3);
        check_structure(s2, out, dense_of);
    }
}

TEST_CASE("tweedie/posterior: bad inputs raise hosm::error naming the argument") {
    batch<double> x(3, 4), s1(3, 4), out(3, 4), s1_short(2, 4), out_few(3, 3);
    CHECK(message_of([&] { tweedie::posterior_mean(x, s1, 0.0, out); }) ==
          "hosm: tweedie::posterior_mean: argument 'sigma' must be finite and > 0, got 0");
    CHECK_THROWS_AS(tweedie::posterior_mean(x, s1, -0.1, out), hosm::error);
    CHECK_THROWS_AS(tweedie::posterior_mean(x, s1, std::nan(""), out), hosm::error);
    CHECK(message_of([&] { tweedie::posterior_mean(x, s1_short, 0.5, out); }) ==
          "hosm: tweedie::posterior_mean: dimension mismatch: argument 's1 (dim)' has size 2, "
          "expected 3");
    CHECK(message_of([&] { tweedie::posterior_mean(x, s1, 0.5, out_few); }).find("'out (count)'") !=
          std::string::npos);

    hessian::batch<hessian::full, double> f(3, 2), f4(4, 2), f1(3, 1);
    CHECK(message_of([&] { tweedie::posterior_covariance(f, -1.0, f); }).find("'sigma'") !=
          std::string::npos);
    CHECK(message_of([&] { tweedie::posterior_covariance(f, 0.5, f4); }).find("'out (dim)'") !=
          std::string::npos);
    CHECK(message_of([&] { tweedie::posterior_covariance(f, 0.5, f1); }).find("'out (count)'") !=
          std::string::npos);
    hessian::batch<hessian::low_rank<dynamic>, double> l2(3, 2, 2), l1(3, 2, 1);
    CHECK(message_of([&] { tweedie::posterior_covariance(l2, 0.5, l1); }) ==
          "hosm: tweedie::posterior_covariance: dimension mismatch: argument 'out (rank)' has size "
          "1, "
          "expected 2");
}
