// Tests of hosm/diagnostics/mmd.hpp: squared MMD with a Gaussian RBF kernel.
//
// * Sums and normalizations: against plain double loops over rbf_kernel,
//   relative 1e-12 (only the order of summation differs).
// * Median heuristic: exact on hand-made configurations.
// * Statistics (fixed stream seeds), P = N(0, 1), Q = N(delta, 1), h = 1,
//   m = n = 1000, against the closed form
//   MMD^2 = 2 (h^2/(h^2+2))^(1/2) (1 - exp(-delta^2 / (2 (h^2 + 2)))):
//   delta = 0: U has sd ~5e-4 (measured over 40 seeds) -> |U| < 2.5e-3;
//   delta = 1: MMD^2 = 0.1773, U has sd ~0.017 (not degenerate: sd ~ 1/sqrt(m))
//              -> |U - MMD^2| < 0.06 (3.5 sd), and U > 20 x the null bound.
#include <doctest/doctest.h>
#include "support/backends.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <initializer_list>
#include <string>

#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/diagnostics/mmd.hpp>
#include <hosm/random/stream.hpp>

using namespace hosm;
using hosm_test::message_of;
using namespace hosm::diagnostics;

namespace {

matrix<double> normals(index_t D, index_t N, std::uint64_t seed, std::uint32_t id) {
    batch<double> x(D, N);
    random::fill_normal<backend::cpp>(random::stream{seed, id}, x.view());
    return x.to_eigen();
}

/// D x (values / D) matrix, filled column by column.
matrix<double> points(index_t D, std::initializer_list<double> values) {
    matrix<double> m(D, index_t(values.size()) / D);
    index_t i = 0;
    for (double v : values) m.data()[i++] = v;
    return m;
}

}  // namespace

TEST_CASE_TEMPLATE("diagnostics/mmd: U and V are the defined sums", B, HOSM_TEST_BACKENDS) {
    const index_t D = 2, m = 7, n = 5;
    const matrix<double> x = normals(D, m, 1, 3);
    matrix<double> y = normals(D, n, 1, 4);
    y.array() += 0.5;
    const double h = 0.9;
    const rbf_kernel<double> k{h};
    double kxx = 0, kyy = 0, kxy = 0;  // full sums, diagonals included
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < m; ++j) kxx += k(x.col(i).data(), x.col(j).data(), D);
    for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j) kyy += k(y.col(i).data(), y.col(j).data(), D);
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) kxy += k(x.col(i).data(), y.col(j).data(), D);
    batch<double, B> xb(x), yb(y);
    const mmd_estimate e = mmd_squared<B>(xb.view(), yb.view(), h);
    CHECK(e.bandwidth == h);
    CHECK(e.v_statistic == doctest::Approx(kxx / (m * m) + kyy / (n * n) - 2 * kxy / (m * n)).epsilon(1e-12));
    CHECK(e.u_statistic == doctest::Approx((kxx - m) / (m * (m - 1.0)) + (kyy - n) / (n * (n - 1.0)) -
                                           2 * kxy / (m * n))
                               .epsilon(1e-12));
    // k(x, y) closed form at one pair
    const double a[2] = {1.0, 2.0}, b[2] = {0.0, 0.0};
    CHECK(k(a, b, 2) == doctest::Approx(std::exp(-5.0 / (2 * 0.81))).epsilon(1e-14));
}

TEST_CASE_TEMPLATE("diagnostics/mmd: the median heuristic on known configurations", B,
                   HOSM_TEST_BACKENDS) {
    // points 0, 1 | 3, 7 on a line: distances 1 3 7 2 6 4 -> median (3 + 4)/2
    const matrix<double> x = points(1, {0, 1}), y = points(1, {3, 7});
    batch<double, B> xb(x), yb(y);
    CHECK(median_heuristic<B>(xb.view(), yb.view()) == 3.5);
    // 0, 1 | 3, 3: distances 1 3 3 2 2 0 -> sorted 0 1 2 2 3 3 -> median 2
    const matrix<double> y1 = points(1, {3, 3});
    batch<double, B> y1b(y1);
    CHECK(median_heuristic<B>(xb.view(), y1b.view()) == 2.0);
    // max_points = 3 keeps pooled points floor(4 k / 3) = 0, 1, 2, i.e. 0, 1, 3:
    // distances 1 3 2 (odd count) -> median 2; max_points = 2 keeps 0 and 3 -> 3
    CHECK(median_heuristic<B>(xb.view(), yb.view(), 3) == 2.0);
    CHECK(median_heuristic<B>(xb.view(), yb.view(), 2) == 3.0);
    // Euclidean distances in 2-d: (0,0), (3,0) | (0,4), (0,4):
    // distances 3 4 4 5 5 0 -> sorted 0 3 4 4 5 5 -> median 4
    const matrix<double> p = points(2, {0, 0, 3, 0}), q = points(2, {0, 4, 0, 4});
    batch<double, B> pb(p), qb(q);
    CHECK(median_heuristic<B>(pb.view(), qb.view()) == 4.0);
    // the default-bandwidth MMD uses it
    CHECK(mmd_squared<B>(xb.view(), yb.view()).bandwidth == 3.5);
}

TEST_CASE("diagnostics/mmd: ~0 for one law, the closed form for two") {
    using B = backend::cpp;  // statistics once; back ends agree by the exact test above
    const index_t N = 1000;
    const matrix<double> x = normals(1, N, 7, 3), y0 = normals(1, N, 7, 4);
    const double h = 1.0;
    batch<double, B> xb(x), y0b(y0);
    const mmd_estimate same = mmd_squared<B>(xb.view(), y0b.view(), h);
    CHECK(std::abs(same.u_statistic) < 2.5e-3);
    CHECK(same.v_statistic >= 0.0);
    CHECK(same.v_statistic < 5e-3);

    matrix<double> y1 = y0;
    y1.array() += 1.0;
    batch<double, B> y1b(y1);
    const mmd_estimate diff = mmd_squared<B>(xb.view(), y1b.view(), h);
    const double exact = 2 * std::sqrt(h * h / (h * h + 2)) * (1 - std::exp(-1.0 / (2 * (h * h + 2))));
    CHECK(exact == doctest::Approx(0.17727).epsilon(1e-4));
    CHECK(std::abs(diff.u_statistic - exact) < 0.06);
    CHECK(diff.u_statistic > 20 * 2.5e-3);
    // a larger shift gives a larger MMD (common draws)
    y1.array() += 1.0;
    batch<double, B> y2b(y1);
    CHECK(mmd_squared<B>(xb.view(), y2b.view(), h).u_statistic > diff.u_statistic);
    // median-heuristic bandwidth: still clearly separates the laws
    const mmd_estimate med = mmd_squared<B>(xb.view(), y1b.view());
    CHECK(med.bandwidth > 0.5);
    CHECK(med.u_statistic > 20 * std::abs(mmd_squared<B>(xb.view(), y0b.view()).u_statistic));
}

TEST_CASE("diagnostics/mmd: bad input raises hosm::error naming it") {
    const matrix<double> x = normals(2, 5, 4, 3), y = normals(2, 6, 4, 4);
    for (double h : {0.0, -1.0, double(NAN), double(INFINITY)})
        CHECK(message_of([&] { (void)mmd_squared(view(x), view(y), h); })
                  .find("argument 'bandwidth' must be finite and > 0") != std::string::npos);
    const matrix<double> y3 = normals(3, 6, 4, 4);
    CHECK(message_of([&] { (void)mmd_squared(view(x), view(y3), 1.0); })
              .find("dimension mismatch: argument 'y.dim' has size 3, expected 2") != std::string::npos);
    CHECK(message_of([&] { (void)median_heuristic(view(x), view(y3)); })
              .find("'y.dim'") != std::string::npos);
    const matrix<double> y1 = y.leftCols(1);
    CHECK(message_of([&] { (void)mmd_squared(view(x), view(y1), 1.0); })
              .find("'y.count (number of samples n)' = 1 must be >= 2") != std::string::npos);
    CHECK(message_of([&] { (void)median_heuristic(view(x), view(y), 1); })
              .find("'max_points' = 1 must be >= 2") != std::string::npos);
    matrix<double> xn = x;
    xn(0, 4) = INFINITY;
    CHECK(message_of([&] { (void)mmd_squared(view(xn), view(y)); })
              .find("'x' has a non-finite entry inf in sample 4, dimension 0") != std::string::npos);
    const matrix<double> same = matrix<double>::Ones(2, 4);
    CHECK(message_of([&] { (void)median_heuristic(view(same), view(same)); })
              .find("median pairwise distance is 0") != std::string::npos);
}
