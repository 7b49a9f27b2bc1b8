// Tests of targets::gaussian (hosm/targets/gaussian.hpp).
//
// Oracles: closed forms computed independently with Eigen in double (log
// density through the Cholesky solve, s1 = -P (x - mu), s2 = -P), agreeing to
// 1e-12 relative; central finite differences (tolerances in fd_support.hpp:
// 1e-6 of the magnitude for s1 and s2); the Monte Carlo convolution for the
// smoothed target (within 5 standard errors, about 3e-6 two-sided per check);
// sample moments within 5 standard errors; random::fill_normal for the exact
// draws of N(0, I).
#include "support/backends.hpp"
#include "targets/fd_support.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include <hosm/backend/batch.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/gaussian.hpp>

using namespace hosm;
using hosm_test::message_of;
using namespace target_test;

namespace {

vd mu3() {
    vd m(3);
    m << 0.5, -1.0, 2.0;
    return m;
}
md sigma3() {
    md S(3, 3);
    S << 2.0, 0.6, -0.3,  //
        0.6, 1.0, 0.2,    //
        -0.3, 0.2, 0.5;
    return S;
}
md points3() {
    md X(3, 4);
    X << 0.5, 1.3, -2.0, 4.0,  //
        -1.0, 0.1, 3.0, -0.5,  //
        2.0, 2.4, -1.0, 0.0;
    return X;
}

/// log N(x; mu, S) by an independent route (LDLT solve and log-determinant).
double log_normal(const vd& x, const vd& mu, const md& S) {
    Eigen::LDLT<md> ldlt(S);
    const vd d = x - mu;
    const double q = d.dot(ldlt.solve(d));
    const double logdet = ldlt.vectorD().array().log().sum();
    return -0.5 * double(x.size()) * std::log(2 * std::numbers::pi) - 0.5 * logdet - 0.5 * q;
}

}  // namespace

TEST_CASE_TEMPLATE("targets/gaussian: closed forms of log p, s1 and s2", B, HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu3(), sigma3());
    CHECK(g.dim() == 3);
    const md X = points3();
    const md P = sigma3().inverse();
    const md lp = g.log_density(X);
    const md s = g.score(X);
    for (index_t j = 0; j < X.cols(); ++j) {
        CAPTURE(j);
        CHECK(std::abs(lp(0, j) - log_normal(X.col(j), mu3(), sigma3())) <=
              1e-12 * std::max(1.0, std::abs(lp(0, j))));
        CHECK(close(s.col(j), -P * (X.col(j) - mu3()), 1e-12, mag(s)));
        CHECK(close(g.hessian_full(X.col(j)), -P, 1e-12, mag(P)));
        CHECK(close(g.hessian_diagonal(X.col(j)), md(-P.diagonal()), 1e-12, mag(P)));
        const auto lr = g.hessian_low_rank(X.col(j));
        CHECK(lr.second.cols() == 2);  // D - 1 for a non-diagonal Sigma
        CHECK(close(dense_low_rank(lr), -P, 1e-12, mag(P)));
    }
    // a standard normal at the origin: log p = -D/2 log(2 pi)
    const targets::gaussian<double, B> z(vd::Zero(2), md::Identity(2, 2));
    CHECK(z.log_density(md(vd::Zero(2)))(0, 0) ==
          doctest::Approx(-std::log(2 * std::numbers::pi)).epsilon(1e-15));
}

TEST_CASE_TEMPLATE("targets/gaussian: s1 and s2 against finite differences", B, HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu3(), sigma3());
    check_derivatives(g, points3());
}

TEST_CASE_TEMPLATE("targets/gaussian: batched Hessians in every structure", B, HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu3(), sigma3());
    const index_t N = 5;
    batch<double, B> x(3, N, 0.25);
    hessian::batch<hessian::full, double, B> Hf(3, N);
    hessian::batch<hessian::diagonal, double, B> Hd(3, N);
    hessian::batch<hessian::low_rank<3>, double, B> Hl(3, N);  // above low_rank_rank(): padded
    g.hessian_full(x.view(), Hf);
    g.hessian_diagonal(x.view(), Hd);
    g.hessian_low_rank(x.view(), Hl);
    const md P = sigma3().inverse();
    for (index_t j = 0; j < N; ++j) {
        const md F = host_copy<B>(Hf.data() + j * 9, 3, 3);
        CHECK(close(F, -P, 1e-12, mag(P)));
        const vd d = host_copy<B>(Hd.data() + j * 3, 3, 1);
        CHECK(close(d, md(-P.diagonal()), 1e-12, mag(P)));
        const vd a = host_copy<B>(Hl.alpha_data() + j * 3, 3, 1);
        const md Bm = host_copy<B>(Hl.B_data() + j * 9, 3, 3);
        CHECK(Bm.col(2).cwiseAbs().maxCoeff() == 0.0);
        CHECK(close(dense_low_rank({a, Bm}), -P, 1e-12, mag(P)));
    }
    // the too-small rank is refused
    hessian::batch<hessian::low_rank<1>, double, B> H1(3, N);
    CHECK_THROWS_AS(g.hessian_low_rank(x.view(), H1), hosm::error);
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/gaussian: a diagonal Sigma has the rank-1 (zero column) low-rank form") {
    vd v(3);
    v << 0.5, 2.0, 1.5;
    const targets::gaussian<double> g(vd::Zero(3), md(v.asDiagonal()));
    CHECK(g.low_rank_rank() == 1);
    const auto lr = g.hessian_low_rank(vd::Ones(3));
    CHECK(lr.second.cwiseAbs().maxCoeff() == 0.0);
    CHECK(close(lr.first, md(-v.cwiseInverse()), 1e-15));
    const targets::gaussian<double> one(vd::Constant(1, 2.0), md::Constant(1, 1, 4.0));
    CHECK(one.score(md::Constant(1, 1, 3.0))(0, 0) == doctest::Approx(-0.25).epsilon(1e-15));
}
#endif

TEST_CASE_TEMPLATE("targets/gaussian: N(0, I) draws are random::fill_normal's numbers", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(vd::Zero(5), md::Identity(5, 5));
    const random::stream s{11, 3};
    batch<double, B> x(5, 64), z(5, 64);
    g.sample(s, x.view(), 1000);
    random::fill_normal<B>(s, z.view(), 1000);
    CHECK(x.to_eigen() == z.to_eigen());
}

TEST_CASE_TEMPLATE("targets/gaussian: sample moments within Monte Carlo error", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu3(), sigma3());
    const md X = g.sample(random::stream{5, 0}, 20000);
    check_moments(X, mu3(), sigma3());
    // a draw depends on its sample index only, not on the batch it is drawn in
    const md Y = g.sample(random::stream{5, 0}, 10, 19990);
    CHECK(Y == X.rightCols(10));
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/gaussian: smoothed() is the convolution with N(0, sigma^2 I)") {
    const targets::gaussian<double> g(mu3(), sigma3());
    const double sigma = 0.7;
    const auto q = g.smoothed(sigma);
    CHECK(close(q.covariance(), sigma3() + sigma * sigma * md::Identity(3, 3), 1e-15, 2.0));
    for (index_t j = 0; j < 2; ++j) {
        const vd x = points3().col(j);
        const auto e = mc_smoothed(g, sigma, x, 20000, 100 + j);
        const double lq = q.log_density(md(x))(0, 0);
        CHECK(std::abs(lq - e.log_q) <= 5 * e.se_log_q);
        const md sq = q.score(md(x));
        for (index_t i = 0; i < 3; ++i) CHECK(std::abs(sq(i, 0) - e.score(i)) <= 5 * e.se_score(i));
    }
}
#endif

TEST_CASE_TEMPLATE("targets/gaussian: every back end agrees with cpp", B, HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu3(), sigma3());
    const targets::gaussian<double> ref(mu3(), sigma3());
    const md X = ref.sample(random::stream{1, 1}, 257);
    CHECK(close(g.sample(random::stream{1, 1}, 257), X, 1e-13, mag(X)));
#if defined(__CUDACC__)
    // the device may contract a * b + c into FMAs: agreement to rounding
    CHECK(close(g.score(X), ref.score(X), 1e-13, mag(ref.score(X))));
    CHECK(close(g.log_density(X), ref.log_density(X), 1e-13, mag(ref.log_density(X))));
#else
    // host back ends run the same per-sample code: bit for bit
    CHECK(g.score(X) == ref.score(X));
    CHECK(g.log_density(X) == ref.log_density(X));
    CHECK(g.sample(random::stream{1, 1}, 257) == X);
#endif
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("targets/gaussian: float instantiation") {
    const targets::gaussian<float> g(mu3().cast<float>(), sigma3().cast<float>());
    const matrix<float> X = points3().cast<float>();
    const md s = g.score(X).cast<double>();
    const md ref = -sigma3().inverse() * (points3().colwise() - mu3());
    CHECK(close(s, ref, 1e-5, mag(ref)));
}
#endif

TEST_CASE_TEMPLATE("targets/gaussian: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    using G = targets::gaussian<double, B>;
    md notpd = sigma3();
    notpd(2, 2) = -1.0;
    CHECK(message_of([&] { G(mu3(), notpd); }).find("argument 'Sigma' is not positive definite") !=
          std::string::npos);
    md asym = sigma3();
    asym(0, 1) += 0.1;
    CHECK(message_of([&] { G(mu3(), asym); }).find("not symmetric") != std::string::npos);
    CHECK_THROWS_AS(G(mu3(), md::Identity(2, 2)), hosm::error);  // size mismatch
    CHECK_THROWS_AS(G(vd(0), md(0, 0)), hosm::error);            // D = 0
    vd nan_mu = mu3();
    nan_mu(1) = std::nan("");
    CHECK_THROWS_AS(G(nan_mu, sigma3()), hosm::error);
    md inf_S = sigma3();
    inf_S(0, 0) = HUGE_VAL;
    CHECK_THROWS_AS(G(mu3(), inf_S), hosm::error);

    const G g(mu3(), sigma3());
    CHECK_THROWS_AS(g.smoothed(0.0), hosm::error);
    CHECK_THROWS_AS(g.smoothed(-1.0), hosm::error);
    md X = points3();
    X(1, 2) = std::nan("");
    CHECK(message_of([&] { g.score(X); }).find("argument 'x'") != std::string::npos);
    CHECK_THROWS_AS(g.log_density(X), hosm::error);
    CHECK_THROWS_AS(g.score(md::Zero(2, 3)), hosm::error);             // wrong D
    CHECK_THROWS_AS(g.hessian_full(vd::Zero(4)), hosm::error);         // wrong D
    batch<double, B> x(3, 4), out(3, 5), lp(1, 3);
    CHECK_THROWS_AS(g.score(x.view(), out.view()), hosm::error);       // wrong N
    CHECK_THROWS_AS(g.log_density(x.view(), lp.view()), hosm::error);  // wrong N
    hessian::batch<hessian::full, double, B> H(2, 4);
    CHECK_THROWS_AS(g.hessian_full(x.view(), H), hosm::error);         // wrong D
    batch<double, B> s2(2, 4);
    CHECK_THROWS_AS(g.sample(random::stream{}, s2.view()), hosm::error);
}
