// Tests of targets::mixture_of_logistics (hosm/targets/mixture_of_logistics.hpp).
//
// Oracles: the density written naively, sum_k w_k prod_i e^{-z}/(s (1 + e^{-z})^2),
// in double at moderate z (1e-12 relative); the logistic's known derivatives in
// 1-d (1e-14); central finite differences of log p and s1 (1e-6 of the
// magnitude, see fd_support.hpp); diag(alpha) + B B^T and the diagonal against
// the full Hessian (1e-12 of its magnitude: exact rewritings); sample
// moments (mixture mean and covariance, logistic variance s^2 pi^2 / 3) within
// 5 standard errors estimated from the sample.
#include "support/backends.hpp"
#include "targets/fd_support.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include <hosm/backend/batch.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/mixture_of_logistics.hpp>

using namespace hosm;
using hosm_test::message_of;
using namespace target_test;

namespace {

vd w3() {
    vd w(3);
    w << 0.2, 0.5, 0.3;
    return w;
}
md loc3() {  // K x D = 3 x 4
    md m(3, 4);
    m << 0.0, 1.0, -1.0, 0.5,  //
        -1.5, 0.0, 0.5, 1.0,   //
        1.0, -1.0, 0.0, -0.5;
    return m;
}
md scl3() {
    md s(3, 4);
    s << 1.0, 0.5, 0.8, 1.2,  //
        0.7, 0.9, 1.1, 0.6,   //
        1.3, 0.4, 0.75, 1.0;
    return s;
}
md points4() {
    md X(4, 5);
    X << 0.0, 1.0, -2.0, 0.3, 4.0,  //
        0.5, -0.5, 1.0, 0.2, -3.0,  //
        -0.2, 0.4, 0.0, 1.5, 2.0,   //
        1.0, 0.0, -1.0, 0.1, 0.5;
    return X;
}

double naive_density(const vd& x, const vd& w, const md& m, const md& s) {
    double p = 0;
    for (index_t k = 0; k < w.size(); ++k) {
        double pk = w(k);
        for (index_t i = 0; i < x.size(); ++i) {
            const double z = (x(i) - m(k, i)) / s(k, i);
            pk *= std::exp(-z) / (s(k, i) * (1 + std::exp(-z)) * (1 + std::exp(-z)));
        }
        p += pk;
    }
    return p;
}

}  // namespace

TEST_CASE_TEMPLATE("targets/mixture_of_logistics: log density equals the naive formula", B,
                   HOSM_TEST_BACKENDS) {
    const targets::mixture_of_logistics<double, B> p(w3(), loc3(), scl3());
    CHECK(p.dim() == 4);
    CHECK(p.components() == 3);
    CHECK(p.low_rank_rank() == 2);
    const md lp = p.log_density(points4());
    for (index_t j = 0; j < points4().cols(); ++j)
        CHECK(std::abs(lp(0, j) - std::log(naive_density(points4().col(j), w3(), loc3(), scl3()))) <=
              1e-12 * std::max(1.0, std::abs(lp(0, j))));
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/mixture_of_logistics: one logistic in 1-d") {
    const double m = 0.5, s = 2.0;
    const targets::mixture_of_logistics<double> p(vd::Ones(1), md::Constant(1, 1, m),
                                                  md::Constant(1, 1, s));
    for (double x : {-30.0, -1.0, 0.5, 2.0, 700.0}) {
        CAPTURE(x);
        const double z = (x - m) / s;
        const md X = md::Constant(1, 1, x);
        // log f = -|z| - 2 log(1 + e^{-|z|}) - log s;  d/dx = -tanh(z/2)/s;
        // d2/dx2 = -sech^2(z/2) / (2 s^2)
        const double lf = -std::abs(z) - 2 * std::log1p(std::exp(-std::abs(z))) - std::log(s);
        CHECK(p.log_density(X)(0, 0) == doctest::Approx(lf).epsilon(1e-14));
        CHECK(p.score(X)(0, 0) == doctest::Approx(-std::tanh(z / 2) / s).epsilon(1e-14));
        const double sech = 1 / std::cosh(z / 2);
        CHECK(p.hessian_full(vd::Constant(1, x))(0, 0) ==
              doctest::Approx(-sech * sech / (2 * s * s)).epsilon(1e-13));
    }
}
#endif

TEST_CASE_TEMPLATE("targets/mixture_of_logistics: s1, s2 against finite differences", B,
                   HOSM_TEST_BACKENDS) {
    SUBCASE("K = 3 in 4-d (Householder low-rank path)") {
        const targets::mixture_of_logistics<double, B> p(w3(), loc3(), scl3());
        check_derivatives(p, points4());
    }
    SUBCASE("K = 3 in 2-d, K - 1 = D") {
        const targets::mixture_of_logistics<double, B> p(w3(), loc3().leftCols(2),
                                                         scl3().leftCols(2));
        check_derivatives(p, points4().topRows(2));
    }
    SUBCASE("K = 6 in 2-d, K - 1 > D (pivoted-Cholesky low-rank path)") {
        vd w(6);
        w << 0.1, 0.2, 0.15, 0.25, 0.2, 0.1;
        md m(6, 2), s(6, 2);
        m << 0, 0, 1, 1, -1, 0.5, 0.5, -1, -0.5, -0.5, 2, 0;
        s << 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.6, 0.5, 1.1, 0.7, 0.8, 0.9;
        const targets::mixture_of_logistics<double, B> p(w, m, s);
        CHECK(p.low_rank_rank() == 2);
        check_derivatives(p, points4().topRows(2));
    }
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/mixture_of_logistics: the 50-d, 20-component setting of Table 1") {
    const auto p = targets::random_mixture_of_logistics<double>(50, 20, 2021);
    CHECK(p.dim() == 50);
    CHECK(p.components() == 20);
    CHECK(p.low_rank_rank() == 19);
    CHECK(p.weights().sum() == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(p.scales().minCoeff() > 0.5);
    CHECK(p.scales().maxCoeff() < 1.5);
    CHECK(p.weights().maxCoeff() / p.weights().minCoeff() < 2.0);
    // reproducible from the seed, different across seeds
    const auto q = targets::random_mixture_of_logistics<double>(50, 20, 2021);
    CHECK(q.locations() == p.locations());
    CHECK(q.scales() == p.scales());
    const auto r = targets::random_mixture_of_logistics<double>(50, 20, 2022);
    CHECK(r.locations() != p.locations());
    // a point between modes (so several responsibilities are non-negligible),
    // one at a sample
    md X(50, 2);
    X.col(0) = 0.5 * (p.locations().row(0) + p.locations().row(1)).transpose();
    X.col(1) = p.sample(random::stream{4, 0}, 1);
    check_derivatives(p, X);
    // 80-d as well
    const auto p80 = targets::random_mixture_of_logistics<float>(80, 20, 7);
    CHECK(p80.dim() == 80);
    const matrix<float> X80 = p80.sample(random::stream{1, 0}, 4);
    CHECK(p80.score(X80).allFinite());
    // float: the low-rank form equals the full s2 to float rounding (1e-4 of the magnitude)
    const hosm::vector<float> x80 = 0.5f * (X80.col(0) + X80.col(1));
    const md H80 = p80.hessian_full(x80).cast<double>();
    const auto lr80 = p80.hessian_low_rank(x80);
    const md L80 = lr80.first.cast<double>().asDiagonal().toDenseMatrix() +
                   (lr80.second * lr80.second.transpose()).cast<double>();
    CHECK(close(L80, H80, 1e-4, mag(H80)));
}
#endif

TEST_CASE_TEMPLATE("targets/mixture_of_logistics: sample moments within Monte Carlo error", B,
                   HOSM_TEST_BACKENDS) {
    const targets::mixture_of_logistics<double, B> p(w3(), loc3(), scl3());
    const md X = p.sample(random::stream{8, 1}, 20000);
    // mean sum_k w_k m_k; covariance sum_k w_k (diag(s_k^2 pi^2 / 3) + m_k m_k^T) - mean mean^T
    const vd m = loc3().transpose() * w3();
    md C = -m * m.transpose();
    for (index_t k = 0; k < 3; ++k) {
        const vd mk = loc3().row(k).transpose();
        const vd vk = scl3().row(k).transpose().array().square() * std::numbers::pi *
                      std::numbers::pi / 3.0;
        C += w3()(k) * (md(vk.asDiagonal()) + mk * mk.transpose());
    }
    check_moments(X, m, C);
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/mixture_of_logistics: far tails stay finite") {
    const targets::mixture_of_logistics<double> p(w3(), loc3(), scl3());
    vd x(4);
    x << 800.0, -900.0, 1e4, 0.0;
    CHECK(std::isfinite(p.log_density(md(x))(0, 0)));
    CHECK(p.score(md(x)).allFinite());
    CHECK(p.hessian_full(x).allFinite());
    CHECK(dense_low_rank(p.hessian_low_rank(x)).allFinite());
}
#endif

TEST_CASE_TEMPLATE("targets/mixture_of_logistics: bad input raises hosm::error", B,
                   HOSM_TEST_BACKENDS) {
    using ML = targets::mixture_of_logistics<double, B>;
    md s = scl3();
    s(1, 2) = 0.0;
    CHECK(message_of([&] { ML(w3(), loc3(), s); }).find("scales(1, 2)") != std::string::npos);
    s(1, 2) = -0.5;
    CHECK_THROWS_AS(ML(w3(), loc3(), s), hosm::error);
    vd w = w3();
    w(1) = 0.4;
    CHECK(message_of([&] { ML(w, loc3(), scl3()); }).find("sum to") != std::string::npos);
    w(1) = -0.5;
    w(2) = 1.3;
    CHECK_THROWS_AS(ML(w, loc3(), scl3()), hosm::error);
    CHECK(message_of([&] { ML(vd(0), md(0, 4), md(0, 4)); }).find("K = 0") != std::string::npos);
    CHECK_THROWS_AS(ML(w3(), loc3(), scl3().leftCols(3)), hosm::error);  // shapes differ
    CHECK_THROWS_AS(ML(w3(), loc3().topRows(2), scl3()), hosm::error);   // not K rows
    md nan_loc = loc3();
    nan_loc(0, 0) = std::nan("");
    CHECK_THROWS_AS(ML(w3(), nan_loc, scl3()), hosm::error);
    CHECK_THROWS_AS(targets::random_mixture_of_logistics<double>(0, 20, 1), hosm::error);
    CHECK_THROWS_AS(targets::random_mixture_of_logistics<double>(5, 0, 1), hosm::error);

    const ML p(w3(), loc3(), scl3());
    md X = points4();
    X(3, 1) = std::nan("");
    CHECK_THROWS_AS(p.score(X), hosm::error);
    CHECK_THROWS_AS(p.log_density(X), hosm::error);
    CHECK_THROWS_AS(p.score(md::Zero(3, 1)), hosm::error);
    const batch<double, B> x(points4());
    hessian::batch<hessian::diagonal, double, B> H(4, 4);  // count 4 != N = 5
    CHECK_THROWS_AS(p.hessian_diagonal(x.view(), H), hosm::error);
}
