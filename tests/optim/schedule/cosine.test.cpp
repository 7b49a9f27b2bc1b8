// Tests of optim::schedule::cosine (hosm/optim/schedule/cosine.hpp).
// Values at known steps of the closed form: warm-up eta_max (t + 1) / W,
// then eta_min + (eta_max - eta_min)(1 + cos(pi x)) / 2 with x = (t - W) /
// (S - W): x = 0, 1/2, 1/4 give eta_max, the midpoint and
// eta_min + (eta_max - eta_min)(2 + sqrt 2)/4. Checked to 1e-15 relative in
// double (one cos and a few roundings).
#include <cmath>
#include <numbers>

#include <doctest/doctest.h>

#include <hosm/optim/schedule/cosine.hpp>

using namespace hosm;

TEST_CASE("optim::schedule::cosine: values at known steps") {
    const optim::schedule::cosine<double> s(0.1, 100);
    CHECK(s.max_lr() == 0.1);
    CHECK(s.min_lr() == 0.0);
    CHECK(s.total_steps() == 100);
    CHECK(s.warmup_steps() == 0);
    CHECK(s(0) == 0.1);
    CHECK(s(50) == doctest::Approx(0.05).epsilon(1e-15));
    CHECK(s(25) == doctest::Approx(0.1 * (2 + std::sqrt(2.0)) / 4).epsilon(1e-15));
    CHECK(s(99) > 0.0);
    CHECK(s(99) == doctest::Approx(0.05 * (1 + std::cos(std::numbers::pi * 0.99))).epsilon(1e-13));
    CHECK(s(100) == 0.0);
    CHECK(s(1000) == 0.0);
    for (int t = 1; t < 100; ++t) CHECK(s(t) < s(t - 1));  // strictly decreasing
}

TEST_CASE("optim::schedule::cosine: warm-up then decay to a floor") {
    const optim::schedule::cosine<double> s(1.0, 110, 0.1, 10);
    CHECK(s(0) == 0.1);   // 1 * 1 / 10
    CHECK(s(4) == 0.5);
    CHECK(s(9) == 1.0);   // end of warm-up
    CHECK(s(10) == 1.0);  // start of decay
    CHECK(s(60) == doctest::Approx(0.55).epsilon(1e-15));
    CHECK(s(110) == 0.1);
    CHECK(s(500) == 0.1);
    const optim::schedule::cosine<float> w(0.5f, 8, 0.0f, 8);  // warm-up only
    CHECK(w(7) == 0.5f);
    CHECK(w(8) == 0.0f);
}

TEST_CASE("optim::schedule::cosine: bad arguments") {
    using S = optim::schedule::cosine<double>;
    CHECK_THROWS_WITH_AS(S(0.0, 10), doctest::Contains("'max_lr'"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 0), doctest::Contains("'total_steps' = 0"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 10, 0.2), doctest::Contains("'min_lr' = 0.2"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 10, -0.1), doctest::Contains("'min_lr'"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 10, 0.0, 11), doctest::Contains("'warmup_steps' = 11"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 10, 0.0, -1), doctest::Contains("'warmup_steps' = -1"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 10)(-2), doctest::Contains("'step' = -2"), hosm::error);
}
