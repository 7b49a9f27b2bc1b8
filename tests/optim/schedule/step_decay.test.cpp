// Tests of optim::schedule::step_decay (hosm/optim/schedule/step_decay.hpp).
// Values at known steps: eta_0 gamma^floor(t / P); gamma = 0.5 makes every
// value a power of two times eta_0, exact in double.
#include <doctest/doctest.h>

#include <hosm/optim/schedule/step_decay.hpp>

using namespace hosm;

TEST_CASE("optim::schedule::step_decay: values at known steps") {
    const optim::schedule::step_decay<double> s(0.1, 10, 0.5);
    CHECK(s.base_lr() == 0.1);
    CHECK(s.period() == 10);
    CHECK(s.gamma() == 0.5);
    CHECK(s(0) == 0.1);
    CHECK(s(9) == 0.1);
    CHECK(s(10) == 0.05);
    CHECK(s(19) == 0.05);
    CHECK(s(20) == 0.025);
    CHECK(s(35) == 0.0125);
    const optim::schedule::step_decay<float> f(1.0f, 3, 0.1f);
    CHECK(f(6) == doctest::Approx(0.01).epsilon(1e-6));
    const optim::schedule::step_decay<double> one(0.3, 1, 1.0);
    CHECK(one(12345) == 0.3);
}

TEST_CASE("optim::schedule::step_decay: bad arguments") {
    using S = optim::schedule::step_decay<double>;
    CHECK_THROWS_WITH_AS(S(0.0, 10, 0.5), doctest::Contains("'lr'"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 0, 0.5), doctest::Contains("'period' = 0"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 10, 0.0), doctest::Contains("'gamma' must be in (0, 1], got 0"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 10, 1.5), doctest::Contains("'gamma'"), hosm::error);
    CHECK_THROWS_WITH_AS(S(0.1, 10, 0.5)(-3), doctest::Contains("'step' = -3"), hosm::error);
}
