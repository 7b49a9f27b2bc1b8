// Tests of noise::gaussian (hosm/noise/gaussian.hpp): x~ = x + sigma z.
//
// Exact checks: z is bit-for-bit random::fill_normal's output for the same
// stream and first index, and x~ = x + sigma z entry by entry (the kernel
// computes exactly that expression, so equality is exact); results do not
// depend on the back end or on how samples are batched.
#include "support/backends.hpp"

#include <cmath>
#include <string>

#include <hosm/backend/batch.hpp>
#include <hosm/noise/gaussian.hpp>
#include <hosm/random/stream.hpp>

using namespace hosm;

TEST_CASE_TEMPLATE("noise/gaussian: perturb is x + sigma z with fill_normal's z", B,
                   HOSM_TEST_BACKENDS) {
    const noise::gaussian<double> g{0.3};
    CHECK(g.sigma() == 0.3);
    CHECK(g.variance() == doctest::Approx(0.09).epsilon(1e-15));
    const random::stream s{17, 2};
    const index_t D = 5, N = 33;
    matrix<double> xh(D, N);
    for (index_t j = 0; j < N; ++j)
        for (index_t i = 0; i < D; ++i) xh(i, j) = double(i) - 0.1 * double(j);
    const batch<double, B> x(xh);
    batch<double, B> xt(D, N), z(D, N), ref(D, N);
    g.perturb<B>(s, x.view(), xt.view(), z.view(), 40);
    random::fill_normal<B>(s, ref.view(), 40);
    const matrix<double> zh = z.to_eigen();
    CHECK(zh == ref.to_eigen());
    const matrix<double> want = (xh.array() + 0.3 * zh.array()).matrix();
    CHECK(xt.to_eigen() == want);
    // in place: x~ written over x
    batch<double, B> y(xh);
    g.perturb<B>(s, y.view(), y.view(), z.view(), 40);
    CHECK(y.to_eigen() == want);
    // sample index first + j: drawing the last 3 columns alone gives the same numbers
    batch<double, B> x3(matrix<double>(xh.rightCols(3))), xt3(D, 3), z3(D, 3);
    g.perturb<B>(s, x3.view(), xt3.view(), z3.view(), 40 + N - 3);
    CHECK(xt3.to_eigen() == want.rightCols(3));
}

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("noise/gaussian: host overload and float") {
    const noise::gaussian<float> g{2.0f};
    const matrix<float> x = matrix<float>::Ones(3, 4);
    const auto [xt, z] = g.perturb(random::stream{1, 1}, x, 7);
    CHECK(xt == (x.array() + 2.0f * z.array()).matrix());
    matrix<float> ref(3, 4);
    random::fill_normal<backend::cpp>(random::stream{1, 1}, view(ref), 7);
    CHECK(z == ref);
}
#endif

#if !defined(__CUDACC__)  // host-only case
TEST_CASE("noise/gaussian: the noise has the stated variance") {
    // 3 x 20000 draws: the sample variance of x~ - x is sigma^2 within 5
    // standard errors sqrt(2/n) sigma^2.
    const double sigma = 0.7;
    const noise::gaussian<double> g{sigma};
    const matrix<double> x = matrix<double>::Zero(3, 20000);
    const auto [xt, z] = g.perturb(random::stream{3, 0}, x);
    const double v = xt.array().square().mean();
    CHECK(std::abs(v - sigma * sigma) <= 5 * std::sqrt(2.0 / 60000.0) * sigma * sigma);
}
#endif

TEST_CASE_TEMPLATE("noise/gaussian: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    CHECK_THROWS_AS(noise::gaussian<double>{0.0}, hosm::error);
    CHECK_THROWS_AS(noise::gaussian<double>{-0.5}, hosm::error);
    CHECK_THROWS_AS(noise::gaussian<double>{std::nan("")}, hosm::error);
    CHECK_THROWS_AS(noise::gaussian<float>{HUGE_VALF}, hosm::error);
    try {
        noise::gaussian<double>{-0.5};
    } catch (const hosm::error& e) {
        CHECK(std::string(e.what()).find("argument 'sigma'") != std::string::npos);
    }
    const noise::gaussian<double> g{1.0};
    batch<double, B> x(3, 4), xt(3, 4), z(3, 4), bad(2, 4), badn(3, 5);
    const random::stream s{};
    CHECK_THROWS_AS(g.perturb<B>(s, x.view(), bad.view(), z.view()), hosm::error);
    CHECK_THROWS_AS(g.perturb<B>(s, x.view(), xt.view(), badn.view()), hosm::error);
    matrix<double> xn = matrix<double>::Zero(3, 4);
    xn(2, 3) = std::nan("");
    const batch<double, B> xnb(xn);
    CHECK_THROWS_AS(g.perturb<B>(s, xnb.view(), xt.view(), z.view()), hosm::error);
}
