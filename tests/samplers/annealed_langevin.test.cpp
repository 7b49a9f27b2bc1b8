// Tests of samplers::annealed_langevin (hosm/samplers/annealed_langevin.hpp).
//
// Oracles:
//  * the schedule itself, exactly: with a level source whose score is 0,
//    each step is x + sqrt(alpha_i) z with z the documented draws, so the
//    levels visited (0 x T, 1 x T, ...) and alpha_i = eps sigma_i^2 / sigma_L^2
//    are read off to 1e-14 relative;
//  * Gaussian target with exact smoothed scores (targets::gaussian::smoothed):
//    every step is linear-Gaussian, so the law of the final state is Gaussian
//    with mean and covariance given by the recursion m' = A m + (a/2) P_i mu,
//    C' = A C A^T + a I, A = I - (a/2) P_i, P_i = (Sigma + sigma_i^2 I)^{-1},
//    run here in double; 20000 chains agree within 5 standard errors, and
//    these exact moments are themselves within 0.05 of the target's
//    (mean) / 0.04 (covariance entries): annealing ends near the target;
//  * back-end independence: bitwise.
#include "support/backends.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <hosm/noise/schedule.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/annealed_langevin.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/targets/gaussian.hpp>

using namespace hosm;
using hosm_test::message_of;
using md = hosm::matrix<double>;
using vd = hosm::vector<double>;

namespace {

/// score(x, out, level) = 0; records the levels asked for.
struct zero_levels {
    index_t D = 2;
    index_t L = -1;  // levels() when >= 0
    std::vector<index_t>* seen = nullptr;
    index_t dim() const { return D; }
    void score(batch_view<const double>, batch_view<double> out, index_t level) const {
        for (index_t k = 0; k < out.size(); ++k) out.data[k] = 0.0;
        if (seen) seen->push_back(level);
    }
};
struct zero_levels_counted : zero_levels {
    index_t levels() const { return L; }
};

vd mu2() { return (vd(2) << 0.5, -1.0).finished(); }
md sigma2() {
    md S(2, 2);
    S << 1.0, 0.3, 0.3, 0.5;
    return S;
}

template <class B>
std::vector<targets::gaussian<double, B>> smoothed_levels(const noise::schedule<double>& s) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    std::vector<targets::gaussian<double, B>> v;
    for (index_t i = 0; i < s.size(); ++i) v.push_back(g.smoothed(s[i]));
    return v;
}

}  // namespace

TEST_CASE_TEMPLATE("samplers/annealed_langevin: levels and step sizes follow the NCSN schedule", B,
                   HOSM_TEST_BACKENDS) {
    const std::vector<double> sig{2.0, 1.0, 0.5};
    const double eps = 0.01;
    const index_t T = 3;
    const random::stream s{21, 1};
    samplers::annealed_langevin<double, B> a(eps, sig, T, s);
    CHECK(a.levels() == 3);
    CHECK(a.total_steps() == 9);
    CHECK(a.step_size(0) == doctest::Approx(eps * 16).epsilon(1e-15));
    CHECK(a.step_size(2) == eps);
    CHECK(a.sigma(1) == 1.0);
    std::vector<index_t> seen;
    const zero_levels src{2, -1, &seen};
    samplers::chains<double, B> c(md::Zero(2, 4));
    md prev = c.to_eigen();
    for (index_t k = 0; k < 9; ++k) {
        CHECK(a.level() == k / T);
        a.step(src, c);
        const md x = c.to_eigen();
        const double alpha = eps * sig[std::size_t(k / T)] * sig[std::size_t(k / T)] / (0.5 * 0.5);
        for (index_t j = 0; j < 4; ++j)
            for (index_t d = 0; d < 2; ++d) {
                const double z = s.normal<double>((std::uint64_t(k) << 32) | std::uint64_t(j), std::uint32_t(d));
                CHECK(x(d, j) - prev(d, j) == doctest::Approx(std::sqrt(alpha) * z).epsilon(1e-14));
            }
        prev = x;
    }
    CHECK(seen == std::vector<index_t>{0, 0, 0, 1, 1, 1, 2, 2, 2});
    CHECK(a.finished());
    CHECK(a.level() == 3);
    const std::string m = message_of([&] { a.step(src, c); });
    CHECK(m.find("schedule is finished") != std::string::npos);
    CHECK(c.step() == 9);
    a.reset();
    CHECK(a.steps_done() == 0);
    a.step(src, c);  // level 0 again
    CHECK(seen.back() == 0);
}

TEST_CASE("samplers/annealed_langevin: exact smoothed scores end near the target moments") {
    using B = backend::cpp;  // omp is bitwise the same (below)
    const noise::schedule<double> sched(3.0, 0.1, 8);
    const index_t T = 50, N = 20000;
    const double eps = 0.01;
    const auto levels = smoothed_levels<B>(sched);
    md x0(2, N);
    const random::stream init{77, 0};
    for (index_t j = 0; j < N; ++j)
        for (index_t d = 0; d < 2; ++d) x0(d, j) = 3.0 * init.normal<double>(std::uint64_t(j), std::uint32_t(d));
    samplers::chains<double, B> c(x0);
    samplers::annealed_langevin<double, B> a(eps, sched, T, random::stream{77, 1});
    samplers::run(a, levels, c, a.total_steps());
    CHECK(a.finished());

    // exact moments of the final state
    vd m = vd::Zero(2);
    md C = 9.0 * md::Identity(2, 2);
    for (index_t i = 0; i < sched.size(); ++i) {
        const double al = a.step_size(i);
        const md P = (sigma2() + sched[i] * sched[i] * md::Identity(2, 2)).inverse();
        const md A = md::Identity(2, 2) - al / 2 * P;
        for (index_t t = 0; t < T; ++t) {
            m = A * m + al / 2 * P * mu2();
            C = A * C * A.transpose() + al * md::Identity(2, 2);
        }
    }
    const md X = c.to_eigen();
    const vd mean = X.rowwise().mean();
    const md Y = X.colwise() - mean;
    const md cov = Y * Y.transpose() / double(N - 1);
    for (index_t i = 0; i < 2; ++i) {
        CAPTURE(i);
        CHECK(std::abs(mean(i) - m(i)) <= 5 * std::sqrt(C(i, i) / double(N)));
        CHECK(std::abs(m(i) - mu2()(i)) <= 0.05);
        for (index_t j = 0; j <= i; ++j) {
            CAPTURE(j);
            const double se = std::sqrt((C(i, i) * C(j, j) + C(i, j) * C(i, j)) / double(N));
            CHECK(std::abs(cov(i, j) - C(i, j)) <= 5 * se);
            CHECK(std::abs(C(i, j) - sigma2()(i, j)) <= 0.04);
        }
    }
}

TEST_CASE("samplers/annealed_langevin: identical on cpp and omp") {
    const noise::schedule<double> sched(2.0, 0.2, 4);
    const auto lc = smoothed_levels<backend::cpp>(sched);
    const auto lo = smoothed_levels<backend::omp>(sched);
    md x0(2, 50);
    for (index_t j = 0; j < 50; ++j) x0.col(j) << 0.1 * double(j), -0.05 * double(j);
    samplers::chains<double, backend::cpp> cc(x0);
    samplers::chains<double, backend::omp> co(x0);
    samplers::annealed_langevin<double, backend::cpp> ac(0.02, sched, 5, random::stream{4, 2});
    samplers::annealed_langevin<double, backend::omp> ao(0.02, sched, 5, random::stream{4, 2});
    samplers::run(ac, lc, cc, ac.total_steps());
    samplers::run(ao, lo, co, ao.total_steps());
    CHECK(cc.to_eigen() == co.to_eigen());
}

TEST_CASE_TEMPLATE("samplers/annealed_langevin: bad input and schedule problems", B, HOSM_TEST_BACKENDS) {
    using A = samplers::annealed_langevin<double, B>;
    const random::stream s{1, 1};
    const std::vector<double> ok{1.0, 0.5};
    CHECK(message_of([&] { A(0.0, ok, 2, s); }).find("'eps'") != std::string::npos);
    CHECK(message_of([&] { A(-1.0, ok, 2, s); }).find("'eps'") != std::string::npos);
    CHECK(message_of([&] { A(0.1, ok, 0, s); }).find("steps_per_level") != std::string::npos);
    CHECK(message_of([&] { A(0.1, std::vector<double>{}, 2, s); }).find("sigmas.size()") !=
          std::string::npos);
    CHECK(message_of([&] { A(0.1, std::vector<double>{1.0, -0.5}, 2, s); }).find("sigmas[1]") !=
          std::string::npos);
    CHECK(message_of([&] { A(0.1, std::vector<double>{1.0, std::nan("")}, 2, s); }).find("sigmas[1]") !=
          std::string::npos);
    const std::string inc = message_of([&] { A(0.1, std::vector<double>{0.5, 1.0}, 2, s); });
    CHECK(inc.find("non-increasing") != std::string::npos);
    CHECK(message_of([&] { A(1e300, std::vector<double>{1e200, 1e-200}, 2, s); }).find("not finite") !=
          std::string::npos);
    CHECK(message_of([&] { noise::schedule<double>(0.1, 1.0, 3); }).find("sigma_max") != std::string::npos);

    A a(0.1, ok, 2, s);
    CHECK(message_of([&] { (void)a.sigma(2); }).find("level 2") != std::string::npos);
    CHECK(message_of([&] { (void)a.step_size(-1); }).find("level -1") != std::string::npos);
    samplers::chains<double, B> c(2, 3);
    // a range of sources of the wrong length
    const noise::schedule<double> three(1.0, 0.25, 3);
    const auto levels3 = smoothed_levels<B>(three);
    CHECK(message_of([&] { a.step(levels3, c); }).find("3 entries") != std::string::npos);
    // a level source declaring another number of levels
    zero_levels_counted zc;
    zc.L = 5;
    CHECK(message_of([&] { a.step(zc, c); }).find("5 levels") != std::string::npos);
    // dimension mismatch
    const zero_levels z3{3};
    CHECK(message_of([&] { a.step(z3, c); }).find("dimension mismatch") != std::string::npos);
    CHECK(c.step() == 0);
    CHECK(a.steps_done() == 0);  // failed steps do not advance the schedule
    zc.L = 2;
    a.step(zc, c);
    CHECK(a.steps_done() == 1);
}
