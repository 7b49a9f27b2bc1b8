// Tests of noise::multimeasurement (hosm/noise/multimeasurement.hpp):
// y_m = x + sigma eps_m, m = 1..M, stored (M D) x N; sigma_eff = sigma / sqrt(M).
//
// Exact checks: the layout (measurement m of sample j in rows m*D .. m*D+D-1),
// eps = random::fill_normal's numbers, y = x + sigma eps entry by entry, the
// mean of the measurements; sigma_eff = sigma / sqrt(M) to 1 ulp. Statistical:
// ybar - x has variance sigma_eff^2 (5 standard errors).
#include "support/backends.hpp"

#include <cmath>

#include <hosm/backend/batch.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/random/stream.hpp>

using namespace hosm;

TEST_CASE_TEMPLATE("noise/multimeasurement: layout, noise and mean", B, HOSM_TEST_BACKENDS) {
    const double sigma = 0.5;
    const index_t D = 3, M = 4, N = 9;
    const noise::multimeasurement<double> mm{sigma, M};
    CHECK(mm.sigma() == sigma);
    CHECK(mm.measurements() == M);
    CHECK(mm.variance() == 0.25);
    CHECK(mm.sigma_eff() == doctest::Approx(0.25).epsilon(1e-16));
    matrix<double> xh(D, N);
    for (index_t j = 0; j < N; ++j)
        for (index_t i = 0; i < D; ++i) xh(i, j) = 0.5 * double(i) + double(j);
    const batch<double, B> x(xh);
    batch<double, B> y(M * D, N), eps(M * D, N), ref(M * D, N), ybar(D, N);
    const random::stream s{4, 9};
    mm.perturb<B>(s, x.view(), y.view(), eps.view(), 5);
    random::fill_normal<B>(s, ref.view(), 5);
    const matrix<double> e = eps.to_eigen(), yh = y.to_eigen();
    CHECK(e == ref.to_eigen());
    for (index_t j = 0; j < N; ++j)
        for (index_t m = 0; m < M; ++m)
            for (index_t i = 0; i < D; ++i)
                REQUIRE(yh(m * D + i, j) == xh(i, j) + sigma * e(m * D + i, j));
    mm.mean<B>(y.view(), ybar.view());
    const matrix<double> yb = ybar.to_eigen();
    for (index_t j = 0; j < N; ++j)
        for (index_t i = 0; i < D; ++i) {
            double t = 0;
            for (index_t m = 0; m < M; ++m) t += yh(m * D + i, j);
            CHECK(yb(i, j) == doctest::Approx(t / double(M)).epsilon(1e-15));
        }
    CHECK(mm.mean(yh) == yb);
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("noise/multimeasurement: sigma_eff is the noise level of the mean") {
    const double sigma = 1.2;
    const index_t M = 9;
    const noise::multimeasurement<double> mm{sigma, M};
    CHECK(mm.sigma_eff() == doctest::Approx(0.4).epsilon(1e-15));
    const matrix<double> x = matrix<double>::Zero(2, 20000);
    const auto [y, eps] = mm.perturb(random::stream{2, 2}, x);
    CHECK(y.rows() == 18);
    const matrix<double> r = mm.mean(y);  // = ybar - x
    const double v = r.array().square().mean();
    const double se2 = mm.sigma_eff() * mm.sigma_eff();
    CHECK(std::abs(v - se2) <= 5 * std::sqrt(2.0 / 40000.0) * se2);
    // M = 1 is the single-measurement model
    const noise::multimeasurement<double> one{sigma, 1};
    CHECK(one.sigma_eff() == sigma);
}
#endif

TEST_CASE_TEMPLATE("noise/multimeasurement: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    CHECK_THROWS_AS((noise::multimeasurement<double>{0.0, 2}), hosm::error);
    CHECK_THROWS_AS((noise::multimeasurement<double>{-1.0, 2}), hosm::error);
    CHECK_THROWS_AS((noise::multimeasurement<double>{1.0, 0}), hosm::error);
    CHECK_THROWS_AS((noise::multimeasurement<double>{1.0, -3}), hosm::error);
    const noise::multimeasurement<double> mm{1.0, 3};
    batch<double, B> x(2, 4), y(6, 4), eps(6, 4), y5(5, 4), ybar(2, 4), ybar3(2, 3);
    const random::stream s{};
    CHECK_THROWS_AS(mm.perturb<B>(s, x.view(), y5.view(), eps.view()), hosm::error);
    CHECK_THROWS_AS(mm.perturb<B>(s, x.view(), y.view(), y5.view()), hosm::error);
    CHECK_THROWS_AS(mm.mean<B>(y5.view(), ybar.view()), hosm::error);
    CHECK_THROWS_AS(mm.mean<B>(y.view(), ybar3.view()), hosm::error);
    CHECK_THROWS_AS(mm.mean(matrix<double>::Zero(5, 2)), hosm::error);
    matrix<double> xn = matrix<double>::Zero(2, 4);
    xn(0, 1) = HUGE_VAL;
    const batch<double, B> xnb(xn);
    CHECK_THROWS_AS(mm.perturb<B>(s, xnb.view(), y.view(), eps.view()), hosm::error);
}
