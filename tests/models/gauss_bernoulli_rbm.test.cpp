#include "support/backends.hpp"

#include <cmath>
#include <limits>
#include <random>

#include <hosm/core/eigen.hpp>
#include <hosm/models/gauss_bernoulli_rbm.hpp>

using namespace hosm;
using namespace hosm::models;

namespace {

/// Fills every parameter with N(0, scale^2) draws (so biases are non-zero too).
template <class Rbm>
void randomize(Rbm& rbm, std::uint64_t seed, double scale) {
    std::mt19937_64 g(seed);
    std::normal_distribution<double> n(0.0, scale);
    for (auto& p : rbm.parameters()) p = n(g);
}

/// -F(v) by brute force: log sum_h exp(-E(v, h)) over all 2^H hidden states.
double log_marginal_brute(const matrix<double>& W, const vector<double>& c, const vector<double>& b,
                          const vector<double>& v) {
    const index_t H = W.rows();
    double m = -std::numeric_limits<double>::infinity();
    std::vector<double> e;
    for (index_t mask = 0; mask < (index_t(1) << H); ++mask) {
        vector<double> h(H);
        for (index_t i = 0; i < H; ++i) h[i] = (mask >> i) & 1;
        const double neg_e = h.dot(W * v) + c.dot(v) + b.dot(h) - 0.5 * v.squaredNorm();
        e.push_back(neg_e);
        m = std::fmax(m, neg_e);
    }
    double s = 0;
    for (double x : e) s += std::exp(x - m);
    return m + std::log(s);
}

}  // namespace

TEST_CASE_TEMPLATE("models/gauss_bernoulli_rbm: free energy is the exact marginal over h", B,
                   HOSM_TEST_BACKENDS) {
    // Brute-force sum over 2^4 hidden states: agreement to ~1e-13 relative.
    gauss_bernoulli_rbm<double, B> rbm(3, 4);
    randomize(rbm, 1, 0.8);
    CHECK(rbm.parameter_count() == 4 * 3 + 3 + 4);
    const double* p = thrust::raw_pointer_cast(rbm.parameters().data());
    const Eigen::Map<const matrix<double>> W(p, 4, 3);
    const Eigen::Map<const vector<double>> c(p + rbm.visible_bias_offset(), 3);
    const Eigen::Map<const vector<double>> b(p + rbm.hidden_bias_offset(), 4);
    const matrix<double> v = matrix<double>::Random(3, 6) * 2;
    const matrix<double> F = rbm.free_energy(v), ld = rbm.log_density(v);
    for (index_t j = 0; j < 6; ++j) {
        const double ref = log_marginal_brute(W, c, b, v.col(j));
        CHECK(-F(0, j) == doctest::Approx(ref).epsilon(1e-13));
        CHECK(ld(0, j) == -F(0, j));
    }
}

TEST_CASE_TEMPLATE("models/gauss_bernoulli_rbm: score and Laplacian against finite differences of log p",
                   B, HOSM_TEST_BACKENDS) {
    // Score: central differences of -F, h = 1e-5: O(h^2) + O(eps/h) ~ 1e-10; tol 1e-8.
    // Hyvärinen score l(v) = 1/2 ||s||^2 + Lap log p: Laplacian by second
    // differences with h = 1e-4: O(h^2) + O(eps/h^2) ~ 1e-8; tol 1e-6.
    const index_t D = 4, H = 5;
    gauss_bernoulli_rbm<double, B> rbm(D, H);
    randomize(rbm, 2, 0.7);
    const matrix<double> v = matrix<double>::Random(D, 3) * 1.5;
    const matrix<double> s = rbm.score(v);
    auto logp = [&](const vector<double>& x) {
        matrix<double> m = x;
        return rbm.log_density(m)(0, 0);
    };
    for (index_t j = 0; j < v.cols(); ++j) {
        const vector<double> x = v.col(j);
        double lap = 0;
        for (index_t k = 0; k < D; ++k) {
            vector<double> xp = x, xm = x;
            xp[k] += 1e-5;
            xm[k] -= 1e-5;
            CHECK((logp(xp) - logp(xm)) / 2e-5 == doctest::Approx(s(k, j)).epsilon(1e-8).scale(1.0));
            xp[k] = x[k] + 1e-4;
            xm[k] = x[k] - 1e-4;
            lap += (logp(xp) - 2 * logp(x) + logp(xm)) / 1e-8;
        }
        const matrix<double> one = x;
        const double l = rbm.score_matching_loss(view(one));
        CHECK(l == doctest::Approx(0.5 * s.col(j).squaredNorm() + lap).epsilon(1e-6).scale(1.0));
    }
}

TEST_CASE_TEMPLATE("models/gauss_bernoulli_rbm: score-matching gradient against finite differences",
                   B, HOSM_TEST_BACKENDS) {
    // dL/dtheta vs central differences of L, h = 1e-6 (1 + |theta_k|):
    // O(h^2) + O(eps / h) ~ 1e-10; tolerance 1e-7 (1 + |g_k|).
    const index_t D = 3, H = 4, N = 7;
    gauss_bernoulli_rbm<double, B> rbm(D, H);
    randomize(rbm, 3, 0.6);
    const matrix<double> v = matrix<double>::Random(D, N) * 2;
    rbm.zero_gradients();
    const double L = rbm.score_matching_loss_and_gradient(view(v));
    CHECK(L == doctest::Approx(rbm.score_matching_loss(view(v))).epsilon(1e-15));
    std::vector<double> g(rbm.gradients().begin(), rbm.gradients().end());
    double* p = thrust::raw_pointer_cast(rbm.parameters().data());
    double worst = 0;
    for (index_t k = 0; k < rbm.parameter_count(); ++k) {
        const double p0 = p[k], h = 1e-6 * (1 + std::fabs(p0));
        p[k] = p0 + h;
        const double Lp = rbm.score_matching_loss(view(v));
        p[k] = p0 - h;
        const double Lm = rbm.score_matching_loss(view(v));
        p[k] = p0;
        worst = std::fmax(worst, std::fabs((Lp - Lm) / (2 * h) - g[k]) / (1 + std::fabs(g[k])));
    }
    CHECK(worst <= 1e-7);
    // gradients accumulate
    (void)rbm.score_matching_loss_and_gradient(view(v));
    for (index_t k = 0; k < rbm.parameter_count(); ++k) CHECK(rbm.gradients()[k] == doctest::Approx(2 * g[k]));
}

TEST_CASE("models/gauss_bernoulli_rbm: gradient descent on the SM objective fits the data") {
    // Many small steps: run on the sequential back end only (the batched passes are
    // covered on every back end above; 300 steps of thread-pool launches are slow
    // on a loaded 2-core CI machine).
    using B = backend::cpp;
    // Data N(mu, I): the RBM family contains it (W = 0, c = mu) and the SM loss there
    // is E[1/2 ||mu - v||^2] - D = -D/2. 300 plain gradient steps from the default
    // initialisation reach it: loss within 0.05 of the sample optimum and the learned
    // score within 0.1 (rms per coordinate) of vbar - v on the data. (c alone is not
    // identifiable: saturated hidden units add a constant W^T rho to it.)
    const index_t D = 3, N = 512;
    std::mt19937_64 g(4);
    std::normal_distribution<double> n(0.0, 1.0);
    const vector<double> mu = (vector<double>(3) << 1.0, -0.5, 2.0).finished();
    matrix<double> v(D, N);
    for (index_t k = 0; k < v.size(); ++k) v.data()[k] = n(g);
    v.colwise() += mu;
    gauss_bernoulli_rbm<double, B> rbm(D, 4, random::stream{5, 0}, 0.1);
    const double L0 = rbm.score_matching_loss(view(v));
    double L = L0;
    for (int step = 0; step < 300; ++step) {
        rbm.zero_gradients();
        L = rbm.score_matching_loss_and_gradient(view(v));
        for (index_t k = 0; k < rbm.parameter_count(); ++k) rbm.parameters()[k] -= 0.1 * rbm.gradients()[k];
    }
    const vector<double> vbar = v.rowwise().mean();
    const matrix<double> vc = v.colwise() - vbar;
    const double best = 0.5 * vc.squaredNorm() / N - D;  // W = 0, c = vbar
    CHECK(L0 > best + 1.0);
    CHECK(L <= best + 0.05);
    const matrix<double> s = rbm.score(v);
    const double rms = std::sqrt((s + vc).squaredNorm() / double(D * N));
    CHECK(rms <= 0.1);
}

TEST_CASE_TEMPLATE("models/gauss_bernoulli_rbm: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    CHECK_THROWS_AS((gauss_bernoulli_rbm<double, B>(0, 3)), hosm::error);
    CHECK_THROWS_AS((gauss_bernoulli_rbm<double, B>(3, 0)), hosm::error);
    CHECK_THROWS_AS((gauss_bernoulli_rbm<double, B>(3, 2, random::stream{}, -1.0)), hosm::error);
    gauss_bernoulli_rbm<double, B> rbm(3, 2);
    const matrix<double> wrong = matrix<double>::Random(4, 5);
    CHECK_THROWS_AS(rbm.score(wrong), hosm::error);
    CHECK_THROWS_AS(rbm.score_matching_loss(view(wrong)), hosm::error);
    matrix<double> v = matrix<double>::Random(3, 5), out(3, 4), F(2, 5);
    CHECK_THROWS_AS(rbm.score(view(v), view(out)), hosm::error);
    CHECK_THROWS_AS(rbm.free_energy(view(v), view(F)), hosm::error);
    const matrix<double> empty(3, 0);
    CHECK_THROWS_AS(rbm.score_matching_loss(view(empty)), hosm::error);
    v(2, 3) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(rbm.score(v), hosm::error);
    CHECK_THROWS_AS(rbm.score_matching_loss_and_gradient(view(v)), hosm::error);
    CHECK_THROWS_AS(rbm.log_density(v), hosm::error);
    for (double gk : rbm.gradients()) CHECK(gk == 0.0);  // nothing was added before the throw
}
