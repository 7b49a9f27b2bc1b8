// Tests of targets::gaussian_mixture (hosm/targets/gaussian_mixture.hpp).
//
// Oracles: the density sum_k w_k N(x; mu_k, Sigma_k) summed directly in double
// (1e-12 relative where it does not underflow); central finite differences of
// log p and s1 (1e-6 of the magnitude, see fd_support.hpp); the exact identities
// diag(s2) = diagonal of the full s2 (1e-12) and diag(alpha) + B B^T = s2
// (1e-12 of the magnitude: the Householder and pivoted-Cholesky rewritings are
// exact up to rounding); the Monte Carlo convolution for smoothed() (5
// standard errors); sample moments (5 standard errors, estimated from the sample).
// The three low-rank paths are each exercised: diagonal covariances with
// K - 1 <= D (Householder), diagonal covariances with K - 1 > D and full
// covariances (pivoted Cholesky).
#include "support/backends.hpp"
#include "targets/fd_support.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <hosm/backend/batch.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/gaussian_mixture.hpp>

using namespace hosm;
using hosm_test::message_of;
using namespace target_test;

namespace {

// 3-d, K = 3, full covariances
vd w3() {
    vd w(3);
    w << 0.5, 0.3, 0.2;
    return w;
}
md means3() {
    md m(3, 3);
    m << 0.0, 0.0, 0.0,  //
        1.5, -1.0, 0.5,  //
        -1.0, 2.0, 1.0;
    return m;
}
std::vector<md> covs3() {
    md a(3, 3), b(3, 3), c(3, 3);
    a << 1.0, 0.3, 0.0, 0.3, 0.8, -0.2, 0.0, -0.2, 0.6;
    b << 0.5, 0.0, 0.1, 0.0, 0.7, 0.0, 0.1, 0.0, 1.2;
    c << 0.9, -0.4, 0.2, -0.4, 1.1, 0.3, 0.2, 0.3, 0.7;
    return {a, b, c};
}
// the same means with diagonal covariances
std::vector<md> diag_covs3() {
    std::vector<md> c;
    for (const md& S : covs3()) c.push_back(md(S.diagonal().asDiagonal()));
    return c;
}
md points3() {
    md X(3, 5);
    X << 0.2, 1.0, -0.8, 0.7, 3.0,  //
        -0.1, -0.5, 1.5, 0.4, -2.0, //
        0.3, 0.6, 0.9, 0.5, 1.0;
    return X;
}

double direct_density(const vd& x, const vd& w, const md& mu, const std::vector<md>& S) {
    double p = 0;
    for (index_t k = 0; k < w.size(); ++k) {
        const vd d = x - mu.row(k).transpose();
        const double q = d.dot(S[k].ldlt().solve(d));
        p += w(k) * std::exp(-0.5 * q) /
             std::sqrt(std::pow(2 * std::numbers::pi, double(x.size())) * S[k].determinant());
    }
    return p;
}

}  // namespace

TEST_CASE_TEMPLATE("targets/gaussian_mixture: log density equals the direct sum", B,
                   HOSM_TEST_BACKENDS) {
    for (bool diag : {false, true}) {
        CAPTURE(diag);
        const auto S = diag ? diag_covs3() : covs3();
        const targets::gaussian_mixture<double, B> p(w3(), means3(), S);
        CHECK(p.dim() == 3);
        CHECK(p.components() == 3);
        CHECK(p.diagonal_covariances() == diag);
        const md lp = p.log_density(points3());
        for (index_t j = 0; j < points3().cols(); ++j)
            CHECK(std::abs(lp(0, j) - std::log(direct_density(points3().col(j), w3(), means3(), S))) <=
                  1e-12 * std::max(1.0, std::abs(lp(0, j))));
    }
}

TEST_CASE_TEMPLATE("targets/gaussian_mixture: s1, s2 against finite differences, every structure",
                   B, HOSM_TEST_BACKENDS) {
    SUBCASE("full covariances (dense pivoted-Cholesky low-rank path)") {
        const targets::gaussian_mixture<double, B> p(w3(), means3(), covs3());
        CHECK(p.low_rank_rank() == 3);
        check_derivatives(p, points3());
    }
    SUBCASE("diagonal covariances, K - 1 <= D (Householder path)") {
        const targets::gaussian_mixture<double, B> p(w3(), means3(), diag_covs3());
        CHECK(p.low_rank_rank() == 2);
        check_derivatives(p, points3());
    }
    SUBCASE("diagonal covariances, K - 1 > D (pivoted-Cholesky path)") {
        // 5 isotropic components in 2-d
        vd w = vd::Constant(5, 0.2);
        md mu(5, 2);
        mu << 0, 0, 1, 0.5, -1, 0.8, 0.3, -1.2, -0.6, -0.4;
        std::vector<md> S;
        for (int k = 0; k < 5; ++k) S.push_back((0.3 + 0.1 * k) * md::Identity(2, 2));
        const targets::gaussian_mixture<double, B> p(w, mu, S);
        CHECK(p.low_rank_rank() == 2);
        md X(2, 4);
        X << 0.1, 0.5, -0.7, 2.0, 0.2, -0.3, 0.4, 1.0;
        check_derivatives(p, X);
    }
    SUBCASE("one component: a Gaussian") {
        const targets::gaussian_mixture<double, B> p(vd::Ones(1), means3().topRows(1),
                                                     std::vector<md>{covs3()[0]});
        check_derivatives(p, points3());
        const md P = covs3()[0].inverse();
        CHECK(close(p.hessian_full(points3().col(1)), -P, 1e-12, mag(P)));
    }
}

TEST_CASE_TEMPLATE("targets/gaussian_mixture: batched low-rank of a larger rank is padded", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian_mixture<double, B> p(w3(), means3(), diag_covs3());
    const batch<double, B> x(points3());
    const index_t N = x.count();
    hessian::batch<hessian::low_rank<3>, double, B> H(3, N);
    p.hessian_low_rank(x.view(), H);
    hessian::batch<hessian::full, double, B> F(3, N);
    p.hessian_full(x.view(), F);
    for (index_t j = 0; j < N; ++j) {
        const vd a = host_copy<B>(H.alpha_data() + 3 * j, 3, 1);
        const md Bm = host_copy<B>(H.B_data() + 9 * j, 3, 3);
        const md Fj = host_copy<B>(F.data() + 9 * j, 3, 3);
        CHECK(Bm.col(2).cwiseAbs().maxCoeff() == 0.0);
        CHECK(close(dense_low_rank({a, Bm}), Fj, 1e-12, mag(Fj)));
    }
    hessian::batch<hessian::low_rank<1>, double, B> H1(3, N);
    CHECK_THROWS_AS(p.hessian_low_rank(x.view(), H1), hosm::error);
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/gaussian_mixture: far from every mode (log-sum-exp stability)") {
    const targets::gaussian_mixture<double> p(w3(), means3(), covs3());
    vd x(3);
    x << 60.0, -45.0, 80.0;  // every component density underflows in double
    const double lp = p.log_density(md(x))(0, 0);
    double best = -HUGE_VAL;
    for (index_t k = 0; k < 3; ++k) {
        const vd d = x - means3().row(k).transpose();
        const md S = covs3()[k];
        best = std::max(best, std::log(w3()(k)) - 1.5 * std::log(2 * std::numbers::pi) -
                                  0.5 * std::log(S.determinant()) - 0.5 * d.dot(S.ldlt().solve(d)));
    }
    CHECK(std::isfinite(lp));
    CHECK(lp >= best);
    CHECK(lp <= best + std::log(3.0));
    CHECK(p.score(md(x)).allFinite());
    CHECK(p.hessian_full(x).allFinite());
    CHECK(dense_low_rank(p.hessian_low_rank(x)).allFinite());
}
#endif

TEST_CASE_TEMPLATE("targets/gaussian_mixture: sample moments within Monte Carlo error", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian_mixture<double, B> p(w3(), means3(), covs3());
    const md X = p.sample(random::stream{21, 4}, 20000);
    vd m = vd::Zero(3);
    md S2 = md::Zero(3, 3);
    for (index_t k = 0; k < 3; ++k) {
        const vd mk = means3().row(k).transpose();
        m += w3()(k) * mk;
        S2 += w3()(k) * (covs3()[k] + mk * mk.transpose());
    }
    check_moments(X, m, S2 - m * m.transpose());
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/gaussian_mixture: smoothed() is the convolution with N(0, sigma^2 I)") {
    for (bool diag : {false, true}) {
        CAPTURE(diag);
        const targets::gaussian_mixture<double> p(w3(), means3(), diag ? diag_covs3() : covs3());
        const double sigma = 0.6;
        const auto q = p.smoothed(sigma);
        CHECK(q.diagonal_covariances() == diag);
        for (index_t j : {0, 2}) {
            const vd x = points3().col(j);
            const auto e = mc_smoothed(p, sigma, x, 20000, 300 + j);
            CHECK(std::abs(q.log_density(md(x))(0, 0) - e.log_q) <= 5 * e.se_log_q);
            const md sq = q.score(md(x));
            for (index_t i = 0; i < 3; ++i)
                CHECK(std::abs(sq(i, 0) - e.score(i)) <= 5 * e.se_score(i));
        }
    }
}
#endif

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/gaussian_mixture: omp and cpp agree bit for bit") {
    const targets::gaussian_mixture<double, backend::omp> po(w3(), means3(), covs3());
    const targets::gaussian_mixture<double> pc(w3(), means3(), covs3());
    const md X = pc.sample(random::stream{3, 3}, 300);
    CHECK(po.score(X) == pc.score(X));
    CHECK(po.log_density(X) == pc.log_density(X));
    CHECK(po.sample(random::stream{3, 3}, 300) == X);
}
#endif

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/gaussian_mixture: float agrees with double in every structure") {
    // float rounding of O(1)-conditioned covariances: 1e-4 of the magnitude
    for (bool diag : {false, true}) {
        CAPTURE(diag);
        const auto S = diag ? diag_covs3() : covs3();
        std::vector<matrix<float>> Sf;
        for (const md& c : S) Sf.push_back(c.cast<float>());
        const targets::gaussian_mixture<float> pf(w3().cast<float>(), means3().cast<float>(), Sf);
        const targets::gaussian_mixture<double> pd(w3(), means3(), S);
        for (index_t j = 0; j < points3().cols(); ++j) {
            const vd x = points3().col(j);
            const hosm::vector<float> xf = x.cast<float>();
            const md H = pd.hessian_full(x);
            const md Hf = pf.hessian_full(xf).cast<double>();
            CHECK(close(Hf, H, 1e-4, mag(H)));
            const auto lr = pf.hessian_low_rank(xf);
            const md Hl = lr.first.cast<double>().asDiagonal().toDenseMatrix() +
                          (lr.second * lr.second.transpose()).cast<double>();
            CHECK(close(Hl, H, 1e-4, mag(H)));
            const md d = pf.hessian_diagonal(xf).cast<double>();
            CHECK(close(d, md(H.diagonal()), 1e-4, mag(H)));
        }
    }
}
#endif

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/gaussian_mixture: weights are renormalized within the 1e-6 tolerance") {
    vd w = w3();
    w(0) += 5e-7;
    const targets::gaussian_mixture<double> p(w, means3(), covs3());
    CHECK(p.weights().sum() == doctest::Approx(1.0).epsilon(1e-15));
}
#endif

TEST_CASE_TEMPLATE("targets/gaussian_mixture: bad input raises hosm::error", B,
                   HOSM_TEST_BACKENDS) {
    using GM = targets::gaussian_mixture<double, B>;
    vd w = w3();
    w(0) = 0.6;  // sums to 1.1
    CHECK(message_of([&] { GM(w, means3(), covs3()); }).find("weights' sum to") !=
          std::string::npos);
    vd neg = w3();
    neg(0) = -0.1;
    neg(1) = 0.9;
    CHECK(message_of([&] { GM(neg, means3(), covs3()); }).find("weights[0]") != std::string::npos);
    vd zero = w3();
    zero(2) = 0.0;
    zero(0) = 0.7;
    CHECK_THROWS_AS(GM(zero, means3(), covs3()), hosm::error);
    CHECK(message_of([&] { GM(vd(0), md(0, 3), std::vector<md>{}); }).find("K = 0") !=
          std::string::npos);
    CHECK_THROWS_AS(GM(w3(), means3().topRows(2), covs3()), hosm::error);  // means not K x D
    auto two = covs3();
    two.pop_back();
    CHECK_THROWS_AS(GM(w3(), means3(), two), hosm::error);  // K - 1 covariances
    auto bad = covs3();
    bad[1](0, 0) = -1.0;
    CHECK(message_of([&] { GM(w3(), means3(), bad); })
              .find("argument 'covariances[1]' is not positive definite") != std::string::npos);
    auto asym = covs3();
    asym[2](0, 1) = 0.5;
    CHECK(message_of([&] { GM(w3(), means3(), asym); }).find("not symmetric") != std::string::npos);
    auto small = covs3();
    small[0] = md::Identity(2, 2);
    CHECK_THROWS_AS(GM(w3(), means3(), small), hosm::error);
    md nan_mu = means3();
    nan_mu(1, 1) = std::nan("");
    CHECK_THROWS_AS(GM(w3(), nan_mu, covs3()), hosm::error);

    const GM p(w3(), means3(), covs3());
    CHECK_THROWS_AS(p.smoothed(0.0), hosm::error);
    md X = points3();
    X(0, 0) = -HUGE_VAL;
    CHECK_THROWS_AS(p.score(X), hosm::error);
    CHECK_THROWS_AS(p.log_density(X), hosm::error);
    CHECK_THROWS_AS(p.hessian_full(vd(X.col(0))), hosm::error);
    CHECK_THROWS_AS(p.score(md::Zero(4, 2)), hosm::error);
}
