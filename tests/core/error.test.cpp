#include <doctest/doctest.h>

#include <cmath>
#include <hosm/core/checks.hpp>
#include <hosm/core/error.hpp>
#include <limits>
#include <string>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;

TEST_CASE("core/error: hosm::error is a std::invalid_argument with the message") {
    const std::string m = message_of([] { detail::fail("demo", "x = ", 3); });
    CHECK(m == "hosm: demo: x = 3");
    CHECK_THROWS_AS(detail::fail("demo", "x"), std::invalid_argument);
}

TEST_CASE("core/checks: messages name the function, the argument and the value") {
    CHECK(message_of([] { detail::check_positive("noise::gaussian", "sigma", -0.5); }) ==
          "hosm: noise::gaussian: argument 'sigma' must be finite and > 0, got -0.5");
    CHECK(message_of([] { detail::check_positive("f", "sigma", 0.0); }).find("got 0") !=
          std::string::npos);
    CHECK_THROWS_AS(detail::check_positive("f", "sigma", std::nan("")), hosm::error);
    CHECK_THROWS_AS(detail::check_positive("f", "sigma", std::numeric_limits<double>::infinity()),
                    hosm::error);
    CHECK_NOTHROW(detail::check_positive("f", "sigma", 1e-300));
    CHECK_THROWS_AS(detail::check_nonnegative("f", "gamma", -1e-9), hosm::error);
    CHECK_NOTHROW(detail::check_nonnegative("f", "gamma", 0.0));
    CHECK_THROWS_AS(detail::check_finite("f", "x", std::nan("")), hosm::error);
    CHECK(message_of([] { detail::check_size("f", "x", 3, 4); }) ==
          "hosm: f: dimension mismatch: argument 'x' has size 3, expected 4");
    CHECK(message_of([] { detail::check_at_least("f", "dim", 0, 1); }) ==
          "hosm: f: argument 'dim' = 0 must be >= 1");
    const double data[3] = {1.0, std::numeric_limits<double>::infinity(), 2.0};
    CHECK(message_of([&] { detail::check_all_finite("f", "x", data, 3); }).find("flat index 1") !=
          std::string::npos);
    CHECK_NOTHROW(detail::check_all_finite("f", "x", data, 1));
}
