// Tests of hosm/diagnostics/ksd.hpp: squared kernel Stein discrepancy.
//
// * Sums and normalizations: against plain double loops over
//   imq_kernel::stein (itself checked against finite differences in
//   imq_kernel.test.cpp), relative 1e-12 (only the order of summation differs).
// * Exact samples of N(0, I_2), s(x) = -x, N = 500 (fixed stream seed): the
//   U-statistic is degenerate with standard error null_std_error (~0.003);
//   |U| < 4 se (measured over 20 seeds: max 2.6 se). E V = E u(x, x) / N =
//   (E|s|^2 + D) / N = 2D / N for c = 1, beta = -1/2, so V < 2D/N + 4 se.
// * Samples shifted by 1.0 along e_1: U is ~0.5, > 20 se (measured: > 90 se
//   for a shift of 0.5); with common draws U grows with the shift 0.5, 1, 2.
#include <doctest/doctest.h>
#include "support/backends.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <string>

#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/diagnostics/ksd.hpp>
#include <hosm/random/stream.hpp>

using namespace hosm;
using hosm_test::message_of;
using namespace hosm::diagnostics;

namespace {

matrix<double> normals(index_t D, index_t N, std::uint64_t seed) {
    batch<double> x(D, N);
    random::fill_normal<backend::cpp>(random::stream{seed, 2}, x.view());
    return x.to_eigen();
}

}  // namespace

TEST_CASE_TEMPLATE("diagnostics/ksd: V, U and the null standard error are the defined sums", B,
                   HOSM_TEST_BACKENDS) {
    const index_t D = 3, N = 9;
    const matrix<double> x = normals(D, N, 1), s = normals(D, N, 2);
    const imq_kernel<double> k{0.8, -0.35};
    double all = 0, off = 0, off_sq = 0;
    for (index_t i = 0; i < N; ++i)
        for (index_t j = 0; j < N; ++j) {
            const double u = k.stein(x.col(i).data(), x.col(j).data(), s.col(i).data(), s.col(j).data(), D);
            all += u;
            if (i != j) {
                off += u;
                off_sq += u * u;
            }
        }
    const double pairs = double(N) * (N - 1);
    batch<double, B> xb(x), sb(s);
    const ksd_estimate e = ksd_squared<B>(xb.view(), sb.view(), k);
    CHECK(e.v_statistic == doctest::Approx(all / (N * N)).epsilon(1e-12));
    CHECK(e.u_statistic == doctest::Approx(off / pairs).epsilon(1e-12));
    CHECK(e.null_std_error == doctest::Approx(std::sqrt(2 * off_sq / pairs / pairs)).epsilon(1e-12));
    // float samples and scores: the same numbers up to the rounding of the inputs
    batch<float, B> xf(x.cast<float>().eval()), sf(s.cast<float>().eval());
    const ksd_estimate ef = ksd_squared<B>(xf.view(), sf.view(), k);
    CHECK(ef.v_statistic == doctest::Approx(e.v_statistic).epsilon(1e-5));
}

TEST_CASE("diagnostics/ksd: ~0 for exact samples of N(0, I), larger when shifted") {
    using B = backend::cpp;  // statistics once; back ends agree by the exact test above
    const index_t D = 2, N = 500;
    const matrix<double> z = normals(D, N, 3);
    double last_u = 0;
    for (double shift : {0.0, 0.5, 1.0, 2.0}) {
        CAPTURE(shift);
        matrix<double> x = z;
        x.row(0).array() += shift;
        const matrix<double> s = -x;  // score of N(0, I)
        batch<double, B> xb(x), sb(s);
        const ksd_estimate e = ksd_squared<B>(xb.view(), sb.view());
        if (shift == 0.0) {
            CHECK(std::abs(e.u_statistic) < 4 * e.null_std_error);
            CHECK(e.v_statistic > 0.0);
            CHECK(e.v_statistic < 2.0 * D / N + 4 * e.null_std_error);
        } else {
            CHECK(e.u_statistic > last_u);
            CHECK(e.v_statistic > e.u_statistic);  // V adds the positive diagonal
        }
        if (shift == 1.0) CHECK(e.u_statistic > 20 * e.null_std_error);
        last_u = e.u_statistic;
    }
}

TEST_CASE("diagnostics/ksd: bad input raises hosm::error naming it") {
    const matrix<double> x = normals(2, 5, 4);
    matrix<double> s = -x;
    SUBCASE("fewer than 2 samples") {
        const matrix<double> x1 = x.leftCols(1), s1 = s.leftCols(1);
        CHECK(message_of([&] { (void)ksd_squared(view(x1), view(s1)); })
                  .find("'x.count (number of samples N)' = 1 must be >= 2") != std::string::npos);
    }
    SUBCASE("dimension mismatches") {
        const matrix<double> s3 = normals(3, 5, 5), s4 = s.leftCols(4);
        CHECK(message_of([&] { (void)ksd_squared(view(x), view(s3)); })
                  .find("dimension mismatch: argument 'scores.dim' has size 3, expected 2") != std::string::npos);
        CHECK(message_of([&] { (void)ksd_squared(view(x), view(s4)); })
                  .find("'scores.count' has size 4, expected 5") != std::string::npos);
    }
    SUBCASE("non-finite scores are named by sample and dimension") {
        s(1, 3) = std::nan("");
        const std::string m = message_of([&] { (void)ksd_squared(view(x), view(s)); });
        CHECK(m.find("diagnostics::ksd_squared") != std::string::npos);
        CHECK(m.find("'scores' has a non-finite entry nan in sample 3, dimension 1") != std::string::npos);
    }
    SUBCASE("kernel parameters") {
        CHECK(message_of([&] { (void)ksd_squared(view(x), view(s), imq_kernel<double>{1.0, -1.5}); })
                  .find("'beta'") != std::string::npos);
        CHECK(message_of([&] { (void)ksd_squared(view(x), view(s), imq_kernel<double>{0.0, -0.5}); })
                  .find("'c'") != std::string::npos);
    }
}
