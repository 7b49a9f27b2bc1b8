// Tests of noise::schedule (hosm/noise/schedule.hpp), the geometric schedule
// sigma_i = sigma_max (sigma_min / sigma_max)^(i / (L - 1)).
// Endpoints are exact; consecutive ratios equal ratio() to 1e-14 relative
// (pow rounding); the closed form to 1e-15 relative.
#include <doctest/doctest.h>

#include <cmath>

#include <hosm/core/error.hpp>
#include <hosm/noise/schedule.hpp>

using namespace hosm;

TEST_CASE("noise/schedule: endpoints, ratios and closed form") {
    const noise::schedule<double> s{50.0, 0.01, 10};
    CHECK(s.size() == 10);
    CHECK(s[0] == 50.0);
    CHECK(s[9] == 0.01);
    CHECK(s.sigma_max() == 50.0);
    CHECK(s.sigma_min() == 0.01);
    const double r = std::pow(0.01 / 50.0, 1.0 / 9.0);
    CHECK(s.ratio() == doctest::Approx(r).epsilon(1e-15));
    for (index_t i = 0; i + 1 < s.size(); ++i) {
        CAPTURE(i);
        CHECK(s[i + 1] / s[i] == doctest::Approx(s.ratio()).epsilon(1e-14));
        CHECK(s[i + 1] < s[i]);
        CHECK(s[i] == doctest::Approx(50.0 * std::pow(r, double(i))).epsilon(1e-14));
    }
}

TEST_CASE("noise/schedule: L = 1 and equal endpoints") {
    const noise::schedule<float> one{2.0f, 0.5f, 1};
    CHECK(one.size() == 1);
    CHECK(one[0] == 2.0f);
    CHECK(one.sigma_min() == 2.0f);
    CHECK(one.ratio() == 1.0f);
    const noise::schedule<double> flat{0.3, 0.3, 4};
    for (index_t i = 0; i < 4; ++i) CHECK(flat[i] == 0.3);
}

TEST_CASE("noise/schedule: bad input raises hosm::error") {
    CHECK_THROWS_AS((noise::schedule<double>{1.0, 0.0, 5}), hosm::error);
    CHECK_THROWS_AS((noise::schedule<double>{1.0, -0.1, 5}), hosm::error);
    CHECK_THROWS_AS((noise::schedule<double>{0.1, 1.0, 5}), hosm::error);  // max < min
    CHECK_THROWS_AS((noise::schedule<double>{HUGE_VAL, 1.0, 5}), hosm::error);
    CHECK_THROWS_AS((noise::schedule<double>{1.0, 0.1, 0}), hosm::error);
    const noise::schedule<double> s{1.0, 0.1, 3};
    CHECK_THROWS_AS(s[3], hosm::error);
    CHECK_THROWS_AS(s[-1], hosm::error);
}
