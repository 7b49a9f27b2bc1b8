// Tests of optim::schedule::exponential (hosm/optim/schedule/exponential.hpp).
// Values at known steps: eta_0 gamma^t (gamma = 0.5: exact in double);
// other gammas to 1e-15 relative (one pow in double).
#include <cmath>

#include <doctest/doctest.h>

#include <hosm/optim/schedule/exponential.hpp>

using namespace hosm;

TEST_CASE("optim::schedule::exponential: values at known steps") {
    const optim::schedule::exponential<double> s(0.2, 0.5);
    CHECK(s.base_lr() == 0.2);
    CHECK(s.gamma() == 0.5);
    CHECK(s(0) == 0.2);
    CHECK(s(1) == 0.1);
    CHECK(s(4) == 0.0125);
    const optim::schedule::exponential<double> t(1e-3, 0.99);
    CHECK(t(100) == doctest::Approx(1e-3 * std::pow(0.99, 100)).epsilon(1e-15));
    CHECK(t(100) == doctest::Approx(3.660323412732292e-4).epsilon(1e-14));
    const optim::schedule::exponential<float> u(1.0f, 0.5f);
    CHECK(u(100000) == 0.0f);  // underflows to 0, not NaN
}

TEST_CASE("optim::schedule::exponential: bad arguments") {
    using S = optim::schedule::exponential<double>;
    CHECK_THROWS_WITH_AS(S(-1.0, 0.5), doctest::Contains("'lr'"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 0.0), doctest::Contains("'gamma'"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 1.01), doctest::Contains("'gamma'"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 0.9)(-1), doctest::Contains("'step' = -1"), hosm::error);
}
