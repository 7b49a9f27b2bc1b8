// Tests of samplers::langevin (hosm/samplers/langevin.hpp), ULA, seed 000 Eq. (19).
//
// Oracles:
//  * one step recomputed on the host from Eq. (19) with the documented keys,
//    z_k = stream.normal((t << 32) | (first + j), k): agreement to 1e-14
//    relative (same operations; only the order of rounding can differ);
//  * the stationary law of ULA on N(0, s^2) in 1-d, x' = a x + sqrt(eps) z,
//    a = 1 - eps/(2 s^2): variance eps / (1 - a^2). 1e5 independent chains
//    run 40 steps from 0 (a^80 < 1e-24 of transient), sample variance within
//    5 standard errors (var sqrt(2/(N-1))), and at least 20 standard errors
//    away from s^2 (the bias is visible);
//  * back-end and batching independence: bitwise equality.
#include "support/backends.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/langevin.hpp>
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

struct moments1 {
    double mean, var;
};
moments1 moments(const md& x) {  // 1 x N
    const double m = x.mean();
    const double v = (x.array() - m).square().sum() / double(x.cols() - 1);
    return {m, v};
}

}  // namespace

TEST_CASE_TEMPLATE("samplers/langevin: one step is Eq. (19) with the documented keys", B,
                   HOSM_TEST_BACKENDS) {
    const auto g = gauss2<B>();
    md x0(2, 3);
    x0 << 0.1, 2.0, -1.0,  //
        0.4, -0.3, 3.0;
    const std::uint64_t first = 11;
    samplers::chains<double, B> c(x0, first);
    const random::stream s{42, 3};
    const double eps = 0.3;
    samplers::langevin<double, B> ula(eps, s);
    CHECK(ula.step_size() == eps);
    ula.step(g, c);  // step 0
    ula.step(g, c);  // step 1
    CHECK(c.step() == 2);
    // recompute both steps on the host
    md x = x0;
    for (std::uint64_t t = 0; t < 2; ++t) {
        const md s1 = g.score(x);
        for (index_t j = 0; j < 3; ++j) {
            const std::uint64_t key = (t << 32) | (first + std::uint64_t(j));
            for (index_t k = 0; k < 2; ++k)
                x(k, j) += eps / 2 * s1(k, j) + std::sqrt(eps) * s.normal<double>(key, std::uint32_t(k));
        }
    }
    const md got = c.to_eigen();
    CHECK((got - x).cwiseAbs().maxCoeff() <= 1e-14 * x.cwiseAbs().maxCoeff());
}

#if !defined(__CUDACC__)  // host back ends only
// Statistical tests run on the cpp back end only: the omp chains are bitwise
// the same (tested below), so repeating them would only cost time.
TEST_CASE("samplers/langevin: stationary variance of ULA on N(0, s^2) matches its closed form") {
    using B = backend::cpp;
    const double s2 = 1.0, eps = 1.0;
    const targets::gaussian<double, B> g(vd::Zero(1), md::Constant(1, 1, s2));
    const index_t N = 100000;
    samplers::chains<double, B> c(1, N);
    samplers::langevin<double, B> ula(eps, random::stream{7, 1});
    samplers::run(ula, g, c, 40);
    const double a = 1 - eps / (2 * s2);
    const double v_ula = eps / (1 - a * a);  // 4/3
    const moments1 m = moments(c.to_eigen());
    const double se_v = v_ula * std::sqrt(2.0 / double(N - 1));
    CAPTURE(m.var);
    CHECK(std::abs(m.var - v_ula) <= 5 * se_v);
    CHECK(std::abs(m.mean) <= 5 * std::sqrt(v_ula / double(N)));
    CHECK(m.var - s2 >= 20 * se_v);  // biased: ULA does not sample N(0, s^2)
}
#endif

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/langevin: chains are identical on cpp and omp, and for any batching") {
    const auto gc = gauss2<backend::cpp>();
    const auto go = gauss2<backend::omp>();
    md x0 = md::Zero(2, 40);
    for (index_t j = 0; j < 40; ++j) x0(0, j) = 0.1 * double(j);
    samplers::chains<double, backend::cpp> cc(x0);
    samplers::chains<double, backend::omp> co(x0);
    const random::stream s{5, 9};
    samplers::langevin<double, backend::cpp> uc(0.2, s);
    samplers::langevin<double, backend::omp> uo(0.2, s);
    samplers::run(uc, gc, cc, 6);
    samplers::run(uo, go, co, 6);
    CHECK(cc.to_eigen() == co.to_eigen());
    // the same 40 chains split 25 + 15 (first_index 0 and 25)
    samplers::chains<double, backend::cpp> a(md(x0.leftCols(25)), 0), b(md(x0.rightCols(15)), 25);
    samplers::run(uc, gc, a, 6);
    samplers::run(uc, gc, b, 6);
    CHECK(a.to_eigen() == cc.to_eigen().leftCols(25));
    CHECK(b.to_eigen() == cc.to_eigen().rightCols(15));
}
#endif

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/langevin: float chains") {
    using mf = hosm::matrix<float>;
    using vf = hosm::vector<float>;
    const targets::gaussian<float> g(vf::Zero(2), mf::Identity(2, 2));
    samplers::chains<float> c(2, 1000);
    samplers::langevin<float> ula(0.1f, random::stream{1, 1});
    samplers::run(ula, g, c, 50);
    const mf x = c.to_eigen();
    CHECK(x.allFinite());
    // variance after 50 steps from 0: (1 - a^100) eps / (1 - a^2), a = 0.95
    const double a = 0.95, v = (1 - std::pow(a, 100)) * 0.1 / (1 - a * a);
    const double var = double(x.row(0).squaredNorm()) / 1000.0;
    CHECK(std::abs(var - v) <= 5 * v * std::sqrt(2.0 / 1000.0));
}
#endif

TEST_CASE_TEMPLATE("samplers/langevin: bad input", B, HOSM_TEST_BACKENDS) {
    const random::stream s{1, 1};
    using L = samplers::langevin<double, B>;
    CHECK(message_of([&] { L(0.0, s); }).find("'eps'") != std::string::npos);
    CHECK(message_of([&] { L(-1.0, s); }).find("'eps'") != std::string::npos);
    CHECK(message_of([&] { L(std::nan(""), s); }).find("'eps'") != std::string::npos);
    CHECK(message_of([&] { L(std::numeric_limits<double>::infinity(), s); }).find("'eps'") !=
          std::string::npos);

    const auto g = gauss2<B>();
    L ula(0.1, s);
    samplers::chains<double, B> c3(3, 5);
    const std::string m = message_of([&] { ula.step(g, c3); });
    CHECK(m.find("dimension mismatch") != std::string::npos);
    CHECK(m.find("dimension 2") != std::string::npos);
    CHECK(c3.step() == 0);

    // a chain whose state overflows: P = 1e10, chain 2 starts at 1e300, so
    // s1 = -1e310 = -inf there; reported with chain and step, never hidden
    const targets::gaussian<double, B> sharp(vd::Zero(1), md::Constant(1, 1, 1e-10));
    md x0 = md::Zero(1, 4);
    x0(0, 2) = 1e300;
    samplers::chains<double, B> c(x0);
    const std::string m2 = message_of([&] { samplers::run(ula, sharp, c, 3); });
    CAPTURE(m2);
    CHECK(m2.find("samplers::langevin::step") != std::string::npos);
    CHECK(m2.find("chain 2 failed in step 0") != std::string::npos);
    CHECK(m2.find("non-finite score") != std::string::npos);
    CHECK(c.step() == 0);
    CHECK(c.to_eigen() == x0);  // not advanced
    CHECK((c.flags()[2] & samplers::nonfinite_state) != 0);
    CHECK((c.flags()[2] & samplers::nonfinite_score) != 0);
    CHECK(c.flags()[0] == 0);
}
