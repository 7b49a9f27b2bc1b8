// Tests of targets::m_density (hosm/targets/m_density.hpp), the M-density of
// seed 003 (Eq. 4-7).
//
// Oracles: for a Gaussian p = N(mu, Sigma) the M-density is the Gaussian
// N(1_M (x) mu, 1_M 1_M^T (x) Sigma + sigma^2 I_{MD}) in M D dimensions, built
// here as a plain targets::gaussian; its log density and score must agree to
// 1e-12 relative. For a Gaussian mixture (no such dense form is written here)
// the score is checked against central differences of the M-density's log
// density (1e-6 of the magnitude, fd_support.hpp). The posterior mean E[x | y]
// is checked against the Gaussian conditional Sigma (Sigma + sigma_eff^2 I)^{-1}
// (ybar - mu) + mu (1e-12). Samples: moments of y within 5 standard errors.
#include "support/backends.hpp"
#include "targets/fd_support.hpp"

#include <cmath>
#include <vector>

#include <hosm/backend/batch.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/targets/gaussian_mixture.hpp>
#include <hosm/targets/m_density.hpp>

using namespace hosm;
using namespace target_test;

namespace {

vd mu2() {
    vd m(2);
    m << 0.3, -0.7;
    return m;
}
md sigma2() {
    md S(2, 2);
    S << 1.5, 0.4, 0.4, 0.6;
    return S;
}

/// The M-density of N(mu, Sigma) written densely.
targets::gaussian<double> dense_m_density(const vd& mu, const md& S, double sigma, index_t M) {
    const index_t D = mu.size();
    vd m(M * D);
    md C(M * D, M * D);
    for (index_t a = 0; a < M; ++a) {
        m.segment(a * D, D) = mu;
        for (index_t b = 0; b < M; ++b) C.block(a * D, b * D, D, D) = S;
    }
    C.diagonal().array() += sigma * sigma;
    return targets::gaussian<double>(m, C);
}

}  // namespace

TEST_CASE_TEMPLATE("targets/m_density: a Gaussian's M-density is the dense M D Gaussian", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    for (index_t M : {1, 2, 4}) {
        CAPTURE(M);
        const double sigma = 0.8;
        const targets::m_density md_(g, noise::multimeasurement<double>{sigma, M});
        CHECK(md_.dim() == 2 * M);
        CHECK(md_.base_dim() == 2);
        CHECK(md_.measurements() == M);
        const auto ref = dense_m_density(mu2(), sigma2(), sigma, M);
        const md Y = ref.sample(random::stream{6, 0}, 7);
        const md lp = md_.log_density(Y), lr = ref.log_density(Y);
        CHECK(close(lp, lr, 1e-12, mag(lr)));
        const md s = md_.score(Y), sr = ref.score(Y);
        CHECK(close(s, sr, 1e-12, mag(sr)));
        // E[x | y] = mu + Sigma (Sigma + sigma_eff^2 I)^{-1} (ybar - mu)  (Eq. 7)
        const md ybar = noise::multimeasurement<double>{sigma, M}.mean(Y);
        const md K = sigma2() * (sigma2() + sigma * sigma / double(M) * md::Identity(2, 2)).inverse();
        const md want = (K * (ybar.colwise() - mu2())).colwise() + mu2();
        CHECK(close(md_.posterior_mean(Y), want, 1e-12, mag(want)));
    }
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/m_density: M = 1 is the smoothed target at sigma") {
    const targets::gaussian<double> g(mu2(), sigma2());
    const targets::m_density m1(g, noise::multimeasurement<double>{0.5, 1});
    const auto q = g.smoothed(0.5);
    md Y(2, 3);
    Y << 0.1, 1.0, -2.0, 0.4, -0.3, 0.9;
    CHECK(close(m1.log_density(Y), q.log_density(Y), 1e-13, 4.0));
    CHECK(close(m1.score(Y), q.score(Y), 1e-13, 2.0));
}
#endif

TEST_CASE_TEMPLATE("targets/m_density: a Gaussian mixture's M-density score is grad log p(y)", B,
                   HOSM_TEST_BACKENDS) {
    vd w(2);
    w << 0.4, 0.6;
    md mu(2, 2);
    mu << -1.0, 0.5, 1.0, -0.5;
    md S0(2, 2), S1(2, 2);
    S0 << 0.5, 0.1, 0.1, 0.3;
    S1 << 0.4, 0.0, 0.0, 0.8;
    const targets::gaussian_mixture<double, B> p(w, mu, std::vector<md>{S0, S1});
    const index_t M = 3;
    const targets::m_density md_(p, noise::multimeasurement<double>{0.6, M});
    const md Y = md_.sample(random::stream{12, 2}, 4);
    CHECK(Y.rows() == 6);
    for (index_t j = 0; j < Y.cols(); ++j) {
        CAPTURE(j);
        const vd y = Y.col(j);
        const md s = md_.score(md(y));
        const double lp = md_.log_density(md(y))(0, 0);
        CHECK(close(s, fd_score(md_, y), 1e-6, std::max({1.0, mag(s), std::abs(lp)})));
    }
}

TEST_CASE_TEMPLATE("targets/m_density: sample moments of y", B, HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const double sigma = 0.5;
    const index_t M = 3;
    const targets::m_density md_(g, noise::multimeasurement<double>{sigma, M});
    const md Y = md_.sample(random::stream{31, 0}, 20000);
    const auto ref = dense_m_density(mu2(), sigma2(), sigma, M);
    check_moments(Y, ref.mean(), ref.covariance());
    // x comes from stream s, the noise from {s.seed, ~s.id}: the mean of the
    // measurements minus the clean draw is the noise mean, N(0, sigma^2 / M)
    const md X = g.sample(random::stream{31, 0}, 20000);
    const md ybar = noise::multimeasurement<double>{sigma, M}.mean(Y);
    const md r = ybar - X;
    const double var = r.array().square().mean();
    CHECK(std::abs(var - sigma * sigma / double(M)) <= 5 * std::sqrt(2.0 / 40000.0) * sigma * sigma / M);
}

TEST_CASE_TEMPLATE("targets/m_density: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    CHECK_THROWS_AS(targets::m_density(g, noise::multimeasurement<double>{0.0, 2}), hosm::error);
    CHECK_THROWS_AS(targets::m_density(g, noise::multimeasurement<double>{0.5, 0}), hosm::error);
    const targets::m_density md_(g, noise::multimeasurement<double>{0.5, 2});
    CHECK_THROWS_AS(md_.score(md::Zero(2, 3)), hosm::error);  // D rows, not M D
    CHECK_THROWS_AS(md_.log_density(md::Zero(5, 3)), hosm::error);
    md Y = md::Zero(4, 2);
    Y(3, 1) = std::nan("");
    CHECK_THROWS_AS(md_.score(Y), hosm::error);
    CHECK_THROWS_AS(md_.log_density(Y), hosm::error);
    CHECK_THROWS_AS(md_.posterior_mean(Y), hosm::error);
}
