// Tests of hosm/fd/stencil.hpp: the stencil value type and combine().
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <hosm/fd/stencil.hpp>
#include <string>
#include <type_traits>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;

// Kernels receive stencils by value, on the host and on a device.
static_assert(std::is_trivially_copyable_v<fd::stencil<double, 3>>);
static_assert(std::is_trivially_copyable_v<fd::stencil<float, 1>>);

TEST_CASE("fd/stencil: central stencils carry the classic weights and centre weights") {
    // 5-point second derivative: (-f(2h) + 16 f(h) - 30 f(0) + 16 f(-h) - f(-2h)) / (12 h^2)
    const auto s2 = fd::stencil<double, 2>::central(2);
    CHECK(s2.order() == 2);
    CHECK(s2.accuracy() == 4);
    CHECK(s2.node(0) == 1.0);
    CHECK(s2.node(1) == 2.0);
    CHECK(s2.weight(0) == doctest::Approx(16.0 / 12).epsilon(1e-15));
    CHECK(s2.weight(1) == doctest::Approx(-1.0 / 12).epsilon(1e-15));
    CHECK(s2.center_weight() == doctest::Approx(-30.0 / 12).epsilon(1e-15));
    CHECK(s2.uses_center());
    // 7-point: centre -490/180
    CHECK(fd::stencil<double, 3>::central(2).center_weight() ==
          doctest::Approx(-490.0 / 180).epsilon(1e-15));
    // fourth derivative, 5 points: (f(2h) - 4 f(h) + 6 f(0) - 4 f(-h) + f(-2h)) / h^4
    const auto s4 = fd::stencil<double, 2>::central(4);
    CHECK(s4.accuracy() == 2);
    CHECK(s4.weight(0) == doctest::Approx(-4.0).epsilon(1e-15));
    CHECK(s4.weight(1) == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(s4.center_weight() == doctest::Approx(6.0).epsilon(1e-15));
    // odd orders do not use g(0)
    const auto s1 = fd::stencil<double, 1>::central(1);
    CHECK(s1.weight(0) == 0.5);
    CHECK(s1.center_weight() == 0.0);
    CHECK_FALSE(s1.uses_center());
}

TEST_CASE("fd/stencil: arbitrary nodes match fd::symmetric_weights rounded once") {
    const std::array<double, 3> nodes = {0.5, 1.25, 3.0};
    const fd::stencil<double, 3> s(3, nodes);
    const auto w = fd::symmetric_weights(3, nodes);
    for (int k = 0; k < 3; ++k) {
        CHECK(s.node(k) == nodes[k]);
        CHECK(s.weight(k) == static_cast<double>(w[k]));
    }
    CHECK(s.accuracy() == 4);
    const fd::stencil<float, 2> sf(2, {1.0f, 3.0f});
    CHECK(sf.weight(0) == static_cast<float>(fd::symmetric_weights(2, {1.0L, 3.0L})[0]));
}

TEST_CASE("fd/stencil: combine is exact on polynomials of degree <= order + accuracy - 1") {
    // g(t) = sum_n c_n t^n with degree T + p - 1: g^(T)(0) = T! c_T. Values are
    // O(1) and eps = 0.5, so rounding stays below 1e-12 relative here.
    auto check = [](auto s) {
        const int T = s.order(), deg = T + s.accuracy() - 1;
        auto g = [&](double t) {
            double v = 0, p = 1;
            for (int n = 0; n <= deg; ++n, p *= t) v += (0.3 + 0.1 * n) * (n % 3 ? 1 : -1) * p;
            return v;
        };
        const double eps = 0.5;
        constexpr int K = decltype(s)::size;
        double fp[K], fm[K];
        for (int k = 0; k < K; ++k) {
            fp[k] = g(s.node(k) * eps);
            fm[k] = g(-s.node(k) * eps);
        }
        double fact = 1;
        for (int t = 2; t <= T; ++t) fact *= t;
        const double want = fact * (0.3 + 0.1 * T) * (T % 3 ? 1 : -1);
        CAPTURE(T);
        CAPTURE(K);
        CHECK(s.combine(g(0.0), fp, fm, eps) == doctest::Approx(want).epsilon(1e-12));
        // the (2K+1)-tap form gives the same number
        double taps = s.center_weight() * g(0.0);
        for (int k = 0; k < K; ++k) taps += s.weight(k) * (fp[k] + (T % 2 ? -1 : 1) * fm[k]);
        CHECK(taps / std::pow(eps, T) == doctest::Approx(want).epsilon(1e-12));
    };
    for (int T = 1; T <= 2; ++T) check(fd::stencil<double, 1>::central(T));
    for (int T = 1; T <= 4; ++T) check(fd::stencil<double, 2>::central(T));
    for (int T = 1; T <= 6; ++T) check(fd::stencil<double, 3>(T, {0.4, 1.0, 1.7}));
}

TEST_CASE("fd/stencil: bad inputs raise hosm::error naming the argument") {
    CHECK(message_of([] { fd::stencil<double, 2>::central(5); }) ==
          "hosm: fd::stencil: argument 'order' = 5 needs at least 3 node pairs, the stencil has K "
          "= 2");
    CHECK(message_of([] { fd::stencil<double, 1>::central(0); }) ==
          "hosm: fd::stencil: argument 'order' = 0 must be >= 1");
    CHECK(message_of([] {
              fd::stencil<double, 2>(1, {1.0, 1.0});
          }).find("argument 'nodes'") != std::string::npos);
    CHECK(message_of([] {
              fd::stencil<double, 2>(1, {1.0, -2.0});
          }).find("argument 'nodes' entry 1") != std::string::npos);
}
