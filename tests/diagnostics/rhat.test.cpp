// Tests of hosm/diagnostics/rhat.hpp: split and rank-normalized split R-hat.
//
// Exact checks (hand-computed split R-hat, ranks with ties) to 1e-12.
// Statistical checks use fixed hosm::random::stream seeds (deterministic):
//  * 4 well-mixed i.i.d. chains of 1000 steps: R - 1 is of order
//    (B/N)/(2W) ~ 1/N_half = 2e-3 (measured over 50 seeds: max 1.0031), so
//    R < 1.01 (Vehtari et al.'s threshold) holds with a wide margin;
//  * one of 4 chains shifted by 5 standard deviations: on the raw draws
//    var+ / W ~ 1 + 25 * 3/14, R ~ 2.5; ranks compress the shift, and the
//    rank-normalized R is ~1.53 (measured over 50 seeds: [1.526, 1.530]):
//    checked > 2 and > 1.3, both far above 1.1;
//  * one chain with 3x the spread: the means agree (R_basic ~ 1, measured
//    max 1.004) but the folded draws do not (rank-normalized R in
//    [1.128, 1.172] over 50 seeds): rhat > 1.1 while rhat_basic < 1.05.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <hosm/backend/batch.hpp>
#include <hosm/core/error.hpp>
#include <hosm/diagnostics/rhat.hpp>
#include <hosm/random/stream.hpp>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;
using namespace hosm::diagnostics;

namespace {

std::vector<double> iid_trace(index_t T, index_t C, index_t D, std::uint64_t seed) {
    batch<double> x(D, T * C);
    random::fill_normal<backend::cpp>(random::stream{seed, 1}, x.view());
    const matrix<double> h = x.to_eigen();
    return std::vector<double>(h.data(), h.data() + h.size());
}

/// The R-hat formula written out over the columns of x (test oracle).
double rhat_formula(const Eigen::MatrixXd& x) {
    const double N = double(x.rows()), M = double(x.cols());
    double W = 0, grand = x.mean(), B = 0;
    for (index_t m = 0; m < x.cols(); ++m) {
        const double mean = x.col(m).mean();
        W += (x.col(m).array() - mean).square().sum() / (N - 1) / M;
        B += (mean - grand) * (mean - grand) / (M - 1);
    }
    return std::sqrt(((N - 1) / N * W + B) / W);
}

}  // namespace

TEST_CASE("diagnostics/rhat: split R-hat of a hand-computed example") {
    // chains [1 2 3 4] and [2 3 4 5] (T = 4, C = 2, D = 1); split halves
    // [1 2] [3 4] [2 3] [4 5]: W = 1/2, B/N = 5/3, var+ = 23/12, R = sqrt(23/6).
    std::vector<double> v = {1, 2, 2, 3, 3, 4, 4, 5};
    const trace_view<const double> tr{v.data(), 4, 2, 1};
    CHECK(rhat_basic(tr)(0) == doctest::Approx(std::sqrt(23.0 / 6.0)).epsilon(1e-14));
    // an odd chain drops its middle draw: the same halves, the same R
    std::vector<double> w = {1, 2, 2, 3, 99, -99, 3, 4, 4, 5};
    CHECK(rhat_basic(trace_view<const double>{w.data(), 5, 2, 1})(0) ==
          doctest::Approx(std::sqrt(23.0 / 6.0)).epsilon(1e-14));

    // rank-normalized: pooled ranks 1 2.5 4.5 6.5 | 2.5 4.5 6.5 8 (ties averaged);
    // folded |x - 3| = 2 1 0 1 | 1 0 1 2 with ranks 7.5 4.5 1.5 4.5 | 4.5 1.5 4.5 7.5
    auto z = [](const Eigen::MatrixXd& r) {
        return ((r.array() - 0.375) / 8.25).ndtri().matrix().eval();
    };
    Eigen::MatrixXd rb(2, 4), rt(2, 4);  // columns: split chains
    rb << 1, 4.5, 2.5, 6.5, 2.5, 6.5, 4.5, 8;
    rt << 7.5, 1.5, 4.5, 4.5, 4.5, 4.5, 1.5, 7.5;
    const double bulk = rhat_formula(z(rb)), tail = rhat_formula(z(rt));
    CHECK(rhat(tr)(0) == doctest::Approx(std::max(bulk, tail)).epsilon(1e-12));
    CHECK(max_rhat(tr) == rhat(tr)(0));
}

TEST_CASE("diagnostics/rhat: well-mixed chains have R-hat below 1.01") {
    const index_t T = 1000, C = 4, D = 3;
    const std::vector<double> v = iid_trace(T, C, D, 17);
    const trace_view<const double> tr{v.data(), T, C, D};
    const vector<double> r = rhat(tr), rb = rhat_basic(tr);
    REQUIRE(r.size() == D);
    for (index_t d = 0; d < D; ++d) {
        CHECK(r(d) < 1.01);
        CHECK(rb(d) < 1.01);
        CHECK(r(d) > 0.99);
    }
    CHECK(max_rhat(tr) == r.maxCoeff());
}

TEST_CASE("diagnostics/rhat: a chain shifted by 5 standard deviations is detected") {
    const index_t T = 1000, C = 4, D = 2;
    std::vector<double> v = iid_trace(T, C, D, 23);
    trace_view<double> tr{v.data(), T, C, D};
    for (index_t t = 0; t < T; ++t) tr(t, 2, 1) += 5.0;  // chain 2, dimension 1
    const vector<double> r = rhat(tr), rb = rhat_basic(tr);
    CHECK(r(0) < 1.01);
    CHECK(rb(0) < 1.01);
    CHECK(r(1) > 1.3);
    CHECK(rb(1) > 2.0);
    CHECK(max_rhat(tr) == r(1));
}

TEST_CASE("diagnostics/rhat: a chain with a different scale is caught by the folded draws") {
    const index_t T = 1000, C = 4, D = 1;
    std::vector<double> v = iid_trace(T, C, D, 29);
    trace_view<double> tr{v.data(), T, C, D};
    for (index_t t = 0; t < T; ++t) tr(t, 0, 0) *= 3.0;
    CHECK(rhat_basic(tr)(0) < 1.05);
    CHECK(rhat(tr)(0) > 1.1);
}

TEST_CASE("diagnostics/rhat: stuck, disagreeing chains give +infinity") {
    std::vector<double> v(6 * 2);
    for (index_t t = 0; t < 6; ++t) {
        v[std::size_t(2 * t)] = 1.0;
        v[std::size_t(2 * t + 1)] = 2.0;
    }
    const trace_view<const double> tr{v.data(), 6, 2, 1};
    CHECK(rhat_basic(tr)(0) == std::numeric_limits<double>::infinity());
    CHECK(rhat(tr)(0) == std::numeric_limits<double>::infinity());
}

TEST_CASE("diagnostics/rhat: bad input raises hosm::error naming it") {
    const index_t T = 10, C = 3, D = 2;
    std::vector<double> v = iid_trace(T, C, D, 31);
    trace_view<double> tr{v.data(), T, C, D};
    SUBCASE("fewer than 2 chains") {
        const std::string m = message_of([&] { (void)rhat(trace_view<double>{v.data(), T, 1, D}); });
        CHECK(m.find("diagnostics::rhat") != std::string::npos);
        CHECK(m.find("'chains' = 1 must be >= 2") != std::string::npos);
        CHECK_THROWS_AS((void)rhat_basic(trace_view<double>{v.data(), T, 1, D}), hosm::error);
    }
    SUBCASE("fewer than 4 steps") {
        const std::string m = message_of([&] { (void)rhat_basic(trace_view<double>{v.data(), 3, C, D}); });
        CHECK(m.find("'steps' = 3 must be >= 4") != std::string::npos);
    }
    SUBCASE("a NaN draw is named by chain, step and dimension") {
        tr(6, 1, 0) = std::nan("");
        const std::string m = message_of([&] { (void)max_rhat(tr); });
        CHECK(m.find("non-finite draw nan in chain 1 at step 6, dimension 0") != std::string::npos);
    }
    SUBCASE("all draws equal") {
        for (index_t t = 0; t < T; ++t)
            for (index_t c = 0; c < C; ++c) tr(t, c, 1) = -1.0;
        CHECK(message_of([&] { (void)rhat(tr); }).find("dimension 1 are equal") != std::string::npos);
        CHECK(message_of([&] { (void)rhat_basic(tr); }).find("dimension 1 are equal") != std::string::npos);
    }
}
