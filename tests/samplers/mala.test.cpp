// Tests of samplers::mala (hosm/samplers/mala.hpp).
//
// Oracles:
//  * one step recomputed on the host: proposal = the ULA step of the same
//    stream (bitwise: same expression), accept iff log u < log a with log a
//    from the closed-form log p and s1 of the Gaussian target and
//    u = stream.uniform(key, 0); decisions must agree for every chain (a tie
//    within rounding has probability ~1e-12 per chain);
//  * no step-size bias: on N(0, 1) started from exact draws, every state of a
//    MALA chain is exactly N(0, 1) (detailed balance), so the sample variance
//    of 1e5 chains after 20 steps is within 5 standard errors (sqrt(2/(N-1)))
//    of 1 at eps = 1, where ULA's 4/3 is >= 20 standard errors away;
//  * acceptance reporting: per-chain counts equal the number of steps in
//    which the recorded trace changed (exact);
//  * the s1 / log p cache: a run that invalidates it every step is bitwise
//    the same;
//  * back-end independence: bitwise.
#include "support/backends.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/langevin.hpp>
#include <hosm/samplers/mala.hpp>
#include <hosm/targets/gaussian.hpp>

using namespace hosm;
using hosm_test::message_of;
using md = hosm::matrix<double>;
using vd = hosm::vector<double>;

namespace {

template <class B>
targets::gaussian<double, B> gauss2() {
    vd mu(2);
    mu << 0.5, -1.0;
    md S(2, 2);
    S << 1.0, 0.3, 0.3, 0.5;
    return targets::gaussian<double, B>(mu, S);
}

/// 1-d, log p = -x^2/2 on x > 0 and -inf elsewhere (s1 = -x everywhere);
/// log p is NaN for x > nan_above.
struct half_normal {
    double nan_above = std::numeric_limits<double>::infinity();
    index_t dim() const { return 1; }
    void score(batch_view<const double> x, batch_view<double> out) const {
        for (index_t j = 0; j < x.count; ++j) out(0, j) = -x(0, j);
    }
    void log_density(batch_view<const double> x, batch_view<double> out) const {
        for (index_t j = 0; j < x.count; ++j) {
            const double v = x(0, j);
            out(0, j) = v > nan_above ? std::nan("")
                        : v > 0      ? -v * v / 2
                                     : -std::numeric_limits<double>::infinity();
        }
    }
};

}  // namespace

TEST_CASE_TEMPLATE("samplers/mala: one step is the ULA proposal with a Metropolis–Hastings test", B,
                   HOSM_TEST_BACKENDS) {
    const auto g = gauss2<B>();
    const index_t N = 2000;
    md x0(2, N);
    for (index_t j = 0; j < N; ++j) {
        x0(0, j) = -2.0 + 4.0 * double(j) / double(N);
        x0(1, j) = 1.0 - 3.0 * double(j % 17) / 17.0;
    }
    const double eps = 0.8;
    const random::stream noise{3, 1}, accept{3, 2};
    samplers::chains<double, B> cm(x0), cu(x0);
    samplers::mala<double, B> mala(eps, noise, accept);
    samplers::langevin<double, B> ula(eps, noise);
    mala.step(g, cm);
    ula.step(g, cu);
    const md xm = cm.to_eigen(), xu = cu.to_eigen();
    const std::vector<int> acc = mala.last_accepted();

    const md s1 = g.score(x0), s1p = g.score(xu);
    const md lp = g.log_density(x0), lpp = g.log_density(xu);
    index_t n_acc = 0;
    for (index_t j = 0; j < N; ++j) {
        CAPTURE(j);
        const std::uint64_t key = std::uint64_t(j);  // step 0, first_index 0
        double z2 = 0;
        for (index_t k = 0; k < 2; ++k) {
            const double z = noise.normal<double>(key, std::uint32_t(k));
            z2 += z * z;
        }
        const vd back = x0.col(j) - xu.col(j) - eps / 2 * s1p.col(j);
        const double log_a = lpp(0, j) - lp(0, j) - back.squaredNorm() / (2 * eps) + z2 / 2;
        const bool expect = std::log(accept.uniform<double>(key, 0)) < log_a;
        CHECK(acc[std::size_t(j)] == int(expect));
        if (expect) {
            // The proposal is the ULA step. ULA's host path draws its normals with a
            // vectorised Box-Muller that matches stream.normal to a few ulp
            // (samplers/langevin.hpp), MALA's with stream.normal itself.
            CHECK((xm.col(j) - xu.col(j)).cwiseAbs().maxCoeff() <=
                  1e-14 * (1 + xu.col(j).cwiseAbs().maxCoeff()));
            ++n_acc;
        } else {
            CHECK(xm.col(j) == x0.col(j));
        }
    }
    CHECK(n_acc > N / 4);      // both outcomes occur, so both branches were tested
    CHECK(n_acc < N - N / 20);
    CHECK(mala.proposals() == 1);
    CHECK(mala.acceptance_rate() == doctest::Approx(double(n_acc) / double(N)).epsilon(1e-15));
}

#if !defined(__CUDACC__)  // host back ends only
// Statistical tests on the cpp back end only: omp is bitwise the same (below).
TEST_CASE("samplers/mala: no step-size bias where ULA is visibly biased") {
    using B = backend::cpp;
    const targets::gaussian<double, B> g(vd::Zero(1), md::Identity(1, 1));
    const index_t N = 100000;
    const md x0 = g.sample(random::stream{99, 0}, N);  // exact draws of N(0, 1)
    const double eps = 1.0;
    samplers::chains<double, B> cm(x0), cu(x0);
    samplers::mala<double, B> mala(eps, random::stream{8, 1});
    samplers::langevin<double, B> ula(eps, random::stream{8, 1});
    samplers::run(mala, g, cm, 20);
    samplers::run(ula, g, cu, 20);
    const double se = std::sqrt(2.0 / double(N - 1));
    auto var = [](const md& x) {
        const double m = x.mean();
        return (x.array() - m).square().sum() / double(x.cols() - 1);
    };
    const double vm = var(cm.to_eigen()), vu = var(cu.to_eigen());
    CAPTURE(vm);
    CAPTURE(vu);
    CHECK(std::abs(vm - 1.0) <= 5 * se);
    CHECK(std::abs(cm.to_eigen().mean()) <= 5 / std::sqrt(double(N)));
    CHECK(vu - 1.0 >= 20 * se);  // ULA: 4/3 (1 - a^40 (1 - 3/4)) with a = 1/2
    const double r = mala.acceptance_rate();
    CHECK(r > 0.5);
    CHECK(r < 1.0);
}
#endif

TEST_CASE_TEMPLATE("samplers/mala: acceptance counts match the recorded trace", B, HOSM_TEST_BACKENDS) {
    const auto g = gauss2<B>();
    const index_t N = 64, T = 30;
    samplers::chains<double, B> c(md::Zero(2, N));
    samplers::mala<double, B> mala(1.5, random::stream{4, 4});
    std::vector<double> tr;
    const md x0 = c.to_eigen();
    auto view = samplers::run(mala, g, c, T, tr);
    REQUIRE(view.steps == T);
    const std::vector<double> rates = mala.acceptance_rates();
    double total = 0;
    for (index_t j = 0; j < N; ++j) {
        index_t moves = 0;
        for (index_t t = 0; t < T; ++t) {
            const double prev0 = t == 0 ? x0(0, j) : view(t - 1, j, 0);
            const double prev1 = t == 0 ? x0(1, j) : view(t - 1, j, 1);
            if (view(t, j, 0) != prev0 || view(t, j, 1) != prev1) ++moves;
        }
        CHECK(rates[std::size_t(j)] * double(T) == doctest::Approx(double(moves)).epsilon(1e-12));
        total += double(moves);
    }
    CHECK(mala.acceptance_rate() == doctest::Approx(total / double(N * T)).epsilon(1e-12));
    CHECK(mala.proposals() == std::uint64_t(T));
    mala.reset_statistics();
    CHECK(mala.proposals() == 0);
    CHECK(std::isnan(mala.acceptance_rate()));
}

TEST_CASE_TEMPLATE("samplers/mala: the cached s1 and log p do not change the chains", B,
                   HOSM_TEST_BACKENDS) {
    const auto g = gauss2<B>();
    samplers::chains<double, B> a(md::Zero(2, 50)), b(md::Zero(2, 50));
    samplers::mala<double, B> ma(1.0, random::stream{6, 1}), mb(1.0, random::stream{6, 1});
    for (int t = 0; t < 10; ++t) {
        ma.step(g, a);
        (void)b.mutable_state();  // invalidates mb's cache every step
        mb.step(g, b);
    }
    CHECK(a.to_eigen() == b.to_eigen());
    CHECK(ma.acceptance_rates() == mb.acceptance_rates());
    // one sampler alternating between two chains objects keeps them apart
    samplers::chains<double, B> p(md::Zero(2, 50)), q(md::Constant(2, 50, 1.0));
    samplers::chains<double, B> p2(md::Zero(2, 50)), q2(md::Constant(2, 50, 1.0));
    samplers::mala<double, B> m1(1.0, random::stream{6, 2}), m2(1.0, random::stream{6, 2}),
        m3(1.0, random::stream{6, 2});
    for (int t = 0; t < 5; ++t) {
        m1.step(g, p);
        m1.step(g, q);
        m2.step(g, p2);
        m3.step(g, q2);
    }
    CHECK(p.to_eigen() == p2.to_eigen());
    CHECK(q.to_eigen() == q2.to_eigen());
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/mala: identical on cpp and omp") {
    const auto gc = gauss2<backend::cpp>();
    const auto go = gauss2<backend::omp>();
    samplers::chains<double, backend::cpp> cc(md::Zero(2, 100));
    samplers::chains<double, backend::omp> co(md::Zero(2, 100));
    samplers::mala<double, backend::cpp> mc(1.2, random::stream{2, 7});
    samplers::mala<double, backend::omp> mo(1.2, random::stream{2, 7});
    samplers::run(mc, gc, cc, 8);
    samplers::run(mo, go, co, 8);
    CHECK(cc.to_eigen() == co.to_eigen());
    CHECK(mc.acceptance_rates() == mo.acceptance_rates());
}
#endif

TEST_CASE_TEMPLATE("samplers/mala: proposals outside the support are rejected", B, HOSM_TEST_BACKENDS) {
    if constexpr (B::host_memory) {  // half_normal loops over host memory
        const half_normal p;
        samplers::chains<double, B> c(md::Constant(1, 500, 0.5));
        samplers::mala<double, B> mala(2.0, random::stream{1, 5});
        samplers::run(mala, p, c, 20);
        CHECK(c.to_eigen().minCoeff() > 0.0);
        CHECK(mala.acceptance_rate() < 0.9);  // many proposals fell below 0
    }
}

TEST_CASE_TEMPLATE("samplers/mala: bad input", B, HOSM_TEST_BACKENDS) {
    const random::stream s{1, 1};
    using M = samplers::mala<double, B>;
    CHECK(message_of([&] { M(0.0, s); }).find("'eps'") != std::string::npos);
    CHECK(message_of([&] { M(-2.0, s, s); }).find("'eps'") != std::string::npos);
    const auto g = gauss2<B>();
    M mala(0.5, s);
    samplers::chains<double, B> c1(1, 3);
    CHECK(message_of([&] { mala.step(g, c1); }).find("dimension mismatch") != std::string::npos);

    if constexpr (!B::host_memory) return;  // half_normal below loops over host memory
    // log p = NaN at chain 3's proposal (it starts above 100): reported
    half_normal p;
    p.nan_above = 100;
    md x0 = md::Constant(1, 5, 1.0);
    x0(0, 3) = 150;  // log p(x) itself is NaN: caught before the proposal is used
    samplers::chains<double, B> c(x0);
    const std::string m = message_of([&] { mala.step(p, c); });
    CAPTURE(m);
    CHECK(m.find("chain 3 failed in step 0") != std::string::npos);
    CHECK(m.find("non-finite log density") != std::string::npos);
    CHECK(c.step() == 0);
    CHECK(c.to_eigen() == x0);
    CHECK((c.flags()[3] & samplers::nonfinite_density) != 0);
    CHECK(c.flagged() == 1);
    // a chain starting outside the support (log p = -inf) is an error too
    md y0 = md::Constant(1, 4, 1.0);
    y0(0, 1) = -1.0;
    samplers::chains<double, B> d(y0);
    const std::string m2 = message_of([&] { mala.step(p, d); });
    CHECK(m2.find("chain 1 failed in step 0") != std::string::npos);
}
