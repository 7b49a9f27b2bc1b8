// Tests of samplers::reverse_sde with ve_sde / vp_sde and exact_time_score
// (hosm/samplers/reverse_sde.hpp and detail/reverse_sde_*.hpp), seed 001.
//
// Exact checks:
//  * process maths: VE s_t^2 = sigma(t)^2 - sigma_min^2 and step coefficients
//    {1, sigma(t)^2 - sigma(t')^2, same}; VP a_t = e^{-t}, s_t^2 = 1 - e^{-2t},
//    step {e^h, 2 (e^h - 1), e^{2h} - 1} (1e-13 relative, the library uses
//    expm1 forms);
//  * exact_time_score: for a Gaussian the score of N(a mu, a^2 Sigma + s^2 I),
//    for a mixture that of sum_k w_k N(a mu_k, a^2 Sigma_k + s^2 I), both
//    built directly as targets (1e-12 of the magnitude), at t = 0, inside and
//    at the horizon;
//  * the steps: three steps (t_end = 0.1) equal x' = a x + c s_t(x) + sqrt(v) xi
//    evaluated here with xi = stream.normal((k << 32) | j, i) (1e-12 relative),
//    and sample_prior is s_T times random::fill_normal's numbers of the stream
//    {seed, ~id}.
// Oracle for sampling: with the exact Gaussian score s_t(x) = -S_t^{-1}(x - a_t mu),
// S_t = a_t^2 Sigma + s_t^2 I, each step x' = a x + c s + sqrt(v) xi is affine,
// x' = G x + b + sqrt(v) xi, so from the prior N(0, s_T^2 I) the output law is
// exactly N(m_N, C_N) with m' = G m + b, C' = G C G^T + v I (computed here).
//  * Monte Carlo (N = 12000 chains, 5 standard errors: sqrt(C_ii / N) for
//    means, sqrt((C_ii C_jj + C_ij^2) / N) for covariances): the output matches
//    (m_N, C_N) — the implementation; and it matches the target (mu, Sigma)
//    within 5 standard errors plus the exact bias |m_N - mu|, |C_N - Sigma|
//    entrywise (discretisation and prior mismatch). The prior's moments are
//    checked the same way;
//  * the bias itself is small with these step counts (measured 0.028 for VP
//    with T = 4 and 150 steps, bound 0.03; 0.078 for VE with sigma in
//    [0.01, 20] and 150 steps, bound 0.09; it sits in the covariance, the mean
//    bias is < 1e-3) and falls like h: doubling the steps takes it to <= 0.6x
//    (measured 0.48x-0.50x), the exponential integrator's first order.
// Back ends cpp / omp give bit-identical chains. Errors: bad process
// parameters, steps < 1, t_end outside [0, T), dimension mismatch, t outside
// [0, T] for the exact score, non-finite score or state named by chain and step.
#include "support/backends.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <hosm/backend/batch.hpp>
#include <hosm/core/error.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/reverse_sde.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/targets/gaussian_mixture.hpp>

using namespace hosm;

namespace {

using md = matrix<double>;
using vd = vector<double>;

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
double mag(const md& a) { return std::max(1.0, a.cwiseAbs().maxCoeff()); }

void check_moments(const md& X, const vd& m, const md& C, const vd& mean_slack, const md& cov_slack,
                   const char* what) {
    const double n = double(X.cols());
    const vd mean = X.rowwise().mean();
    const md Xc = X.colwise() - mean;
    const md cov = Xc * Xc.transpose() / (n - 1);
    for (index_t i = 0; i < X.rows(); ++i) {
        CAPTURE(what);
        CAPTURE(i);
        CHECK(std::abs(mean(i) - m(i)) <= 5 * std::sqrt(C(i, i) / n) + mean_slack(i));
        for (index_t j = 0; j < X.rows(); ++j) {
            CAPTURE(j);
            CHECK(std::abs(cov(i, j) - C(i, j)) <=
                  5 * std::sqrt((C(i, i) * C(j, j) + C(i, j) * C(i, j)) / n) + cov_slack(i, j));
        }
    }
}

/// Exact law of the discretised reverse chain for N(mu, Sigma) from N(m0, C0).
template <class P, class B>
std::pair<vd, md> exact_law(const samplers::reverse_sde<P, B>& r, const vd& mu, const md& S, vd m,
                            md C) {
    const P& p = r.process();
    const index_t D = mu.size();
    const md I = md::Identity(D, D);
    for (index_t k = 0; k < r.steps(); ++k) {
        const double t = r.time(k), tn = r.time(k + 1);
        const double a = p.mean_scale(t), s = p.noise_std(t);
        const md Sinv = (a * a * S + s * s * I).inverse();
        const auto c = p.step(t, tn);
        const md G = c.a * I - c.c * Sinv;
        const vd b = c.c * Sinv * (a * mu);
        m = G * m + b;
        C = G * C * G.transpose() + c.v * I;
    }
    return {m, C};
}

template <class P>
double bias_of(const P& p, index_t steps) {
    const samplers::reverse_sde<P> r(p, steps, random::stream{0, 0});
    const double s = p.prior_std();
    const auto [m, C] = exact_law(r, mu2(), sigma2(), vd::Zero(2), s * s * md::Identity(2, 2));
    return std::max((m - mu2()).cwiseAbs().maxCoeff(), (C - sigma2()).cwiseAbs().maxCoeff());
}

struct nan_time_source {  // s_t(x) = -x, NaN in chain `bad` from call `bad_call` on
    index_t D;
    index_t bad;
    int bad_call;
    mutable int calls = 0;
    index_t dim() const { return D; }
    void score(batch_view<const double> x, batch_view<double> out, double) const {
        for (index_t e = 0; e < x.size(); ++e) out.data[e] = -x.data[e];
        if (calls++ >= bad_call) out(0, bad) = std::numeric_limits<double>::quiet_NaN();
    }
};

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const hosm::error& e) {
        return e.what();
    }
    return "";
}

template <class P, class B>
void check_sampling(const P& p, index_t steps, double bias_bound, std::uint64_t seed) {
    const index_t N = 12000;
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const samplers::exact_time_score src(g, p);
    const samplers::reverse_sde<P, B> r(p, steps, random::stream{seed, 1});
    batch<double, B> x(2, N);
    r.sample_prior(x.view());
    const double s = p.prior_std();
    const md I = md::Identity(2, 2);
    check_moments(x.to_eigen(), vd::Zero(2), s * s * I, vd::Zero(2), md::Zero(2, 2), "prior");
    r.run(src, x.view());
    const md X = x.to_eigen();
    const auto [m, C] = exact_law(r, mu2(), sigma2(), vd::Zero(2), s * s * I);
    check_moments(X, m, C, vd::Zero(2), md::Zero(2, 2), "output vs exact discrete law");
    const vd mb = (m - mu2()).cwiseAbs();
    const md cb = (C - sigma2()).cwiseAbs();
    check_moments(X, mu2(), sigma2(), mb, cb, "output vs target, slack = exact bias");
    CHECK(mb.maxCoeff() <= bias_bound);
    CHECK(cb.maxCoeff() <= bias_bound);
}

}  // namespace

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/reverse_sde: VE and VP process coefficients") {
    const samplers::ve_sde<double> ve(0.01, 20.0);
    CHECK(ve.horizon() == 1.0);
    CHECK(ve.sigma(0.0) == doctest::Approx(0.01).epsilon(1e-15));
    CHECK(ve.sigma(1.0) == doctest::Approx(20.0).epsilon(1e-14));
    CHECK(ve.noise_std(0.0) == 0.0);
    for (double t : {0.05, 0.3, 0.8, 1.0}) {
        CAPTURE(t);
        const double sig = 0.01 * std::pow(2000.0, t);
        CHECK(ve.mean_scale(t) == 1.0);
        CHECK(ve.noise_std(t) * ve.noise_std(t) ==
              doctest::Approx(sig * sig - 1e-4).epsilon(1e-13));
        const double tn = t * 0.7;
        const double sn = 0.01 * std::pow(2000.0, tn);
        const auto c = ve.step(t, tn);
        CHECK(c.a == 1.0);
        CHECK(c.c == doctest::Approx(sig * sig - sn * sn).epsilon(1e-13));
        CHECK(c.v == c.c);
    }
    CHECK(ve.prior_std() == ve.noise_std(1.0));

    const samplers::vp_sde<double> vp(4.0);
    CHECK(vp.horizon() == 4.0);
    CHECK(vp.noise_std(0.0) == 0.0);
    for (double t : {0.01, 0.5, 2.0, 4.0}) {
        CAPTURE(t);
        CHECK(vp.mean_scale(t) == doctest::Approx(std::exp(-t)).epsilon(1e-15));
        CHECK(vp.noise_std(t) * vp.noise_std(t) ==
              doctest::Approx(1 - std::exp(-2 * t)).epsilon(1e-13));
        const double h = t / 3;
        const auto c = vp.step(t, t - h);
        CHECK(c.a == doctest::Approx(std::exp(h)).epsilon(1e-15));
        CHECK(c.c == doctest::Approx(2 * (std::exp(h) - 1)).epsilon(1e-13));
        CHECK(c.v == doctest::Approx(std::exp(2 * h) - 1).epsilon(1e-13));
    }
}
#endif

TEST_CASE_TEMPLATE("samplers/reverse_sde: exact time-t scores of a Gaussian and a mixture", B,
                   HOSM_TEST_BACKENDS) {
    const md X = md::Random(2, 7) * 2.0;
    const targets::gaussian<double, B> g(mu2(), sigma2());
    vd w(2);
    w << 0.3, 0.7;
    md means(2, 2);
    means << -1.0, 0.5, 1.5, -0.2;
    md S1(2, 2), S2(2, 2);
    S1 << 0.3, 0.1, 0.1, 0.2;
    S2 << 0.5, -0.2, -0.2, 0.4;
    const targets::gaussian_mixture<double, B> mix(w, means, std::vector<md>{S1, S2});
    auto check = [&](const auto& p) {
        const samplers::exact_time_score sg(g, p);
        const samplers::exact_time_score sm(mix, p);
        CHECK(sg.dim() == 2);
        for (double t : {0.0, 0.37 * p.horizon(), p.horizon()}) {
            CAPTURE(t);
            const double a = p.mean_scale(t), s = p.noise_std(t);
            const md I = md::Identity(2, 2);
            const targets::gaussian<double> gt(a * mu2(), a * a * sigma2() + s * s * I);
            const md want = gt.score(X);
            CHECK((sg.score(X, t) - want).cwiseAbs().maxCoeff() <= 1e-12 * mag(want));
            const targets::gaussian_mixture<double> mt(
                w, a * means, std::vector<md>{a * a * S1 + s * s * I, a * a * S2 + s * s * I});
            const md want_m = mt.score(X);
            CHECK((sm.score(X, t) - want_m).cwiseAbs().maxCoeff() <= 1e-12 * mag(want_m));
        }
    };
    check(samplers::ve_sde<double>(0.05, 10.0));
    check(samplers::vp_sde<double>(3.0));
}

TEST_CASE_TEMPLATE("samplers/reverse_sde: steps follow the exponential integrator and noise keys",
                   B, HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const random::stream rs{19, 5};
    auto check = [&](const auto& p) {
        const samplers::exact_time_score src(g, p);
        const samplers::reverse_sde<std::decay_t<decltype(p)>, B> r(p, 3, rs, 0.1);
        const md x0 = md::Random(2, 5);
        const md got = r.run(src, x0);
        md x = x0;
        for (index_t k = 0; k < 3; ++k) {
            const double t = r.time(k), tn = r.time(k + 1);
            const auto c = p.step(t, tn);
            md xi(2, 5);
            for (index_t j = 0; j < 5; ++j)
                for (index_t i = 0; i < 2; ++i)
                    xi(i, j) = rs.normal<double>((std::uint64_t(k) << 32) | std::uint64_t(j),
                                                 std::uint32_t(i));
            x = c.a * x + c.c * src.score(x, t) + std::sqrt(c.v) * xi;
        }
        CHECK((got - x).cwiseAbs().maxCoeff() <= 1e-12 * mag(x));
        // the prior: s_T times random::fill_normal's numbers of stream {seed, ~id}
        batch<double> z(2, 6);
        random::fill_normal<backend::cpp>(random::stream{rs.seed, ~rs.id}, z.view(), 3);
        CHECK((r.sample_prior(2, 6, 3) - p.prior_std() * z.to_eigen()).cwiseAbs().maxCoeff() <=
              1e-15);
    };
    check(samplers::vp_sde<double>(2.0));
    check(samplers::ve_sde<double>(0.05, 5.0));
}

TEST_CASE_TEMPLATE("samplers/reverse_sde: VP (OU) sampling of a Gaussian", B, HOSM_TEST_BACKENDS) {
    check_sampling<samplers::vp_sde<double>, B>(samplers::vp_sde<double>(4.0), 150, 0.03, 51);
}

TEST_CASE_TEMPLATE("samplers/reverse_sde: VE sampling of a Gaussian", B, HOSM_TEST_BACKENDS) {
    check_sampling<samplers::ve_sde<double>, B>(samplers::ve_sde<double>(0.01, 20.0), 150, 0.09,
                                                52);
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/reverse_sde: the discretisation bias falls at least like the step") {
    const samplers::vp_sde<double> vp(6.0);
    const samplers::ve_sde<double> ve(0.01, 20.0);
    for (index_t n : {50, 100, 200}) {
        CAPTURE(n);
        CHECK(bias_of(vp, 2 * n) <= 0.6 * bias_of(vp, n));
        CHECK(bias_of(ve, 2 * n) <= 0.6 * bias_of(ve, n));
    }
}
#endif

TEST_CASE_TEMPLATE("samplers/reverse_sde: back ends agree; time grid", B, HOSM_TEST_BACKENDS) {
    const samplers::vp_sde<double> vp(2.0);
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const targets::gaussian<double, backend::cpp> gc(mu2(), sigma2());
    const random::stream s{61, 2};
    const samplers::reverse_sde<samplers::vp_sde<double>, B> r(vp, 16, s, 0.25);
    const samplers::reverse_sde<samplers::vp_sde<double>> rc(vp, 16, s, 0.25);
    CHECK(r.steps() == 16);
    CHECK(r.t_end() == 0.25);
    CHECK(r.time(0) == 2.0);
    CHECK(r.time(16) == 0.25);
    CHECK(r.time(8) == doctest::Approx(1.125).epsilon(1e-15));
    const md x0 = r.sample_prior(2, 25, 4);
    CHECK(x0 == rc.sample_prior(2, 25, 4));
    const md a = r.run(samplers::exact_time_score(g, vp), x0);
    const md b = rc.run(samplers::exact_time_score(gc, vp), x0);
    CHECK(a == b);
    CHECK(a != x0);
    // another stream, other chains
    const samplers::reverse_sde<samplers::vp_sde<double>, B> r2(vp, 16, random::stream{61, 3},
                                                                0.25);
    CHECK(r2.run(samplers::exact_time_score(g, vp), x0) != a);
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/reverse_sde: bad input raises hosm::error") {
    const random::stream s{1, 0};
    CHECK_THROWS_AS(samplers::ve_sde<double>(0.0, 1.0), hosm::error);
    CHECK_THROWS_AS(samplers::ve_sde<double>(1.0, 1.0), hosm::error);
    CHECK_THROWS_AS(samplers::ve_sde<double>(2.0, 1.0), hosm::error);
    CHECK_THROWS_AS(samplers::vp_sde<double>(0.0), hosm::error);
    CHECK_THROWS_AS(samplers::vp_sde<double>(-1.0), hosm::error);
    const samplers::vp_sde<double> vp(2.0);
    using R = samplers::reverse_sde<samplers::vp_sde<double>>;
    CHECK_THROWS_AS(R(vp, 0, s), hosm::error);
    CHECK_THROWS_AS(R(vp, 10, s, -0.1), hosm::error);
    CHECK_THROWS_AS(R(vp, 10, s, 2.0), hosm::error);
    const R r(vp, 10, s);
    CHECK_THROWS_AS(r.time(11), hosm::error);

    const targets::gaussian<double> g(mu2(), sigma2());
    const samplers::exact_time_score src(g, vp);
    CHECK(error_of([&] { r.run(src, md(md::Zero(3, 4))); }).find("dimension mismatch") !=
          std::string::npos);
    CHECK_THROWS_AS(src.score(md(md::Zero(2, 4)), 2.5), hosm::error);
    CHECK_THROWS_AS(src.score(md(md::Zero(2, 4)), -0.5), hosm::error);
    CHECK_THROWS_AS(src.score(md(md::Zero(3, 4)), 0.5), hosm::error);
    {  // non-finite start
        md x0 = md::Zero(2, 4);
        x0(1, 3) = std::numeric_limits<double>::infinity();
        const std::string msg = error_of([&] { r.run(src, x0); });
        CAPTURE(msg);
        CHECK(msg.find("samplers::reverse_sde::run") != std::string::npos);
        CHECK(msg.find("state in chain 3") != std::string::npos);
        CHECK(msg.find("before step 0") != std::string::npos);
    }
    {  // NaN score in chain 2 from step 3 on
        const nan_time_source bad{2, 2, 3};
        const std::string msg = error_of([&] { r.run(bad, md(md::Ones(2, 4))); });
        CAPTURE(msg);
        CHECK(msg.find("score in chain 2") != std::string::npos);
        CHECK(msg.find("at step 3") != std::string::npos);
    }
}
#endif
