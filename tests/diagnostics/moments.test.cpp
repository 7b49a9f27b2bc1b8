// Tests of hosm/diagnostics/moments.hpp: sample moments against known ones.
//
// Exact checks on hand-computed batches (to 1e-14). Statistical check (fixed
// stream seed): N = 20000 draws of N(mu, Sigma), D = 3, x = mu + L z with
// Sigma = L L^T. Standard errors: sqrt(Sigma_ii / N) <= 0.011 for a mean
// entry, sqrt((Sigma_ii Sigma_jj + Sigma_ij^2) / (N - 1)) <= 0.021 for a
// covariance entry (Gaussian draws); the max-abs errors are checked below
// 4.5 of them over all entries (0.05 and 0.1), and the relative Frobenius
// error of the covariance (~ sqrt(sum of entry variances) / ||Sigma||_F ~ 0.014)
// below 0.05.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/diagnostics/moments.hpp>
#include <hosm/random/stream.hpp>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;
using namespace hosm::diagnostics;

TEST_CASE("diagnostics/moments: sample mean and covariance of a small batch") {
    matrix<double> x(2, 3);  // samples (1, 2), (3, 4), (5, 9)
    x.col(0) << 1, 2;
    x.col(1) << 3, 4;
    x.col(2) << 5, 9;
    const vector<double> m = sample_mean(view(x));
    CHECK(m(0) == doctest::Approx(3.0).epsilon(1e-14));
    CHECK(m(1) == doctest::Approx(5.0).epsilon(1e-14));
    // deviations (-2, -3), (0, -1), (2, 4); divisor N - 1 = 2
    const matrix<double> c = sample_covariance(view(x));
    CHECK(c(0, 0) == doctest::Approx(4.0).epsilon(1e-14));
    CHECK(c(0, 1) == doctest::Approx(7.0).epsilon(1e-14));
    CHECK(c(1, 0) == doctest::Approx(7.0).epsilon(1e-14));
    CHECK(c(1, 1) == doctest::Approx(13.0).epsilon(1e-14));
    // float batches give the same numbers (exactly representable here)
    const matrix<float> xf = x.cast<float>();
    CHECK(sample_covariance(view(xf))(1, 1) == doctest::Approx(13.0).epsilon(1e-14));

    vector<double> mu(2);
    mu << 3, 4;
    matrix<double> sigma(2, 2);
    sigma << 4, 7, 7, 10;
    const moment_errors e = moment_errors_of(view(x), mu, sigma);
    CHECK(e.mean.max_abs == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(e.mean.frobenius == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(e.mean.rel_frobenius == doctest::Approx(1.0 / 5.0).epsilon(1e-14));
    CHECK(e.covariance.max_abs == doctest::Approx(3.0).epsilon(1e-14));
    CHECK(e.covariance.rel_frobenius == doctest::Approx(3.0 / std::sqrt(16 + 49 + 49 + 100.0)).epsilon(1e-14));
}

TEST_CASE("diagnostics/moments: compare gives max-abs, Frobenius and relative errors") {
    matrix<double> est(2, 2), ref(2, 2);
    est << 1, 2, 3, 4;
    ref << 1, 2, 3, 5;
    const moment_error e = compare(est, ref);
    CHECK(e.max_abs == 1.0);
    CHECK(e.frobenius == 1.0);
    CHECK(e.rel_frobenius == doctest::Approx(1.0 / std::sqrt(39.0)).epsilon(1e-14));
    // zero reference: the relative error falls back to the absolute one
    const vector<double> z = vector<double>::Zero(2);
    vector<double> v(2);
    v << 3, -4;
    const moment_error ez = compare(v, z);
    CHECK(ez.max_abs == 4.0);
    CHECK(ez.frobenius == 5.0);
    CHECK(ez.rel_frobenius == 5.0);
    CHECK(message_of([&] { (void)compare(v, est); }).find("dimension mismatch") != std::string::npos);
}

TEST_CASE("diagnostics/moments: draws of N(mu, Sigma) reproduce mu and Sigma") {
    const index_t D = 3, N = 20000;
    matrix<double> sigma(D, D);
    sigma << 2.0, 0.6, -0.3, 0.6, 1.0, 0.2, -0.3, 0.2, 0.5;
    vector<double> mu(D);
    mu << 1.0, -2.0, 0.5;
    batch<double> z(D, N);
    random::fill_normal<backend::cpp>(random::stream{12, 6}, z.view());
    const matrix<double> L = sigma.llt().matrixL();
    const matrix<double> x = (L * z.to_eigen()).colwise() + mu;
    const moment_errors e = moment_errors_of(view(x), mu, sigma);
    CHECK(e.mean.max_abs < 0.05);
    CHECK(e.covariance.max_abs < 0.1);
    CHECK(e.covariance.rel_frobenius < 0.05);
    // a wrong reference is seen: Sigma scaled by 1.2 is off by 20%
    const matrix<double> wrong = 1.2 * sigma;
    CHECK(moment_errors_of(view(x), mu, wrong).covariance.rel_frobenius > 0.12);
}

TEST_CASE("diagnostics/moments: bad input raises hosm::error naming it") {
    matrix<double> x = matrix<double>::Random(2, 5);
    const vector<double> mu = vector<double>::Zero(2);
    const matrix<double> sigma = matrix<double>::Identity(2, 2);
    const vector<double> mu3 = vector<double>::Zero(3);
    CHECK(message_of([&] { (void)moment_errors_of(view(x), mu3, sigma); })
              .find("argument 'mean' has size 3, expected 2") != std::string::npos);
    const matrix<double> s3 = matrix<double>::Identity(3, 2);
    CHECK(message_of([&] { (void)moment_errors_of(view(x), mu, s3); })
              .find("argument 'cov.rows' has size 3, expected 2") != std::string::npos);
    const matrix<double> x1 = x.leftCols(1);
    CHECK(message_of([&] { (void)sample_covariance(view(x1)); })
              .find("'x.count (number of samples N)' = 1 must be >= 2") != std::string::npos);
    CHECK_NOTHROW((void)sample_mean(view(x1)));
    x(1, 3) = std::nan("");
    CHECK(message_of([&] { (void)sample_mean(view(x)); })
              .find("'x' has a non-finite entry nan in sample 3, dimension 1") != std::string::npos);
    vector<double> mun = mu;
    mun(0) = INFINITY;
    CHECK(message_of([&] { (void)moment_errors_of(view(x1), mun, sigma); })
              .find("argument 'mean' has a non-finite entry") != std::string::npos);
}
