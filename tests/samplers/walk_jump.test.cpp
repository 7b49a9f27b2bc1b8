// Tests of samplers::walk_jump (hosm/samplers/walk_jump.hpp) and of the
// M-density condition number (hosm/samplers/condition_number.hpp), seed 003.
//
// Exact checks (1e-12 of the magnitude unless said):
//  * the jump x_hat(y) = ybar + (sigma^2 / M) sum_m g_m(y) with the exact
//    M-density score equals Eq. 7, E[x | y] = ybar + sigma_eff^2 grad log q(ybar)
//    (targets::m_density::posterior_mean), for a Gaussian and a mixture;
//  * Corollary 1, pointwise: two y with the same ybar, from (sigma, M) and
//    (sigma sqrt(M'/M), M'), have the same x_hat (mixture target);
//  * kappa(sigma, M): Eq. 28 (M >= 2) / Eq. 14 (M = 1) equals lambda_max /
//    lambda_min of the dense M D x M D covariance, and of the precision F read
//    off the library's M-density score (the score is affine, F e_k = g(0) -
//    g(e_k)): 1e-10 relative;
//  * initial_state: y_m = x0 + sigma eps_m with noise::multimeasurement's eps, v = 0.
// Monte Carlo (N = 20000 draws, 12000 chains for the walk; 5 standard errors:
// sqrt(C_ii / N) for means, sqrt((C_ii C_jj + C_ij^2) / N) for covariances):
//  * Corollary 1 in law: x_hat(Y) with Y drawn exactly from the M-density of a
//    Gaussian N(mu, Sigma) has mean mu and covariance
//    Sigma (Sigma + sigma_eff^2 I)^{-1} Sigma for both (0.7, 2) and (1.4, 8);
//    for a mixture the two laws agree (two-sample, 5 sqrt(2) standard errors);
//  * walk: started in the exact stationary law (y from the M-density, v from
//    N(0, (I - delta^2 F / 4)^{-1}), the Sachs scheme's Gaussian stationary
//    velocity law) with the seed-003 defaults delta = sigma/2, gamma_eff = 1,
//    10 steps keep y ~ N(1 (x) mu, C) and the jump's law above;
//  * back ends cpp / omp bit-identical; walk equals samplers::sachs::run.
// Errors: M < 1, dimension mismatches, non-finite y, score or state.
#include "support/backends.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <hosm/backend/batch.hpp>
#include <hosm/core/error.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/condition_number.hpp>
#include <hosm/samplers/sachs.hpp>
#include <hosm/samplers/walk_jump.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/targets/gaussian_mixture.hpp>
#include <hosm/targets/m_density.hpp>

using namespace hosm;

namespace {

using md = matrix<double>;
using vd = vector<double>;
using mm_t = noise::multimeasurement<double>;

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

template <class B>
targets::gaussian_mixture<double, B> mixture2() {
    vd w(2);
    w << 0.3, 0.7;
    md means(2, 2);
    means << -1.0, 0.5, 1.5, -0.2;
    md S1(2, 2), S2(2, 2);
    S1 << 0.3, 0.1, 0.1, 0.2;
    S2 << 0.5, -0.2, -0.2, 0.4;
    return targets::gaussian_mixture<double, B>(w, means, std::vector<md>{S1, S2});
}

double mag(const md& a) { return std::max(1.0, a.cwiseAbs().maxCoeff()); }

void check_moments(const md& X, const vd& m, const md& C, const char* what) {
    const double n = double(X.cols());
    const vd mean = X.rowwise().mean();
    const md Xc = X.colwise() - mean;
    const md cov = Xc * Xc.transpose() / (n - 1);
    for (index_t i = 0; i < X.rows(); ++i) {
        CAPTURE(what);
        CAPTURE(i);
        CHECK(std::abs(mean(i) - m(i)) <= 5 * std::sqrt(C(i, i) / n));
        for (index_t j = 0; j < X.rows(); ++j) {
            CAPTURE(j);
            CHECK(std::abs(cov(i, j) - C(i, j)) <=
                  5 * std::sqrt((C(i, i) * C(j, j) + C(i, j) * C(i, j)) / n));
        }
    }
}

/// Two samples of equal size have the same mean and covariance (5 sqrt(2) SE,
/// the standard errors estimated from the pooled covariance).
void check_same_law(const md& X1, const md& X2) {
    const double n = double(X1.cols());
    const vd m1 = X1.rowwise().mean(), m2 = X2.rowwise().mean();
    const md c1 = (X1.colwise() - m1) * (X1.colwise() - m1).transpose() / (n - 1);
    const md c2 = (X2.colwise() - m2) * (X2.colwise() - m2).transpose() / (n - 1);
    const md C = (c1 + c2) / 2;
    const double k = 5 * std::sqrt(2.0);
    for (index_t i = 0; i < X1.rows(); ++i) {
        CAPTURE(i);
        CHECK(std::abs(m1(i) - m2(i)) <= k * std::sqrt(C(i, i) / n));
        for (index_t j = 0; j < X1.rows(); ++j) {
            CAPTURE(j);
            // non-Gaussian law: the fourth-moment term is bounded by 3x the Gaussian one
            CHECK(std::abs(c1(i, j) - c2(i, j)) <=
                  k * std::sqrt(3 * (C(i, i) * C(j, j) + C(i, j) * C(i, j)) / n));
        }
    }
}

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const hosm::error& e) {
        return e.what();
    }
    return "";
}

struct nan_source {  // s1 = -y with a NaN in chain `bad` from call `bad_call` on
    index_t D;
    index_t bad;
    int bad_call;
    mutable int calls = 0;
    index_t dim() const { return D; }
    void score(batch_view<const double> x, batch_view<double> out) const {
        for (index_t e = 0; e < x.size(); ++e) out.data[e] = -x.data[e];
        if (calls++ >= bad_call) out(1, bad) = std::numeric_limits<double>::infinity();
    }
};

}  // namespace

TEST_CASE_TEMPLATE("samplers/walk_jump: the jump is the Bayes estimator of Eq. 7", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const auto mix = mixture2<B>();
    for (index_t M : {1, 3}) {
        CAPTURE(M);
        const mm_t mm{0.8, M};
        const samplers::walk_jump<double, B> wj(mm, random::stream{1, 1});
        {
            const targets::m_density md_(g, mm);
            const md Y = md_.sample(random::stream{3, 0}, 9);
            const md want = md_.posterior_mean(Y);
            CHECK((wj.jump(md_, Y) - want).cwiseAbs().maxCoeff() <= 1e-12 * mag(want));
        }
        {
            const targets::m_density md_(mix, mm);
            const md Y = md_.sample(random::stream{3, 1}, 9);
            const md want = md_.posterior_mean(Y);
            CHECK((wj.jump(md_, Y) - want).cwiseAbs().maxCoeff() <= 1e-12 * mag(want));
        }
    }
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/walk_jump: Corollary 1 pointwise — x_hat depends on y only through ybar") {
    const auto mix = mixture2<backend::cpp>();
    const double sigma_eff = 0.5;
    md ybar(2, 3);
    ybar << 0.1, -1.0, 2.0, 0.4, 0.0, -0.5;
    md ref;
    for (index_t M : {1, 2, 5}) {
        CAPTURE(M);
        const mm_t mm{sigma_eff * std::sqrt(double(M)), M};
        const targets::m_density md_(mix, mm);
        // y_m = ybar + d_m with sum_m d_m = 0 and sizeable d_m
        md Y(2 * M, 3);
        for (index_t m = 0; m < M; ++m)
            Y.middleRows(2 * m, 2) = ybar.array() + (double(m) - double(M - 1) / 2) * 0.9;
        const md x = samplers::walk_jump<double>(mm, random::stream{0, 0}).jump(md_, Y);
        if (M == 1) ref = x;
        CHECK((x - ref).cwiseAbs().maxCoeff() <= 1e-12 * mag(ref));
    }
}
#endif

TEST_CASE_TEMPLATE("samplers/walk_jump: Corollary 1 in law over exact M-density draws", B,
                   HOSM_TEST_BACKENDS) {
    const index_t N = 20000;
    const double sigma = 0.7;
    const index_t M = 2, Mp = 8;
    const mm_t a{sigma, M}, b{sigma * std::sqrt(double(Mp) / double(M)), Mp};
    REQUIRE(a.sigma_eff() == doctest::Approx(b.sigma_eff()).epsilon(1e-15));
    const double se2 = a.sigma_eff() * a.sigma_eff();
    const md K = sigma2() + se2 * md::Identity(2, 2);
    const md cov_hat = sigma2() * K.inverse() * sigma2();
    {
        const targets::gaussian<double, B> g(mu2(), sigma2());
        const targets::m_density ma(g, a), mb(g, b);
        const md xa = samplers::walk_jump<double, B>(a, random::stream{0, 0})
                          .jump(ma, ma.sample(random::stream{21, 0}, N));
        const md xb = samplers::walk_jump<double, B>(b, random::stream{0, 0})
                          .jump(mb, mb.sample(random::stream{22, 0}, N));
        check_moments(xa, mu2(), cov_hat, "x_hat, (0.7, 2)");
        check_moments(xb, mu2(), cov_hat, "x_hat, (1.4, 8)");
    }
    {
        const auto mix = mixture2<B>();
        const targets::m_density ma(mix, a), mb(mix, b);
        const md xa = samplers::walk_jump<double, B>(a, random::stream{0, 0})
                          .jump(ma, ma.sample(random::stream{23, 0}, N));
        const md xb = samplers::walk_jump<double, B>(b, random::stream{0, 0})
                          .jump(mb, mb.sample(random::stream{24, 0}, N));
        check_same_law(xa, xb);
    }
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/walk_jump: kappa(sigma, M) of Eq. 28 equals the dense spectrum") {
    const targets::gaussian<double> g(mu2(), sigma2());
    const vd tau2 = Eigen::SelfAdjointEigenSolver<md>(sigma2()).eigenvalues();
    for (index_t M : {1, 2, 3, 5})
        for (double sigma : {0.3, 1.0, 2.5}) {
            CAPTURE(M);
            CAPTURE(sigma);
            const mm_t mm{sigma, M};
            const double k = samplers::m_density_condition_number(g, mm);
            const double want = M == 1 ? (tau2(1) + sigma * sigma) / (tau2(0) + sigma * sigma)
                                       : 1 + double(M) * tau2(1) / (sigma * sigma);
            CHECK(k == doctest::Approx(want).epsilon(1e-14));
            CHECK(samplers::m_density_condition_number_dense(g, mm) ==
                  doctest::Approx(k).epsilon(1e-10));
            // F read off the library's M-density score: g(y) = -F (y - 1 (x) mu)
            const targets::m_density md_(g, mm);
            const index_t n = 2 * M;
            md Y(n, n + 1);
            for (index_t m = 0; m < M; ++m) Y.col(0).segment(2 * m, 2) = mu2();
            for (index_t c = 0; c < n; ++c) {
                Y.col(c + 1) = Y.col(0);
                Y(c, c + 1) += 1.0;
            }
            const md S = md_.score(Y);
            md F(n, n);
            for (index_t c = 0; c < n; ++c) F.col(c) = S.col(0) - S.col(c + 1);
            const vd l = Eigen::SelfAdjointEigenSolver<md>((F + F.transpose()) / 2).eigenvalues();
            CHECK(l(n - 1) / l(0) == doctest::Approx(k).epsilon(1e-10));
            if (M >= 2) {  // Eq. 27: lambda_max(F) = sigma^-2, lambda_min(F) = sigma^-2 / kappa
                CHECK(l(n - 1) == doctest::Approx(1 / (sigma * sigma)).epsilon(1e-10));
                CHECK(l(0) == doctest::Approx(1 / (sigma * sigma) / k).epsilon(1e-10));
            }
            // the dense covariance is the one the M-density test builds
            const md C = samplers::m_density_covariance(g, mm);
            CHECK(C.rows() == n);
            CHECK((C.inverse() - F).cwiseAbs().maxCoeff() <= 1e-10 * mag(F));
        }
    // in a universality class Eq. 28 is the same for every M >= 2
    const double k2 = samplers::m_density_condition_number(sigma2(), mm_t{0.5 * std::sqrt(2.0), 2});
    const double k9 = samplers::m_density_condition_number(sigma2(), mm_t{0.5 * 3.0, 9});
    CHECK(k2 == doctest::Approx(k9).epsilon(1e-14));
}
#endif

TEST_CASE_TEMPLATE("samplers/walk_jump: initial state, walk from the stationary law, jump", B,
                   HOSM_TEST_BACKENDS) {
    const double sigma = 1.0;
    const index_t M = 4, D = 2, N = 12000;
    const mm_t mm{sigma, M};
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const targets::m_density md_(g, mm);
    const samplers::walk_jump<double, B> wj(mm, random::stream{31, 7});
    CHECK(wj.walker().step() == sigma / 2);
    CHECK(wj.walker().effective_friction() == 1.0);
    CHECK(wj.walker().inverse_mass() == 1.0);
    CHECK(wj.noise().measurements() == M);

    {  // initial_state: y_m = x0 + sigma eps_m, v = 0
        const md x0 = md::Random(D, 5);
        const auto st = wj.initial_state(random::stream{4, 4}, x0, 3);
        const auto [y, eps] = mm.perturb(random::stream{4, 4}, x0, 3);
        CHECK(st.x.to_eigen() == y);
        CHECK(st.v.to_eigen() == md::Zero(M * D, 5));
        CHECK(st.step == 0u);
    }

    // stationary start: y ~ M-density, v ~ N(0, (I - delta^2 F / 4)^{-1})
    const md C = samplers::m_density_covariance(g, mm);
    const md F = C.inverse();
    const double delta = wj.walker().step();
    const md V = (md::Identity(M * D, M * D) - delta * delta / 4 * F).inverse();
    batch<double> z(M * D, N);
    random::fill_normal<backend::cpp>(random::stream{32, 0}, z.view());
    const md L = V.llt().matrixL();
    samplers::underdamped_state<double, B> st(md_.sample(random::stream{33, 0}, N),
                                              L * z.to_eigen());
    batch<double, B> x(D, N);
    wj.sample(md_, st, 10, x.view());
    CHECK(st.step == 10u);
    vd m(M * D);
    for (index_t k = 0; k < M; ++k) m.segment(k * D, D) = mu2();
    check_moments(st.x.to_eigen(), m, C, "y after 10 steps");
    const md K = sigma2() + mm.sigma_eff() * mm.sigma_eff() * md::Identity(D, D);
    check_moments(x.to_eigen(), mu2(), sigma2() * K.inverse() * sigma2(), "x_hat after the walk");
}

TEST_CASE_TEMPLATE("samplers/walk_jump: back ends agree; walk is the Sachs scheme", B,
                   HOSM_TEST_BACKENDS) {
    const mm_t mm{0.6, 3};
    const random::stream s{41, 2};
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const targets::gaussian<double, backend::cpp> gc(mu2(), sigma2());
    const targets::m_density mdb(g, mm);
    const targets::m_density mdc(gc, mm);
    const md x0 = md::Random(2, 17);
    const samplers::walk_jump<double, B> wj(mm, s);
    const samplers::walk_jump<double, backend::cpp> wjc(mm, s);
    auto a = wj.initial_state(random::stream{5, 5}, x0);
    auto c = wjc.initial_state(random::stream{5, 5}, x0);
    auto d = wjc.initial_state(random::stream{5, 5}, x0);
    batch<double, B> xa(2, 17);
    batch<double> xc(2, 17);
    wj.sample(mdb, a, 12, xa.view());
    wjc.sample(mdc, c, 12, xc.view());
    samplers::sachs<double>(0.3, 1.0, s).run(mdc, d, 12);
    CHECK(a.x.to_eigen() == c.x.to_eigen());
    CHECK(a.v.to_eigen() == c.v.to_eigen());
    CHECK(xa.to_eigen() == xc.to_eigen());
    CHECK(d.x.to_eigen() == c.x.to_eigen());
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/walk_jump: bad input raises hosm::error") {
    const random::stream s{1, 0};
    CHECK_THROWS_AS(samplers::walk_jump<double>(mm_t{0.5, 0}, s), hosm::error);
    CHECK_THROWS_AS(samplers::walk_jump<double>(mm_t{0.0, 2}, s), hosm::error);
    CHECK_THROWS_AS(samplers::m_density_condition_number(sigma2(), mm_t{0.5, 0}), hosm::error);
    CHECK_THROWS_AS(samplers::m_density_condition_number(md(md::Identity(2, 3)), mm_t{0.5, 2}),
                    hosm::error);
    md bad = sigma2();
    bad(0, 1) = 0.9;  // not symmetric
    CHECK_THROWS_AS(samplers::m_density_condition_number(bad, mm_t{0.5, 2}), hosm::error);
    md indef = sigma2();
    indef(1, 1) = -1.0;
    CHECK(error_of([&] {
              samplers::m_density_condition_number_dense(indef, mm_t{0.5, 2});
          }).find("positive definite") != std::string::npos);

    const mm_t mm{0.5, 2};
    const targets::gaussian<double> g(mu2(), sigma2());
    const targets::m_density md_(g, mm);
    const samplers::walk_jump<double> wj(mm, s);
    {  // state dimension not M D
        samplers::underdamped_state<double> st(3, 4);
        CHECK(error_of([&] { wj.walk(md_, st, 1); }).find("dimension mismatch") !=
              std::string::npos);
    }
    {  // state M D but not the source's dimension
        samplers::underdamped_state<double> st(6, 4);
        CHECK(error_of([&] { wj.walk(md_, st, 1); }).find("dimension mismatch") !=
              std::string::npos);
    }
    {  // jump: y rows not M D for x's D; y not the source's dimension; counts
        batch<double> y(4, 3), x(3, 3), x2(2, 4);
        CHECK_THROWS_AS(wj.jump(md_, y.view(), x.view()), hosm::error);
        CHECK_THROWS_AS(wj.jump(md_, y.view(), x2.view()), hosm::error);
        CHECK_THROWS_AS(wj.jump(md_, md::Zero(5, 3)), hosm::error);
        const samplers::walk_jump<double> wj3(mm_t{0.5, 3}, s);
        CHECK_THROWS_AS(wj3.jump(md_, md::Zero(6, 3)), hosm::error);  // source is 4-d
    }
    {  // non-finite y in the jump, named by chain
        md Y = md::Zero(4, 3);
        Y(2, 1) = std::numeric_limits<double>::quiet_NaN();
        const std::string msg = error_of([&] { wj.jump(md_, Y); });
        CAPTURE(msg);
        CHECK(msg.find("samplers::walk_jump::jump") != std::string::npos);
        CHECK(msg.find("chain 1") != std::string::npos);
    }
    {  // a diverging score during the walk: chain and step
        const nan_source src{4, 2, 4};
        samplers::underdamped_state<double> st(md::Ones(4, 3));
        const std::string msg = error_of([&] { wj.walk(src, st, 10); });
        CAPTURE(msg);
        CHECK(msg.find("samplers::walk_jump::walk") != std::string::npos);
        CHECK(msg.find("score in chain 2") != std::string::npos);
        CHECK(msg.find("at step 4") != std::string::npos);
    }
}
#endif
