#include "support/backends.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/objectives/fd_ssm_vr.hpp>
#include <hosm/objectives/ssm.hpp>
#include <hosm/objectives/ssm_vr.hpp>

using namespace hosm;
using hosm::models::activation;
using hosm::models::energy_mlp;
using hosm::objectives::projection;

namespace {

double loglog_slope(const std::vector<double>& eps, const std::vector<double>& err) {
    double mx = 0, my = 0;
    const double n = static_cast<double>(eps.size());
    for (std::size_t k = 0; k < eps.size(); ++k) {
        mx += std::log(eps[k]) / n;
        my += std::log(std::abs(err[k])) / n;
    }
    double sxy = 0, sxx = 0;
    for (std::size_t k = 0; k < eps.size(); ++k) {
        sxy += (std::log(eps[k]) - mx) * (std::log(std::abs(err[k])) - my);
        sxx += (std::log(eps[k]) - mx) * (std::log(eps[k]) - mx);
    }
    return sxy / sxx;
}

/// Central differences in every stride-th parameter of loss() against m.gradients(): h = 1e-5,
/// truncation ~1e-11, rounding ~1e-16 |terms| / h with terms amplified by 1/eps (~10):
/// ~1e-10. Tolerance 1e-6 max(|g_k|, 0.01 max|g|) + 1e-9.
template <class M, class F>
void check_parameter_gradient(M& m, F loss, std::size_t stride) {
    double* p = thrust::raw_pointer_cast(m.parameters().data());
    const auto g = m.gradients();
    double gmax = 0;
    for (double v : g) gmax = std::max(gmax, std::abs(v));
    REQUIRE(gmax > 0);
    for (std::size_t k = 0; k < g.size(); k += stride) {
        const double keep = p[k], h = 1e-5;
        p[k] = keep + h;
        const double fp = loss();
        p[k] = keep - h;
        const double fm = loss();
        p[k] = keep;
        CAPTURE(k);
        CHECK(std::abs((fp - fm) / (2 * h) - g[k]) <= 1e-6 * std::max(std::abs(g[k]), 1e-2 * gmax) + 1e-9);
    }
}

}  // namespace

TEST_CASE("objectives/fd_ssm_vr: loss and gradient from scores (seed 002 Sec. 4)") {
    // the seed's formula with v = eps u, exact to 1e-14; dL/ds against central differences
    // (quadratic in s: rounding only; tolerance 1e-7).
    const index_t D = 3, N = 4;
    const double eps = 0.25;
    matrix<double> sp = matrix<double>::Random(D, N), sm = matrix<double>::Random(D, N);
    matrix<double> u(D, N);
    objectives::draw_projections(projection::rademacher, random::stream{1, 1}, view(u));
    double ref = 0;
    for (index_t j = 0; j < N; ++j) {
        const vector<double> v = eps * u.col(j);
        ref += ((sp.col(j) + sm.col(j)).squaredNorm() / (8.0 * D) +
                (v.dot(sp.col(j)) - v.dot(sm.col(j))) / (2 * eps * eps)) / N;
    }
    const objectives::fd_ssm_vr<double> obj(eps);
    CHECK(obj.eps() == eps);
    CHECK(objectives::loss(obj, view(sp), view(sm), view(u)) == doctest::Approx(ref).epsilon(1e-14));
    matrix<double> gp(D, N), gm(D, N);
    CHECK(objectives::loss_and_gradient(obj, view(sp), view(sm), view(u), view(gp), view(gm)) ==
          doctest::Approx(ref).epsilon(1e-14));
    for (auto [s, g] : {std::pair{&sp, &gp}, std::pair{&sm, &gm}})
        for (index_t k = 0; k < s->size(); ++k) {
            const double keep = s->data()[k], h = 1e-6;
            s->data()[k] = keep + h;
            const double fp = objectives::loss(obj, view(sp), view(sm), view(u));
            s->data()[k] = keep - h;
            const double fm = objectives::loss(obj, view(sp), view(sm), view(u));
            s->data()[k] = keep;
            CHECK(std::abs((fp - fm) / (2 * h) - g->data()[k]) <= 1e-7);
        }
}

TEST_CASE_TEMPLATE("objectives/fd_ssm_vr: approaches SSM-VR at O(eps^2) with the same projections", B,
                   HOSM_TEST_BACKENDS) {
    // Oracles, both exact (no finite differences): SSM-VR of an energy MLP (Taylor mode),
    // and SSM-VR of a plain MLP score field s = net(x) with J_s u from the net's jvp.
    // Bias eps^2 [u^T T3[u,u,u] / 6 + s^T T2[u,u] / (2D)] + O(eps^4): log-log slope
    // 2 +- 0.3 over eps = 0.1 .. 0.0125.
    const index_t D = 3, N = 6;
    const std::vector<double> steps{0.1, 0.05, 0.025, 0.0125};
    const matrix<double> x = matrix<double>::Random(D, N);
    matrix<double> u(D, N);
    objectives::draw_projections<B>(projection::sphere, random::stream{8, 2}, view(u));
    {
        energy_mlp<double, B> m(D, {8, 8}, activation::softplus, random::stream{17, 0});
        const double exact = objectives::loss(objectives::ssm_vr<double>(), m, view(x), view(u));
        std::vector<double> err;
        for (double e : steps) err.push_back(objectives::loss(objectives::fd_ssm_vr<double>(e), m, view(x), view(u)) - exact);
        CHECK(std::abs(err.back()) < 1e-3 * (1 + std::abs(exact)));
        CHECK(loglog_slope(steps, err) == doctest::Approx(2.0).epsilon(0.15));
    }
    {
        models::mlp<double, B> net({D, 10, 10, D}, activation::tanh, random::stream{3, 3});
        matrix<double> s(D, N), ju(D, N);
        net.forward(view(x), view(s));
        net.jvp(view(x), view(u), 1, view(ju));
        const double exact = objectives::loss<B>(objectives::ssm_vr<double>(), view(s), view(u), view(ju));
        std::vector<double> err;
        for (double e : steps) {
            const matrix<double> xp = x + e * u, xm = x - e * u;
            matrix<double> sp(D, N), sm(D, N);
            net.forward(view(xp), view(sp));
            net.forward(view(xm), view(sm));
            err.push_back(objectives::loss<B>(objectives::fd_ssm_vr<double>(e), view(sp), view(sm), view(u)) - exact);
        }
        CHECK(std::abs(err.back()) < 1e-3 * (1 + std::abs(exact)));
        CHECK(loglog_slope(steps, err) == doctest::Approx(2.0).epsilon(0.15));
    }
}

TEST_CASE_TEMPLATE("objectives/fd_ssm_vr: parameter gradients (energy MLP and score MLP)", B,
                   HOSM_TEST_BACKENDS) {
    const index_t D = 3, N = 5;
    const matrix<double> x = matrix<double>::Random(D, N);
    matrix<double> u(D, N);
    objectives::draw_projections<B>(projection::rademacher, random::stream{4, 2}, view(u));
    const objectives::fd_ssm_vr<double> obj(0.1);
    // cpp checks every parameter; omp every 5th (same per-sample code; keeps the test fast)
    const std::size_t stride = std::is_same_v<B, backend::cpp> ? 1 : 5;
    {
        energy_mlp<double, B> m(D, {6, 5}, activation::tanh, random::stream{2, 2});
        m.zero_gradients();
        const double l = objectives::loss_and_gradient(obj, m, view(x), view(u));
        CHECK(l == doctest::Approx(objectives::loss(obj, m, view(x), view(u))).epsilon(1e-14));
        check_parameter_gradient(m, [&] { return objectives::loss(obj, m, view(x), view(u)); }, stride);
    }
    {
        models::mlp_score<double, hessian::diagonal, B> ms({.dim = D, .width = 7, .depth = 3}, random::stream{6, 3});
        ms.zero_gradients();
        const double l = objectives::loss_and_gradient(obj, ms, view(x), view(u));
        CHECK(l == doctest::Approx(objectives::loss(obj, ms, view(x), view(u))).epsilon(1e-14));
        check_parameter_gradient(ms, [&] { return objectives::loss(obj, ms, view(x), view(u)); }, stride);
    }
}

TEST_CASE("objectives/fd_ssm_vr: bad input raises hosm::error") {
    CHECK_THROWS_AS(objectives::fd_ssm_vr<double>(0.0), hosm::error);
    CHECK_THROWS_AS(objectives::fd_ssm_vr<double>(-2.0), hosm::error);
    CHECK_THROWS_AS(objectives::fd_ssm_vr<double>(0.1, static_cast<projection>(5)), hosm::error);
    const objectives::fd_ssm_vr<double> obj(0.1);
    matrix<double> s = matrix<double>::Random(3, 4), s5 = matrix<double>::Random(3, 5), g(3, 4), empty(3, 0);
    CHECK_THROWS_AS(objectives::loss(obj, view(s), view(s5), view(s)), hosm::error);
    CHECK_THROWS_AS(objectives::loss(obj, view(empty), view(empty), view(empty)), hosm::error);
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, view(s), view(s), view(s), view(g), view(s5)), hosm::error);
    matrix<double> bad = s;
    bad(2, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(objectives::loss(obj, view(bad), view(s), view(s)), hosm::error);
    CHECK_THROWS_AS(objectives::loss(obj, view(s), view(s), view(bad)), hosm::error);
    energy_mlp<double> m(3, {4});
    CHECK_THROWS_AS(objectives::loss(obj, m, view(s), view(s5)), hosm::error);
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, m, view(bad), view(s)), hosm::error);
    models::mlp_score<double, hessian::diagonal> ms({.dim = 2, .width = 4, .depth = 2});
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, ms, view(s), view(s)), hosm::error);  // 3-d data
}
