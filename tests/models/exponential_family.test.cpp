#include "support/backends.hpp"

#include <cmath>
#include <limits>
#include <random>

#include <hosm/core/eigen.hpp>
#include <hosm/models/exponential_family.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/gaussian.hpp>

using namespace hosm;
using namespace hosm::models;

namespace {

matrix<double> test_covariance() {
    matrix<double> S(3, 3);
    S << 1.5, 0.4, -0.3,  //
        0.4, 0.8, 0.2,    //
        -0.3, 0.2, 2.0;
    return S;
}

/// Reference moments from per-sample Eigen: A = mean J^T J, b = mean (Lap T + J^T grad a).
template <class S>
std::pair<matrix<double>, vector<double>> reference_moments(const S& s, const matrix<double>& x) {
    const index_t D = s.dim(), K = s.size();
    matrix<double> A = matrix<double>::Zero(K, K);
    vector<double> b = vector<double>::Zero(K);
    for (index_t j = 0; j < x.cols(); ++j) {
        matrix<double> G(K, D);  // (grad T)^T = J^T
        vector<double> lap(K), ga(D);
        double la = 0;
        s.derivatives(x.col(j).data(), G.data(), lap.data());
        s.base(x.col(j).data(), ga.data(), &la);
        A += G * G.transpose();
        b += lap + G * ga;
    }
    return {A / double(x.cols()), b / double(x.cols())};
}

}  // namespace

TEST_CASE_TEMPLATE("models/exponential_family: Gaussian statistics recover mean and precision",
                   B, HOSM_TEST_BACKENDS) {
    const index_t D = 3, N = 20000;
    const vector<double> mu = (vector<double>(3) << 0.5, -1.0, 2.0).finished();
    const matrix<double> Sigma = test_covariance(), P = Sigma.inverse();
    const targets::gaussian<double, B> g(mu, Sigma);
    const matrix<double> x = g.sample(random::stream{11, 0}, N);
    const batch<double, B> xb(x);

    gaussian_statistics<double> stats{D};
    CHECK(stats.size() == 9);
    exponential_family<gaussian_statistics<double>, B> m(stats);
    const vector<double> theta = m.fit(xb.view());
    CHECK((theta - m.theta()).norm() == 0.0);
    const matrix<double> Phat = stats.precision(theta);
    const vector<double> muhat = stats.mean(theta);

    // Exact: score matching on the Gaussian family IS the MLE (sample mean, inverse
    // of the 1/N sample covariance), up to rounding of the two solves (~1e-12).
    const vector<double> xbar = x.rowwise().mean();
    const matrix<double> xc = x.colwise() - xbar;
    const matrix<double> Shat = xc * xc.transpose() / double(N);
    CHECK((muhat - xbar).norm() <= 1e-10 * (1 + xbar.norm()));
    CHECK((Phat - Shat.inverse()).norm() <= 1e-10 * Phat.norm());

    // Within Monte Carlo error of the truth (5 standard errors): sd(xbar_i) =
    // sqrt(Sigma_ii / N); sd(Phat_ij) ~ sqrt((P_ij^2 + P_ii P_jj) / N) (Wishart).
    for (index_t i = 0; i < D; ++i) CHECK(std::fabs(muhat[i] - mu[i]) <= 5 * std::sqrt(Sigma(i, i) / N));
    double worst_true = 0, worst_wrong = 0;  // in units of the tolerance
    for (index_t i = 0; i < D; ++i)
        for (index_t j = 0; j < D; ++j) {
            const double tol = 5 * std::sqrt((P(i, j) * P(i, j) + P(i, i) * P(j, j)) / N);
            worst_true = std::fmax(worst_true, std::fabs(Phat(i, j) - P(i, j)) / tol);
            worst_wrong = std::fmax(worst_wrong, std::fabs(Phat(i, j) - 1.1 * P(i, j)) / tol);
        }
    CHECK(worst_true <= 1.0);
    CHECK(worst_wrong > 1.0);  // the tolerance is tight enough to reject a 10% error
}

TEST_CASE_TEMPLATE("models/exponential_family: score, log density and Hyvärinen score of a Gaussian",
                   B, HOSM_TEST_BACKENDS) {
    // Exact formulas: s1 = -P (x - mu), theta^T T = eta^T x - x^T P x / 2,
    // 1/2 ||s1||^2 + Lap log p = 1/2 ||P (x - mu)||^2 - tr P; all to ~1e-13.
    const vector<double> mu = (vector<double>(3) << 0.5, -1.0, 2.0).finished();
    const matrix<double> P = test_covariance().inverse();
    gaussian_statistics<double> stats{3};
    const vector<double> theta = stats.parameters(mu, P);
    CHECK((stats.precision(theta) - P).norm() <= 1e-14);
    CHECK((stats.mean(theta) - mu).norm() <= 1e-13);
    exponential_family<gaussian_statistics<double>, B> m(stats, theta);
    const matrix<double> x = matrix<double>::Random(3, 7) * 2;
    const matrix<double> s = m.score(x);
    CHECK((s + P * (x.colwise() - mu)).cwiseAbs().maxCoeff() <= 1e-13);
    const matrix<double> ld = m.log_density(x);
    double sm = 0;
    for (index_t j = 0; j < 7; ++j) {
        const vector<double> xj = x.col(j);
        CHECK(ld(0, j) == doctest::Approx((P * mu).dot(xj) - 0.5 * xj.dot(P * xj)).epsilon(1e-13));
        sm += 0.5 * (P * (xj - mu)).squaredNorm() - P.trace();
    }
    CHECK(m.score_matching_loss(view(x)) == doctest::Approx(sm / 7).epsilon(1e-13));
}

TEST_CASE_TEMPLATE("models/exponential_family: moments and the estimator minimise the empirical SM objective",
                   B, HOSM_TEST_BACKENDS) {
    // Non-Gaussian family: quartic polynomials per coordinate with a Gaussian base
    // measure (c = 0.5), data from a skewed distribution (not in the family).
    std::mt19937_64 rng(5);
    std::gamma_distribution<double> gam(2.0, 0.7);
    std::normal_distribution<double> nrm(0.0, 1.0);
    const index_t D = 2, N = 400;
    matrix<double> x(D, N);
    for (index_t j = 0; j < N; ++j) {
        x(0, j) = gam(rng) - 1.4;
        x(1, j) = 0.5 * nrm(rng) + 0.3 * x(0, j);
    }
    const batch<double, B> xb(x);
    polynomial_statistics<double> stats{D, 4, 0.5};
    CHECK(stats.size() == 8);

    // moments against a per-sample Eigen reference (the GEMM path): ~1e-13 relative.
    const auto mom = score_matching_moments<B>(stats, xb.view());
    const auto [Aref, bref] = reference_moments(stats, x);
    CHECK(mom.count == N);
    CHECK((mom.A - Aref).norm() <= 1e-12 * Aref.norm());
    CHECK((mom.b - bref).norm() <= 1e-12 * bref.norm());

    exponential_family<polynomial_statistics<double>, B> m(stats);
    const vector<double> theta_hat = m.fit(xb.view());
    CHECK((theta_hat - fit_score_matching<B>(stats, xb.view())).norm() == 0.0);
    CHECK((mom.A * theta_hat + mom.b).norm() <= 1e-9 * mom.b.norm());

    // gradient of J at theta_hat vanishes (relative to the gradient at theta = 0, which is b)
    m.zero_gradients();
    const double J0 = m.score_matching_loss_and_gradient(xb.view());
    vector<double> g(stats.size());
    thrust::copy(m.gradients().begin(), m.gradients().end(), g.data());
    CHECK(g.norm() <= 1e-9 * mom.b.norm());
    // J is the quadratic 1/2 theta^T A theta + b^T theta + c: moving away by delta
    // raises it by exactly 1/2 delta^T A delta > 0 (1e-9 relative: cancellation in J).
    for (int trial = 0; trial < 5; ++trial) {
        const vector<double> delta = vector<double>::Random(stats.size()) * 0.1;
        m.set_theta(theta_hat + delta);
        const double J1 = m.score_matching_loss(xb.view());
        const double q = 0.5 * delta.dot(mom.A * delta);
        CHECK(q > 0);
        CHECK(J1 - J0 == doctest::Approx(q).epsilon(1e-8));
    }

    // gradient at a random theta against central differences of the loss:
    // h = 1e-5, J quadratic so the FD is exact up to rounding (~1e-10); tol 1e-7.
    const vector<double> theta = theta_hat + vector<double>::Random(stats.size()) * 0.2;
    m.set_theta(theta);
    m.zero_gradients();
    (void)m.score_matching_loss_and_gradient(xb.view());
    thrust::copy(m.gradients().begin(), m.gradients().end(), g.data());
    CHECK((g - (mom.A * theta + mom.b)).norm() <= 1e-10 * (1 + g.norm()));
    for (index_t k = 0; k < stats.size(); ++k) {
        vector<double> tp = theta, tm = theta;
        const double h = 1e-5 * (1 + std::fabs(theta[k]));
        tp[k] += h;
        tm[k] -= h;
        m.set_theta(tp);
        const double Jp = m.score_matching_loss(xb.view());
        m.set_theta(tm);
        const double Jm = m.score_matching_loss(xb.view());
        CHECK((Jp - Jm) / (2 * h) == doctest::Approx(g[k]).epsilon(1e-7).scale(1.0));
    }
}

TEST_CASE_TEMPLATE("models/exponential_family: a base measure enters the estimator", B,
                   HOSM_TEST_BACKENDS) {
    // T(x) = x, a(x) = -||x||^2 / 2 (unit-variance Gaussian with free mean):
    // theta_hat = -(N I)^{-1} sum(0 - x) = the sample mean, exactly.
    const matrix<double> x = matrix<double>::Random(3, 50);
    const batch<double, B> xb(x);
    polynomial_statistics<double> stats{3, 1, 1.0};
    const vector<double> theta = fit_score_matching<B>(stats, xb.view());
    CHECK((theta - x.rowwise().mean()).norm() <= 1e-14);
    exponential_family<polynomial_statistics<double>, B> m(stats, theta);
    CHECK((m.score(x) - (theta.replicate(1, 50) - x)).cwiseAbs().maxCoeff() <= 1e-14);
}

TEST_CASE_TEMPLATE("models/exponential_family: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    CHECK_THROWS_AS(gaussian_statistics<double>{0}, hosm::error);
    CHECK_THROWS_AS((polynomial_statistics<double>{2, 0}), hosm::error);
    CHECK_THROWS_AS((polynomial_statistics<double>{2, 2, -1.0}), hosm::error);
    gaussian_statistics<double> stats{2};  // K = 5
    exponential_family<gaussian_statistics<double>, B> m(stats);
    // fewer samples than parameters
    const matrix<double> few = matrix<double>::Random(2, 4);
    CHECK_THROWS_AS(m.fit(view(few)), hosm::error);
    CHECK_THROWS_AS(fit_score_matching<B>(stats, view(few)), hosm::error);
    // singular moment matrix: every sample equal (A has rank <= D = 2 < K = 5)
    const matrix<double> same = vector<double>::Constant(2, 0.3).replicate(1, 20);
    CHECK_THROWS_AS(m.fit(view(same)), hosm::error);
    // singular: samples on a line (x_2 = 2 x_1), so x_2 - 2 x_1 is constant
    matrix<double> line = matrix<double>::Random(2, 30);
    line.row(1) = 2 * line.row(0);
    CHECK_THROWS_AS(m.fit(view(line)), hosm::error);
    // dimension mismatch and non-finite data
    const matrix<double> wrong = matrix<double>::Random(3, 20);
    CHECK_THROWS_AS(m.fit(view(wrong)), hosm::error);
    matrix<double> bad = matrix<double>::Random(2, 20);
    bad(1, 7) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.fit(view(bad)), hosm::error);
    CHECK_THROWS_AS(m.score(bad), hosm::error);
    CHECK_THROWS_AS(m.score_matching_loss(view(bad)), hosm::error);
    CHECK_THROWS_AS(m.score(wrong), hosm::error);
    matrix<double> ok = matrix<double>::Random(2, 20), out(2, 19);
    CHECK_THROWS_AS(m.score(view(ok), view(out)), hosm::error);
    CHECK_THROWS_AS(m.set_theta(vector<double>::Zero(4)), hosm::error);
    vector<double> nan_theta = vector<double>::Zero(5);
    nan_theta[2] = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(m.set_theta(nan_theta), hosm::error);
    // a non-positive-definite precision has no mean
    CHECK_THROWS_AS(stats.mean(stats.parameters(vector<double>::Zero(2), -matrix<double>::Identity(2, 2))),
                    hosm::error);
    // valid data still fits after the failures
    CHECK_NOTHROW(m.fit(view(ok)));
}
