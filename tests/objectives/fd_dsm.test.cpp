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
#include <hosm/models/energy_mlp.hpp>
#include <hosm/objectives/fd_dsm.hpp>
#include <hosm/objectives/ssm.hpp>

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

/// The sliced DSM with the same projections: (1/N) sum_j (u_j^T (s(x~_j) + z_j / sigma))^2,
/// s from the model's exact backprop score.
template <class M>
double sliced_dsm(const M& m, const matrix<double>& xt, const matrix<double>& z, const matrix<double>& u,
                  double sigma) {
    matrix<double> s(xt.rows(), xt.cols());
    m.score(view(xt), view(s));
    const matrix<double> r = s + z / sigma;
    return (u.array() * r.array()).colwise().sum().square().mean();
}

}  // namespace

TEST_CASE("objectives/fd_dsm: loss and gradient from energies, Eq. (10)") {
    // Eq. (10) written with log p = -E, exact to 1e-14; dL/de against central differences
    // (quadratic in e: rounding only, ~1e-16 * 1e2 / 1e-6; tolerance 1e-7).
    const index_t D = 3, N = 4;
    const double sigma = 0.5, eps = 0.2;
    matrix<double> ep = matrix<double>::Random(1, N), em = matrix<double>::Random(1, N);
    const matrix<double> z = matrix<double>::Random(D, N);
    matrix<double> u(D, N);
    objectives::draw_projections(projection::sphere, random::stream{3, 0}, view(u));
    double ref = 0;
    for (index_t j = 0; j < N; ++j) {
        const vector<double> v = eps * u.col(j), diff = sigma * z.col(j);  // x~ - x
        const double b = -ep(j) + em(j) + 2 * v.dot(diff) / (sigma * sigma);
        ref += b * b / (4 * eps * eps) / N;
    }
    const objectives::fd_dsm<double> obj(sigma, eps, projection::sphere);
    CHECK(obj.sigma() == sigma);
    CHECK(obj.eps() == eps);
    CHECK(obj.kind() == projection::sphere);
    CHECK(objectives::loss(obj, view(ep), view(em), view(z), view(u)) == doctest::Approx(ref).epsilon(1e-14));
    matrix<double> gp(1, N), gm(1, N);
    CHECK(objectives::loss_and_gradient(obj, view(ep), view(em), view(z), view(u), view(gp), view(gm)) ==
          doctest::Approx(ref).epsilon(1e-14));
    for (auto [e, g] : {std::pair{&ep, &gp}, std::pair{&em, &gm}})
        for (index_t j = 0; j < N; ++j) {
            const double keep = (*e)(j), h = 1e-6;
            (*e)(j) = keep + h;
            const double fp = objectives::loss(obj, view(ep), view(em), view(z), view(u));
            (*e)(j) = keep - h;
            const double fm = objectives::loss(obj, view(ep), view(em), view(z), view(u));
            (*e)(j) = keep;
            CHECK(std::abs((fp - fm) / (2 * h) - (*g)(j)) <= 1e-7);
        }
}

TEST_CASE_TEMPLATE("objectives/fd_dsm: approaches the sliced DSM at O(eps^2)", B, HOSM_TEST_BACKENDS) {
    // Oracle: (u^T (s(x~) + z / sigma))^2 with the model's exact score. Bias
    // -(eps^2/3) a E3 + O(eps^4): log-log slope 2 +- 0.3 over eps = 0.1 .. 0.0125.
    const index_t D = 3, N = 6;
    const double sigma = 0.3;
    for (projection kind : {projection::rademacher, projection::gaussian}) {
        CAPTURE(std::string(objectives::name(kind)));
        energy_mlp<double, B> m(D, {8, 8}, activation::softplus, random::stream{14, 0});
        const matrix<double> xt = matrix<double>::Random(D, N), z = matrix<double>::Random(D, N);
        matrix<double> u(D, N);
        objectives::draw_projections<B>(kind, random::stream{2, 5}, view(u));
        const double exact = sliced_dsm(m, xt, z, u, sigma);
        std::vector<double> eps, err;
        for (double e : {0.1, 0.05, 0.025, 0.0125}) {
            eps.push_back(e);
            err.push_back(objectives::loss(objectives::fd_dsm<double>(sigma, e, kind), m, view(xt), view(z), view(u)) -
                          exact);
        }
        CHECK(std::abs(err.back()) < 1e-3 * exact);
        CHECK(loglog_slope(eps, err) == doctest::Approx(2.0).epsilon(0.15));
    }
}

TEST_CASE("objectives/fd_dsm: the projection average is seed 002's DSM (Eq. 2, with 1/d)") {
    // For fixed (x~, z): E_u (u^T a)^2 = |a|^2 / D, a = s(x~) + z / sigma. With x~ and z
    // repeated over N = 20000 projections and a small eps (bias ~1e-6), the FD-DSM mean
    // matches |a|^2 / D within 5 standard errors.
    const index_t D = 4, N = 20000;
    const double sigma = 0.4;
    energy_mlp<double> m(D, {8}, activation::tanh, random::stream{5, 0});
    const vector<double> x0 = vector<double>::LinSpaced(D, -0.3, 0.6), z0 = vector<double>::LinSpaced(D, 1.0, -1.0);
    const matrix<double> xt = x0.replicate(1, N), z = z0.replicate(1, N);
    matrix<double> u(D, N), s(D, 1);
    objectives::draw_projections(projection::rademacher, random::stream{6, 6}, view(u));
    const matrix<double> x1 = x0;
    m.score(view(x1), view(s));
    const vector<double> a = s.col(0) + z0 / sigma;
    const double l = objectives::loss(objectives::fd_dsm<double>(sigma, 1e-3), m, view(xt), view(z), view(u));
    const vector<double> per = (u.transpose() * a).array().square();
    const double se = std::sqrt((per.array() - per.mean()).square().sum() / (N - 1) / N);
    CHECK(std::abs(l - a.squaredNorm() / D) < 5 * se + 1e-5);
}

TEST_CASE_TEMPLATE("objectives/fd_dsm: parameter gradient of an energy MLP", B, HOSM_TEST_BACKENDS) {
    // central differences in theta, h = 1e-5: truncation ~1e-11; rounding ~1e-16 |E| / eps^2
    // / h ~ 1e-9 at eps = 0.1. Tolerance 1e-6 relative to max(|g_k|, 0.01 max|g|) + 1e-8.
    const index_t D = 3, N = 5;
    energy_mlp<double, B> m(D, {6, 6}, activation::silu, random::stream{9, 9});
    const matrix<double> xt = matrix<double>::Random(D, N), z = matrix<double>::Random(D, N);
    matrix<double> u(D, N);
    objectives::draw_projections<B>(projection::rademacher, random::stream{3, 1}, view(u));
    const objectives::fd_dsm<double> obj(0.5, 0.1);
    m.zero_gradients();
    const double l = objectives::loss_and_gradient(obj, m, view(xt), view(z), view(u));
    CHECK(l == doctest::Approx(objectives::loss(obj, m, view(xt), view(z), view(u))).epsilon(1e-14));
    double* p = thrust::raw_pointer_cast(m.parameters().data());
    const auto g = m.gradients();
    double gmax = 0;
    for (double v : g) gmax = std::max(gmax, std::abs(v));
    REQUIRE(gmax > 0);
    // cpp checks every parameter; omp every 5th (same per-sample code; keeps the test fast)
    const std::size_t stride = std::is_same_v<B, backend::cpp> ? 1 : 5;
    for (std::size_t k = 0; k < g.size(); k += stride) {
        const double keep = p[k], h = 1e-5;
        p[k] = keep + h;
        const double fp = objectives::loss(obj, m, view(xt), view(z), view(u));
        p[k] = keep - h;
        const double fm = objectives::loss(obj, m, view(xt), view(z), view(u));
        p[k] = keep;
        CAPTURE(k);
        CHECK(std::abs((fp - fm) / (2 * h) - g[k]) <= 1e-6 * std::max(std::abs(g[k]), 1e-2 * gmax) + 1e-8);
    }
}

TEST_CASE("objectives/fd_dsm: bad input raises hosm::error") {
    CHECK_THROWS_AS(objectives::fd_dsm<double>(0.0, 0.1), hosm::error);
    CHECK_THROWS_AS(objectives::fd_dsm<double>(0.1, 0.0), hosm::error);
    CHECK_THROWS_AS(objectives::fd_dsm<double>(0.1, -1.0), hosm::error);
    CHECK_THROWS_AS(objectives::fd_dsm<double>(std::numeric_limits<double>::quiet_NaN(), 0.1), hosm::error);
    const objectives::fd_dsm<double> obj(0.5, 0.1);
    matrix<double> e = matrix<double>::Random(1, 3), e2 = matrix<double>::Random(1, 2),
                   z = matrix<double>::Random(2, 3), u = matrix<double>::Random(2, 3), u4 = matrix<double>::Random(2, 4);
    CHECK_THROWS_AS(objectives::loss(obj, view(e), view(e2), view(z), view(u)), hosm::error);
    CHECK_THROWS_AS(objectives::loss(obj, view(e), view(e), view(z), view(u4)), hosm::error);
    matrix<double> zn = z;
    zn(1, 1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(objectives::loss(obj, view(e), view(e), view(zn), view(u)), hosm::error);
    energy_mlp<double> m(2, {4});
    CHECK_NOTHROW(objectives::loss(obj, m, view(z), view(z), view(u)));
    matrix<double> x3 = matrix<double>::Random(3, 3);
    CHECK_THROWS_AS(objectives::loss(obj, m, view(x3), view(z), view(u)), hosm::error);
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, m, view(z), view(zn), view(u)), hosm::error);
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, m, view(zn), view(z), view(u)), hosm::error);
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, m, view(z), view(z), view(zn)), hosm::error);
}
