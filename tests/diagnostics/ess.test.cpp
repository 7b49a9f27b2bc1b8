// Tests of hosm/diagnostics/ess.hpp: effective sample size across chains.
//
// Statistical checks use fixed hosm::random::stream seeds, so they are
// deterministic; each tolerance is about 3 standard deviations of the
// estimator, measured over 50 (i.i.d.) and 20 (AR(1)) seeds while writing
// these tests:
//  * i.i.d. N(0, 1), 4 chains x 2000 steps: ESS/S has mean 0.99 and sd 0.032
//    (bulk and basic), 0.97 and 0.030 (tail): +-10% per dimension (+-15% for
//    tail-ESS, whose indicator draws carry less information).
//  * AR(1), x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t started in its stationary
//    law: tau = (1 + phi)/(1 - phi), so ESS = S (1 - phi)/(1 + phi). The
//    relative sd of Geyer's estimate of tau is about sqrt(2 (2K + 1) / S) for a
//    truncation lag K of a few tau (Sokal 1997): with S = 4 x 20000 it is ~2%
//    at phi = 0.5 and ~5% at phi = 0.9 (measured: all 40 estimates per phi
//    within [0.95, 1.04] and [0.89, 1.08] of the closed form). Tolerance 15%.
// Exact parts (FFT autocovariance, ranks, quantiles, invariance of bulk-ESS
// under monotone maps) are checked to rounding (1e-12).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <hosm/backend/batch.hpp>
#include <hosm/core/error.hpp>
#include <hosm/diagnostics/ess.hpp>
#include <hosm/random/stream.hpp>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;
using namespace hosm::diagnostics;

namespace {

/// i.i.d. N(0, 1) trace: a D x (T C) batch is exactly the (T, C, D) layout.
std::vector<double> iid_trace(index_t T, index_t C, index_t D, std::uint64_t seed) {
    batch<double> x(D, T * C);
    random::fill_normal<backend::cpp>(random::stream{seed, 0}, x.view());
    const matrix<double> h = x.to_eigen();
    return std::vector<double>(h.data(), h.data() + h.size());
}

/// AR(1) chains with coefficient phi[d] in dimension d, stationary start.
std::vector<double> ar1_trace(index_t T, index_t C, const std::vector<double>& phi,
                              std::uint64_t seed) {
    const index_t D = static_cast<index_t>(phi.size());
    std::vector<double> e = iid_trace(T, C, D, seed);
    std::vector<double> v(e.size());
    trace_view<double> tv{v.data(), T, C, D}, te{e.data(), T, C, D};
    for (index_t c = 0; c < C; ++c)
        for (index_t d = 0; d < D; ++d) {
            const double p = phi[static_cast<std::size_t>(d)], a = std::sqrt(1 - p * p);
            tv(0, c, d) = te(0, c, d);
            for (index_t t = 1; t < T; ++t) tv(t, c, d) = p * tv(t - 1, c, d) + a * te(t, c, d);
        }
    return v;
}

}  // namespace

TEST_CASE("diagnostics/ess: FFT autocovariance equals the direct sums") {
    const std::vector<double> v = iid_trace(37, 1, 1, 5);
    Eigen::FFT<double> fft;
    std::vector<double> buf;
    std::vector<std::complex<double>> spec;
    std::vector<double> acov(37);
    diagnostics::detail::autocovariance(v.data(), 37, fft, buf, spec, acov.data());
    double mean = 0;
    for (double x : v) mean += x / 37;
    for (index_t k = 0; k < 37; ++k) {
        double g = 0;
        for (index_t i = 0; i + k < 37; ++i)
            g += (v[std::size_t(i)] - mean) * (v[std::size_t(i + k)] - mean);
        CHECK(acov[std::size_t(k)] == doctest::Approx(g / 37).epsilon(1e-12).scale(1.0));
    }
}

TEST_CASE("diagnostics/ess: ranks, rank normalization and quantiles") {
    Eigen::MatrixXd x(4, 2);
    x << 1, 2, 2, 3, 3, 4, 4, 5;  // pooled: 1 2 2 3 3 4 4 5
    const Eigen::MatrixXd r = diagnostics::detail::average_ranks(x);
    Eigen::MatrixXd expect(4, 2);
    expect << 1, 2.5, 2.5, 4.5, 4.5, 6.5, 6.5, 8;
    CHECK(r == expect);
    const Eigen::MatrixXd z = diagnostics::detail::rank_normalize(x);
    // z = Phi^{-1}((r - 3/8) / (S + 1/4)); Phi^{-1}(0.5) = 0 at r = 4.5
    CHECK(z(2, 0) == doctest::Approx(0.0).scale(1.0).epsilon(1e-14));
    CHECK(z(0, 0) == doctest::Approx(-z(3, 1)).epsilon(1e-12));
    CHECK(z(0, 0) == doctest::Approx(-1.4342001596863794).epsilon(1e-12));  // Phi^{-1}(0.625/8.25), Python statistics.NormalDist
    // type-7 quantiles (R's default): of 1..4, q(0.05) = 1.15, q(0.5) = 2.5
    Eigen::MatrixXd q(4, 1);
    q << 4, 1, 3, 2;
    CHECK(diagnostics::detail::quantile(q, 0.05) == doctest::Approx(1.15).epsilon(1e-14));
    CHECK(diagnostics::detail::quantile(q, 0.5) == doctest::Approx(2.5).epsilon(1e-14));
    CHECK(diagnostics::detail::quantile(q, 1.0) == 4.0);
    CHECK(diagnostics::detail::fold(q) == (Eigen::MatrixXd(4, 1) << 1.5, 1.5, 0.5, 0.5).finished());
}

TEST_CASE("diagnostics/ess: split chains drop the middle draw of odd chains") {
    std::vector<double> v = {1, 10, 2, 20, 99, 99, 3, 30, 4, 40};  // T = 5, C = 2, D = 1
    const Eigen::MatrixXd x = diagnostics::detail::split_draws(trace_view<double>{v.data(), 5, 2, 1}, 0);
    Eigen::MatrixXd expect(2, 4);
    expect << 1, 3, 10, 30, 2, 4, 20, 40;
    CHECK(x == expect);
}

TEST_CASE("diagnostics/ess: i.i.d. normal draws have ESS close to the number of draws") {
    const index_t T = 2000, C = 4, D = 4;
    const std::vector<double> v = iid_trace(T, C, D, 11);
    const trace_view<const double> tr{v.data(), T, C, D};
    const double S = double(T * C);
    const vector<double> bulk = ess_bulk(tr), basic = ess_basic(tr), tail = ess_tail(tr);
    REQUIRE(bulk.size() == D);
    for (index_t d = 0; d < D; ++d) {
        CAPTURE(d);
        CHECK(std::abs(bulk(d) / S - 1) < 0.10);
        CHECK(std::abs(basic(d) / S - 1) < 0.10);
        CHECK(std::abs(tail(d) / S - 1) < 0.15);
    }
    CHECK(min_ess(tr) == bulk.minCoeff());
    CHECK(min_ess(tr, ess_kind::tail) == tail.minCoeff());
    CHECK(ess(tr, ess_kind::basic) == basic);
}

TEST_CASE("diagnostics/ess: AR(1) chains match S (1 - phi)/(1 + phi)") {
    const index_t T = 20000, C = 4;
    const std::vector<double> phi = {0.5, 0.9};
    const std::vector<double> v = ar1_trace(T, C, phi, 21);
    const trace_view<const double> tr{v.data(), T, C, 2};
    const vector<double> bulk = ess_bulk(tr), basic = ess_basic(tr);
    for (index_t d = 0; d < 2; ++d) {
        const double p = phi[std::size_t(d)];
        const double expect = double(T * C) * (1 - p) / (1 + p);
        CAPTURE(p);
        CHECK(std::abs(bulk(d) / expect - 1) < 0.15);
        CHECK(std::abs(basic(d) / expect - 1) < 0.15);
    }
    // the seed's figure: the smallest ESS over the dimensions is the slow one
    CHECK(min_ess(tr) == bulk(1));
    CHECK(bulk(1) < 0.2 * bulk(0));
}

TEST_CASE("diagnostics/ess: bulk-ESS sees only ranks; basic-ESS does not") {
    const index_t T = 400, C = 3, D = 2;
    std::vector<double> v = iid_trace(T, C, D, 3);
    const vector<double> bulk = ess_bulk(trace_view<const double>{v.data(), T, C, D});
    const vector<double> basic = ess_basic(trace_view<const double>{v.data(), T, C, D});
    std::vector<double> w(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) w[i] = std::exp(3.0 * v[i]);  // monotone, heavy-tailed
    const vector<double> bulk_w = ess_bulk(trace_view<const double>{w.data(), T, C, D});
    const vector<double> basic_w = ess_basic(trace_view<const double>{w.data(), T, C, D});
    for (index_t d = 0; d < D; ++d) {
        CHECK(bulk_w(d) == doctest::Approx(bulk(d)).epsilon(1e-12));
        CHECK(basic_w(d) != doctest::Approx(basic(d)).epsilon(1e-3));
    }
}

TEST_CASE("diagnostics/ess: float traces give the double result") {
    const index_t T = 500, C = 2, D = 3;
    const std::vector<double> v = ar1_trace(T, C, {0.0, 0.3, 0.8}, 8);
    std::vector<float> f(v.begin(), v.end());
    std::vector<double> vf(f.begin(), f.end());  // the same rounded values in double
    const vector<double> a = ess_bulk(trace_view<float>{f.data(), T, C, D});
    const vector<double> b = ess_bulk(trace_view<const double>{vf.data(), T, C, D});
    for (index_t d = 0; d < D; ++d) CHECK(a(d) == doctest::Approx(b(d)).epsilon(1e-12));
}

TEST_CASE("diagnostics/ess: stuck chains give a small ESS, not NaN") {
    // every chain constant at its own value: W = 0 < B, rho_k = 1 for all k
    const index_t T = 50, C = 4;
    std::vector<double> v(T * C);
    for (index_t t = 0; t < T; ++t)
        for (index_t c = 0; c < C; ++c) v[std::size_t(t * C + c)] = double(c);
    const double e = ess_basic(trace_view<const double>{v.data(), T, C, 1})(0);
    CHECK(std::isfinite(e));
    CHECK(e < 10.0);
}

TEST_CASE("diagnostics/ess: bad input raises hosm::error naming it") {
    const index_t T = 20, C = 3, D = 2;
    std::vector<double> v = iid_trace(T, C, D, 4);
    trace_view<double> tr{v.data(), T, C, D};
    SUBCASE("a non-finite draw is named by chain, step and dimension") {
        tr(13, 2, 1) = std::nan("");
        tr(15, 0, 0) = INFINITY;  // later step: the earlier one is reported
        const std::string m = message_of([&] { (void)ess_bulk(tr); });
        CHECK(m.find("diagnostics::ess_bulk") != std::string::npos);
        CHECK(m.find("chain 2") != std::string::npos);
        CHECK(m.find("step 13") != std::string::npos);
        CHECK(m.find("dimension 1") != std::string::npos);
        CHECK_THROWS_AS((void)min_ess(tr, ess_kind::basic), hosm::error);
    }
    SUBCASE("too few steps") {
        const std::string m = message_of([&] { (void)ess_basic(trace_view<double>{v.data(), 7, C, D}); });
        CHECK(m.find("'steps' = 7") != std::string::npos);
    }
    SUBCASE("no chains, no dimensions") {
        CHECK(message_of([&] { (void)ess_bulk(trace_view<double>{v.data(), T, 0, D}); })
                  .find("'chains' = 0") != std::string::npos);
        CHECK(message_of([&] { (void)ess_tail(trace_view<double>{v.data(), T, C, 0}); })
                  .find("'dim' = 0") != std::string::npos);
    }
    SUBCASE("constant draws have no ESS") {
        for (index_t t = 0; t < T; ++t)
            for (index_t c = 0; c < C; ++c) tr(t, c, 1) = 2.5;
        const std::string m = message_of([&] { (void)ess_basic(tr); });
        CHECK(m.find("dimension 1") != std::string::npos);
        CHECK(m.find("equal") != std::string::npos);
    }
    SUBCASE("tail-ESS needs quantile indicators that vary") {
        // all draws 1 but one 0: the 5% quantile is 1, so I(x <= Q) is constant
        for (index_t t = 0; t < T; ++t)
            for (index_t c = 0; c < C; ++c) tr(t, c, 0) = 1.0;
        tr(3, 1, 0) = 0.0;
        const std::string m = message_of([&] { (void)ess_tail(tr); });
        CHECK(m.find("5% quantile is constant over the draws of dimension 0") != std::string::npos);
        CHECK(std::isfinite(ess_basic(tr)(0)));
    }
}
