#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include <hosm/models/activation.hpp>

using namespace hosm::models;

namespace {

// Naive closed forms in long double, for |x| where they do not overflow.
long double ref_value(activation a, long double x) {
    switch (a) {
        case activation::identity: return x;
        case activation::softplus: return std::log(1.0L + std::exp(x));
        case activation::elu: return x > 0 ? x : std::exp(x) - 1.0L;
        case activation::silu: return x / (1.0L + std::exp(-x));
        case activation::tanh: return std::tanh(x);
    }
    return 0;
}

constexpr activation all[] = {activation::identity, activation::softplus, activation::elu,
                              activation::silu, activation::tanh};

}  // namespace

TEST_CASE("models/activation: values match the closed forms") {
    // relative 1e-15: the stable and the naive formulas are both within a few ulp
    for (activation a : all)
        visit_activation(a, [&](auto tag) {
            using A = decltype(tag);
            for (double x = -20.0; x <= 20.0; x += 0.37) {
                const double r = static_cast<double>(ref_value(a, x));
                CHECK(std::fabs(A::value(x) - r) <= 2e-15 * std::fmax(1.0, std::fabs(r)));
            }
        });
}

TEST_CASE("models/activation: derivatives match central differences") {
    // Central differences with h = 1e-5: truncation h^2 |f'''| / 6 ~ 2e-11, rounding
    // eps |f| / h ~ 2e-11 * |f|; tolerance 1e-9 (relative to max(1, |f'|)).
    // ELU is sampled away from its kink at 0 (f'' jumps there).
    const double h = 1e-5;
    for (activation a : all)
        visit_activation(a, [&](auto tag) {
            using A = decltype(tag);
            for (double x = -6.05; x <= 6.0; x += 0.1) {
                const double d1 = (A::value(x + h) - A::value(x - h)) / (2 * h);
                const double d2 = (A::derivative(x + h) - A::derivative(x - h)) / (2 * h);
                CHECK(std::fabs(A::derivative(x) - d1) <= 1e-9 * std::fmax(1.0, std::fabs(d1)));
                CHECK(std::fabs(A::second_derivative(x) - d2) <= 1e-9 * std::fmax(1.0, std::fabs(d2)));
            }
        });
}

TEST_CASE("models/activation: exact values and limits") {
    using namespace activations;
    CHECK(softplus::value(0.0) == doctest::Approx(std::log(2.0)).epsilon(1e-15));
    CHECK(softplus::derivative(0.0) == 0.5);
    CHECK(softplus::second_derivative(0.0) == 0.25);
    CHECK(silu::value(0.0) == 0.0);
    CHECK(silu::derivative(0.0) == 0.5);
    CHECK(silu::second_derivative(0.0) == 0.5);
    CHECK(tanh::derivative(0.0) == 1.0);
    CHECK(elu::value(0.0) == 0.0);
    CHECK(elu::derivative(0.0) == 1.0);
    CHECK(elu::second_derivative(0.0) == 1.0);  // the left limit, as documented
    CHECK(elu::second_derivative(1e-300) == 0.0);
    CHECK(identity::second_derivative(3.0) == 0.0);
    // no overflow, no NaN far out, in float and double
    for (double x : {-1e4, -800.0, -100.0, 100.0, 800.0, 1e4}) {
        for (activation a : all)
            visit_activation(a, [&](auto tag) {
                using A = decltype(tag);
                const float xf = static_cast<float>(x);
                CHECK(std::isfinite(A::value(x)));
                CHECK(std::isfinite(A::derivative(x)));
                CHECK(std::isfinite(A::second_derivative(x)));
                CHECK(std::isfinite(A::value(xf)));
                CHECK(std::isfinite(A::derivative(xf)));
                CHECK(std::isfinite(A::second_derivative(xf)));
            });
    }
    CHECK(softplus::value(800.0) == 800.0);
    CHECK(softplus::value(-800.0) == 0.0);
    CHECK(softplus::value(-30.0) == doctest::Approx(std::exp(-30.0)).epsilon(1e-12));
    CHECK(softplus::value(-30.0f) > 0.0f);
    CHECK(softplus::derivative(800.0) == 1.0);
    CHECK(softplus::derivative(-800.0) == 0.0);
    CHECK(silu::value(-800.0) == 0.0);
    CHECK(silu::value(800.0) == 800.0);
    CHECK(elu::value(-800.0) == -1.0);
}

TEST_CASE("models/activation: visit_activation and names") {
    CHECK(std::string(name(activation::softplus)) == "softplus");
    CHECK(std::string(name(activation::tanh)) == "tanh");
    CHECK(visit_activation(activation::elu, [](auto tag) { return decltype(tag)::kind; }) ==
          activation::elu);
    CHECK_THROWS_AS(name(static_cast<activation>(42)), hosm::error);
}
