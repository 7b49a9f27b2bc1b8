// Tests of optim::global_norm, clip_by_norm, clip_by_value (hosm/optim/clip.hpp).
//
// Oracles: norms of hand-picked vectors (3-4-12 gives 13 exactly) and a long
// double sum of squares. Tolerances: the norm is summed in double for float
// and double T, so it is checked to 4 eps_T relative (float: rounding of the
// result only; double: ~n eps_double reduction error, n <= 1e4, far below
// 1e-12). After clipping, the direction is checked entrywise to 4 eps_T
// relative and the new norm to 8 eps_T relative. Back ends sum in different
// orders: their norms agree to 1e-12 relative (double), bitwise after
// rounding to float in practice, but only the tolerance is asserted.
#include "support/backends.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <thrust/host_vector.h>

#include <hosm/optim/clip.hpp>

using namespace hosm;

TEST_CASE_TEMPLATE("optim::global_norm: exact small cases and a long vector", B, HOSM_TEST_BACKENDS) {
    std::vector<float> g = {3.0f, -4.0f, 12.0f};
    CHECK(optim::global_norm<B>(g.data(), 3) == 13.0f);
    const index_t n = 10000;
    std::mt19937 gen(9);
    std::normal_distribution<double> nd;
    std::vector<double> x(n);
    long double s = 0;
    for (auto& v : x) v = nd(gen), s += (long double)v * v;
    const double got = optim::global_norm<B>(x.data(), n);
    CHECK(std::fabs(got - std::sqrt((double)s)) <= 1e-12 * std::sqrt((double)s));
    // float squares summed in double: no overflow at 1e30
    std::vector<float> big = {1e30f, 1e30f};
    CHECK(optim::global_norm<B>(big.data(), 2) == doctest::Approx(std::sqrt(2.0) * 1e30).epsilon(1e-7));
    // double squares that overflow are rescaled
    std::vector<double> huge = {1e300, -1e300, 1e299};
    const double hn = optim::global_norm<B>(huge.data(), 3);
    CHECK(std::isfinite(hn));
    CHECK(hn == doctest::Approx(std::sqrt(2.01) * 1e300).epsilon(1e-14));
}

TEST_CASE_TEMPLATE("optim::clip_by_norm: keeps direction, sets the norm, returns the old norm", B,
                   HOSM_TEST_BACKENDS) {
    auto run = [&]<class T>(T) {
        const double e = std::numeric_limits<T>::epsilon();
        const index_t n = 1001;
        std::mt19937 gen(4);
        std::normal_distribution<double> nd;
        thrust::host_vector<T> h(n);
        for (auto& v : h) v = T(nd(gen));
        typename B::template vector<T> g(h);
        const double before = optim::global_norm<B>(thrust::raw_pointer_cast(g.data()), n);
        const T c = T(2.5);
        const T ret = optim::clip_by_norm<B>(thrust::raw_pointer_cast(g.data()), n, c);
        CHECK(std::fabs(ret - before) <= 4 * e * before);
        const double scale = double(c) / double(ret);
        bool dir = true;
        for (index_t i = 0; i < n; ++i) dir = dir && std::fabs(double(g[i]) - scale * double(h[i])) <= 4 * e * std::fabs(double(h[i])) + 1e-300;
        CHECK(dir);
        const double after = optim::global_norm<B>(thrust::raw_pointer_cast(g.data()), n);
        CHECK(std::fabs(after - double(c)) <= 8 * e * double(c));
        // below the threshold: untouched, norm returned
        thrust::host_vector<T> before_h = g;
        const T ret2 = optim::clip_by_norm<B>(thrust::raw_pointer_cast(g.data()), n, T(100));
        CHECK(std::fabs(ret2 - after) <= 4 * e * after);
        bool same = true;
        for (index_t i = 0; i < n; ++i) same = same && g[i] == before_h[i];
        CHECK(same);
    };
    run(float{});
    run(double{});
}

TEST_CASE_TEMPLATE("optim::clip_by_norm: a non-finite norm is returned and nothing changes", B,
                   HOSM_TEST_BACKENDS) {
    std::vector<double> g = {1.0, std::nan(""), 3.0};
    const auto before = g;
    CHECK(std::isnan(optim::clip_by_norm<B>(g.data(), 3, 1.0)));
    CHECK(g[0] == before[0]);
    CHECK(g[2] == before[2]);
    std::vector<double> h = {1.0, -std::numeric_limits<double>::infinity(), 3.0};
    const double r = optim::clip_by_norm<B>(h.data(), 3, 1.0);
    CHECK(std::isinf(r));
    CHECK(h[0] == 1.0);
    CHECK(std::isinf(h[1]));
    CHECK(h[2] == 3.0);
    std::vector<float> f = {std::numeric_limits<float>::infinity(), 0.0f};
    CHECK(std::isinf(optim::clip_by_norm<B>(f.data(), 2, 1.0f)));
    CHECK(std::isinf(f[0]));
}

TEST_CASE_TEMPLATE("optim::clip_by_value: clamps finite entries, reports non-finite ones", B,
                   HOSM_TEST_BACKENDS) {
    std::vector<float> g = {0.5f, -3.0f, 2.0f, -0.25f, 1.0f};
    CHECK(optim::clip_by_value<B>(g.data(), 5, 1.0f) == 0);
    CHECK(g == std::vector<float>{0.5f, -1.0f, 1.0f, -0.25f, 1.0f});
    std::vector<double> h = {5.0, std::nan(""), -std::numeric_limits<double>::infinity(), -7.0};
    CHECK(optim::clip_by_value<B>(h.data(), 4, 2.0) == 2);
    CHECK(h[0] == 2.0);
    CHECK(std::isnan(h[1]));
    CHECK(std::isinf(h[2]));
    CHECK(h[3] == -2.0);
}

TEST_CASE("optim::clip: bad arguments raise hosm::error naming them") {
    std::vector<double> g(3, 1.0);
    CHECK_THROWS_WITH_AS(optim::clip_by_norm<backend::cpp>(g.data(), 3, 0.0), doctest::Contains("'max_norm'"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(optim::clip_by_norm<backend::cpp>(g.data(), 3, std::nan("")),
                         doctest::Contains("'max_norm'"), hosm::error);
    CHECK_THROWS_WITH_AS(optim::clip_by_value<backend::cpp>(g.data(), 3, -1.0), doctest::Contains("'limit'"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(optim::clip_by_norm<backend::cpp>(g.data(), 0, 1.0), doctest::Contains("'n' = 0"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(optim::global_norm<backend::cpp>(static_cast<const double*>(nullptr), 3),
                         doctest::Contains("'g'"), hosm::error);
}
