// Tests of the 2-d toys (hosm/targets/toys.hpp): their documented parameters
// (exact), their symmetries (exact up to rounding, 1e-14), and their scores
// against finite differences (fd_support.hpp: 1e-6 of the magnitude for s1
// and s2; low-rank and diagonal forms equal the full s2 to 1e-12).
#include "support/backends.hpp"
#include "targets/fd_support.hpp"

#include <cmath>
#include <numbers>

#include <hosm/random/stream.hpp>
#include <hosm/targets/toys.hpp>

using namespace hosm;
using namespace target_test;

TEST_CASE_TEMPLATE("targets/toys: two_mode_gaussian", B, HOSM_TEST_BACKENDS) {
    const auto p = targets::two_mode_gaussian<double, B>();
    CHECK(p.dim() == 2);
    CHECK(p.components() == 2);
    CHECK(p.weights()(0) == 0.5);
    CHECK(p.means()(0, 0) == -2.5);
    CHECK(p.means()(1, 1) == 2.5);
    CHECK(p.covariances()[1] == md::Identity(2, 2));
    // symmetric under x -> -x: log p even, s1 odd, s1(0) = 0
    md X(2, 3);
    X << 0.3, -1.0, 2.5, 1.2, 0.4, 2.5;
    CHECK(close(p.log_density(X), p.log_density(md(-X)), 1e-14, 10.0));
    CHECK(close(p.score(X), md(-p.score(md(-X))), 1e-14, 10.0));
    CHECK(p.score(md(md::Zero(2, 1))).cwiseAbs().maxCoeff() <= 1e-15);
    check_derivatives(p, X);
    CHECK_THROWS_AS(targets::two_mode_gaussian<double>(1.0, 0.0), hosm::error);
    const auto q = targets::two_mode_gaussian<float, B>(1.0f, 0.5f);
    CHECK(q.covariances()[0](0, 0) == 0.25f);
}

TEST_CASE_TEMPLATE("targets/toys: ring_of_gaussians", B, HOSM_TEST_BACKENDS) {
    const auto p = targets::ring_of_gaussians<double, B>();
    CHECK(p.components() == 8);
    CHECK(p.low_rank_rank() == 2);
    for (index_t k = 0; k < 8; ++k)
        CHECK(p.means().row(k).norm() == doctest::Approx(4.0).epsilon(1e-15));
    CHECK(p.covariances()[3](1, 1) == 0.25);
    // invariant under the rotation by 2 pi / 8
    const double a = 2 * std::numbers::pi / 8;
    md R(2, 2);
    R << std::cos(a), -std::sin(a), std::sin(a), std::cos(a);
    md X(2, 4);
    X << 0.1, 3.9, -2.0, 1.0, 0.2, 0.3, 2.5, -4.2;
    CHECK(close(p.log_density(md(R * X)), p.log_density(X), 1e-12, 10.0));
    CHECK(close(p.score(md(R * X)), md(R * p.score(X)), 1e-12, 10.0));
    check_derivatives(p, X);
    CHECK_THROWS_AS(targets::ring_of_gaussians<double>(0), hosm::error);
    CHECK_THROWS_AS(targets::ring_of_gaussians<double>(8, -1.0), hosm::error);
}

TEST_CASE_TEMPLATE("targets/toys: logistic_mixture_2d", B, HOSM_TEST_BACKENDS) {
    const auto p = targets::logistic_mixture_2d<double, B>();
    CHECK(p.components() == 3);
    CHECK(p.weights()(2) == doctest::Approx(0.2).epsilon(1e-15));
    CHECK(p.locations()(2, 1) == -2.5);
    CHECK(p.scales()(0, 1) == 0.5);
    CHECK(p.low_rank_rank() == 2);
    const md X = p.sample(random::stream{9, 9}, 6);
    check_derivatives(p, X);
}
