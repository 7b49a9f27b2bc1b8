// Tests of optim::schedule::constant (hosm/optim/schedule/constant.hpp): the
// rate is returned exactly at every step.
#include <doctest/doctest.h>

#include <hosm/optim/schedule/constant.hpp>

using namespace hosm;

TEST_CASE("optim::schedule::constant: same rate at every step") {
    const optim::schedule::constant<float> s(0.01f);
    CHECK(s.base_lr() == 0.01f);
    CHECK(s(0) == 0.01f);
    CHECK(s(1) == 0.01f);
    CHECK(s(1000000) == 0.01f);
    CHECK_THROWS_WITH_AS(s(-1), doctest::Contains("'step' = -1"), hosm::error);
    CHECK_THROWS_WITH_AS(optim::schedule::constant<float>(0.0f), doctest::Contains("'lr'"), hosm::error);
    CHECK_THROWS_WITH_AS(optim::schedule::constant<double>(-2.0), doctest::Contains("got -2"), hosm::error);
}
