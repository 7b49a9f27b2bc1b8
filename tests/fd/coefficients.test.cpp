// Tests of hosm/fd/coefficients.hpp: the Vandermonde system of seed 002
// Theorem 1 and the symmetric pair weights derived from it.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <array>
#include <cmath>
#include <hosm/fd/coefficients.hpp>
#include <limits>
#include <string>
#include <vector>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;
using ld = long double;

namespace {

ld rel_err(ld got, ld want) { return std::fabs(got - want) / std::max(std::fabs(want), 1e-300L); }

ld factorial(int n) {
    ld f = 1;
    for (int t = 2; t <= n; ++t) f *= t;
    return f;
}

/// beta of V^T beta = e_J, V_{kj} = (alpha_k^2)^(j-1), by Eigen's LU in long
/// double on the system equilibrated by the largest squared node (an
/// independent route to the closed form the library uses).
std::vector<ld> eigen_beta(const std::vector<ld>& alpha, int J) {
    using M = Eigen::Matrix<ld, Eigen::Dynamic, Eigen::Dynamic>;
    using V = Eigen::Matrix<ld, Eigen::Dynamic, 1>;
    const int K = static_cast<int>(alpha.size());
    ld s = 0;
    for (ld a : alpha) s = std::max(s, a * a);
    M Vt(K, K);
    for (int k = 0; k < K; ++k)
        for (int j = 0; j < K; ++j) Vt(j, k) = std::pow(alpha[k] * alpha[k] / s, j);
    V e = V::Zero(K);
    e[J - 1] = 1;
    const V b = Eigen::PartialPivLU<M>(Vt).solve(e) / std::pow(s, J - 1);
    return std::vector<ld>(b.data(), b.data() + K);
}

}  // namespace

TEST_CASE("fd/coefficients: min_nodes and accuracy_order") {
    static_assert(fd::min_nodes(1) == 1 && fd::min_nodes(2) == 1 && fd::min_nodes(3) == 2 &&
                  fd::min_nodes(4) == 2 && fd::min_nodes(7) == 4);
    // Theorem 1 (K = ceil(T/2)) is second-order accurate; each extra node adds 2.
    for (int T = 1; T <= 8; ++T) {
        CHECK(fd::accuracy_order(T, fd::min_nodes(T)) == 2);
        CHECK(fd::accuracy_order(T, fd::min_nodes(T) + 2) == 6);
    }
}

TEST_CASE("fd/coefficients: seed 002 Eq. 8 (K = 1, alpha = 1, beta = 1)") {
    for (int T : {1, 2}) {
        const auto beta = fd::vandermonde_beta(T, {1.0L});
        REQUIRE(beta.size() == 1);
        CHECK(beta[0] == 1.0L);
    }
    // first order: v.grad L = (L(x+v) - L(x-v)) / 2; second: L(x+v) + L(x-v) - 2 L(x)
    CHECK(fd::symmetric_weights(1, {1.0L})[0] == 0.5L);
    CHECK(fd::symmetric_weights(2, {1.0L})[0] == 1.0L);
}

TEST_CASE("fd/coefficients: classic central-difference weights on nodes 1..K") {
    // Pair weights w_k of the textbook central stencils (e.g. first derivative,
    // 4th order: (-f(2h) + 8 f(h) - 8 f(-h) + f(-2h)) / (12 h), w = (2/3, -1/12)).
    // Exact rationals; the long double solve must agree to ~1e-18, checked at 1e-16.
    struct row {
        int order;
        std::vector<ld> nodes, w;
    };
    const std::vector<row> table = {
        {1, {1}, {0.5L}},
        {2, {1}, {1.0L}},
        {1, {1, 2}, {2.0L / 3, -1.0L / 12}},
        {2, {1, 2}, {4.0L / 3, -1.0L / 12}},
        {3, {1, 2}, {-1.0L, 0.5L}},
        {4, {1, 2}, {-4.0L, 1.0L}},
        {1, {1, 2, 3}, {0.75L, -3.0L / 20, 1.0L / 60}},
        {2, {1, 2, 3}, {1.5L, -3.0L / 20, 1.0L / 90}},
        {3, {1, 2, 3}, {-13.0L / 8, 1.0L, -1.0L / 8}},
        {4, {1, 2, 3}, {-39.0L / 6, 2.0L, -1.0L / 6}},
    };
    for (const auto& r : table) {
        CAPTURE(r.order);
        CAPTURE(r.nodes.size());
        const auto w = fd::symmetric_weights(r.order, r.nodes);
        REQUIRE(w.size() == r.w.size());
        for (std::size_t k = 0; k < r.w.size(); ++k) CHECK(rel_err(w[k], r.w[k]) < 1e-16L);
    }
}

TEST_CASE("fd/coefficients: weights satisfy the moment equations for arbitrary nodes") {
    // sum_k w_k alpha_k^(2m) (even T) or alpha_k^(2m-1) (odd T) = T!/2 delta_{m,J},
    // m = 1..K. Checked to 1e-15 relative to the largest term of each sum.
    const std::vector<ld> nodes = {0.3L, 1.1L, 2.5L, 0.7L, 1.9L};
    const int K = static_cast<int>(nodes.size());
    for (int T = 1; T <= 2 * K; ++T) {
        CAPTURE(T);
        const auto w = fd::symmetric_weights(T, nodes);
        const int J = fd::min_nodes(T);
        for (int m = 1; m <= K; ++m) {
            ld sum = 0, big = 0;
            for (int k = 0; k < K; ++k) {
                const ld term = w[k] * std::pow(nodes[k], T % 2 == 0 ? 2 * m : 2 * m - 1);
                sum += term;
                big = std::max(big, std::fabs(term));
            }
            const ld want = m == J ? factorial(T) / 2 : 0;
            CAPTURE(m);
            CHECK(std::fabs(sum - want) <= 1e-15L * big);
        }
    }
}

TEST_CASE("fd/coefficients: the closed-form solution matches Eigen's LU solve of V^T beta = e_J") {
    // Nodes 1..K up to K = 10 (cond(V) ~ 1e17 before equilibration) and an
    // irregular set; every J = 1..K. Tolerance 1e-13 relative: the equilibrated
    // long double LU agrees with the closed form to <= 2e-15 on these sets.
    std::vector<std::vector<ld>> sets;
    for (int K = 1; K <= 10; ++K) {
        std::vector<ld> a;
        for (int k = 1; k <= K; ++k) a.push_back(k);
        sets.push_back(a);
    }
    sets.push_back({0.05L, 0.4L, 3.0L, 1.2L, 7.5L, 0.9L});
    for (const auto& a : sets) {
        const int K = static_cast<int>(a.size());
        for (int J = 1; J <= K; ++J) {
            CAPTURE(K);
            CAPTURE(J);
            const auto want = eigen_beta(a, J);
            const auto got = fd::vandermonde_beta(2 * J, a);  // T = 2J has ceil(T/2) = J
            const auto got_odd = fd::vandermonde_beta(2 * J - 1, a);
            for (int k = 0; k < K; ++k) {
                CHECK(rel_err(got[k], want[k]) < 1e-13L);
                CHECK(got_odd[k] == got[k]);  // beta depends on J only
            }
        }
    }
}

TEST_CASE("fd/coefficients: accepts ranges of any arithmetic type") {
    const auto ref = fd::symmetric_weights(3, {1.0L, 2.0L});
    const std::vector<double> vd = {1.0, 2.0};
    const std::array<float, 2> af = {1.0f, 2.0f};
    Eigen::VectorXd ev(2);
    ev << 1.0, 2.0;
    const std::array<int, 2> ai = {1, 2};
    CHECK(fd::symmetric_weights(3, vd) == ref);
    CHECK(fd::symmetric_weights(3, af) == ref);
    CHECK(fd::symmetric_weights(3, ev) == ref);
    CHECK(fd::symmetric_weights(3, ai) == ref);
}

TEST_CASE("fd/coefficients: bad inputs raise hosm::error naming the argument") {
    CHECK(message_of([] { fd::symmetric_weights(0, {1.0L}); }) ==
          "hosm: fd::symmetric_weights: argument 'order' = 0 must be >= 1");
    CHECK_THROWS_AS(fd::vandermonde_beta(-2, {1.0L}), hosm::error);
    // too few nodes for the order
    const std::string few = message_of([] { fd::symmetric_weights(5, {1.0L, 2.0L}); });
    CHECK(few.find("argument 'nodes' has 2 entries") != std::string::npos);
    CHECK(few.find("at least 3") != std::string::npos);
    CHECK_THROWS_AS(fd::symmetric_weights(1, std::vector<double>{}), hosm::error);
    // non-positive or non-finite nodes
    CHECK(message_of([] {
              fd::symmetric_weights(2, {1.0L, -0.5L});
          }).find("argument 'nodes' entry 1 = -0.5 must be finite and > 0") != std::string::npos);
    CHECK_THROWS_AS(fd::symmetric_weights(2, {0.0L}), hosm::error);
    CHECK_THROWS_AS(fd::symmetric_weights(2, {std::numeric_limits<ld>::quiet_NaN()}), hosm::error);
    CHECK_THROWS_AS(fd::symmetric_weights(2, {std::numeric_limits<ld>::infinity()}), hosm::error);
    // repeated nodes make V singular
    CHECK(message_of([] {
              fd::symmetric_weights(2, {1.0L, 2.0L, 1.0L});
          }).find("entries 0 and 2 are equal") != std::string::npos);
    // distinct but one double-ulp apart: refused as ill-conditioned, not garbage
    const double one_up = std::nextafter(1.0, 2.0);
    CHECK(message_of([&] {
              fd::symmetric_weights(2, std::vector<double>{1.0, one_up});
          }).find("ill-conditioned") != std::string::npos);
    // 16 nodes 1..16: fine for order 2 (amplification ~630), refused for order
    // 32 (amplification ~4.8e12 > 1e12: no useful digits left in double)
    std::vector<double> many;
    for (int k = 1; k <= 16; ++k) many.push_back(k);
    CHECK_NOTHROW(fd::symmetric_weights(2, many));
    CHECK(message_of([&] { fd::symmetric_weights(32, many); }).find("ill-conditioned") !=
          std::string::npos);
}
