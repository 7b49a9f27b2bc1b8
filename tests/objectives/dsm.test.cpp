// Tests of hosm/objectives/dsm.hpp (seed 000 Eq. 3) on the cpp and omp back ends:
//  - the loss equals a dense Eigen evaluation of (1/N) sum_j (1/2)|s1_j + z_j/sigma|^2
//    (double: 1e-13 relative; float: 1e-5 relative, the rounding of D*N terms);
//  - the gradient equals central differences (h = 1e-6, 1e-6 relative, see denoising_support.hpp);
//  - at the exact score of a Gaussian target the mean gradient in s1 is 0 within
//    4 standard errors (Monte Carlo, 20000 samples, fixed seed), and a wrong score
//    is detected at > 10 standard errors;
//  - bad inputs raise hosm::error naming the argument.
#include "support/backends.hpp"
#include "objectives/denoising_support.hpp"

#include <cmath>
#include <limits>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/objectives/dsm.hpp>

using namespace hosm;
using namespace objtest;

namespace {

double dense_dsm(const matrix<double>& s1, const matrix<double>& z, double sigma) {
    return 0.5 * (s1 + z / sigma).colwise().squaredNorm().mean();
}

}  // namespace

TEST_CASE_TEMPLATE("objectives::dsm: loss equals the dense formula", B, HOSM_TEST_BACKENDS) {
    rng_t g(11);
    const index_t D = 5, N = 7;
    const double sigma = 0.3;
    const matrix<double> s1 = randn(D, N, g), z = randn(D, N, g);
    const objectives::dsm<double> obj(sigma);
    const double ref = dense_dsm(s1, z, sigma);
    CHECK(objectives::loss<B>(obj, view(s1), view(z)) == doctest::Approx(ref).epsilon(1e-13));
    matrix<double> g1(D, N);
    CHECK(objectives::loss_and_gradient<B>(obj, view(s1), view(z), view(g1)) ==
          doctest::Approx(ref).epsilon(1e-13));
    // the gradient in closed form: (s1 + z / sigma) / N
    CHECK((g1 - (s1 + z / sigma) / double(N)).norm() <= 1e-14 * g1.norm());

    // float
    const matrix<float> s1f = s1.cast<float>(), zf = z.cast<float>();
    const float lf = objectives::loss<B>(objectives::dsm<float>(0.3f), view(s1f), view(zf));
    CHECK(lf == doctest::Approx(ref).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("objectives::dsm: gradient matches central differences", B, HOSM_TEST_BACKENDS) {
    rng_t g(12);
    const index_t D = 4, N = 3;
    matrix<double> s1 = randn(D, N, g);
    const matrix<double> z = randn(D, N, g);
    const objectives::dsm<double> obj(0.7);
    matrix<double> g1(D, N);
    objectives::loss_and_gradient<B>(obj, view(s1), view(z), view(g1));
    fd_check([&] { return objectives::loss<B>(obj, view(s1), view(z)); }, s1.data(), s1.size(),
             g1.data(), "s1");
}

TEST_CASE_TEMPLATE("objectives::dsm: the exact score of a Gaussian is a stationary point", B,
                   HOSM_TEST_BACKENDS) {
    rng_t g(13);
    const index_t D = 3, N = 20000;
    const matrix<double> A = randn(D, D, g, 0.5);
    const gaussian_case tc(randn(D, 1, g), A * A.transpose() + 0.5 * matrix<double>::Identity(D, D),
                           0.5);
    const matrix<double> x = tc.sample(N, g), z = randn(D, N, g);
    const matrix<double> xt = x + tc.sigma * z;
    const objectives::dsm<double> obj(tc.sigma);

    matrix<double> s1 = tc.s1(xt), g1(D, N);
    objectives::loss_and_gradient<B>(obj, view(s1), view(z), view(g1));
    // per-sample gradients are N * g1 (g1 carries the 1/N of the batch mean)
    const mean_se ms = row_mean_se(double(N) * g1);
    for (index_t i = 0; i < D; ++i) {
        INFO("coordinate ", i, ": mean ", ms.mean(i), ", standard error ", ms.se(i));
        CHECK(std::abs(ms.mean(i)) < 4 * ms.se(i));
    }
    // a wrong score (the clean-data score, without the sigma^2 of q_sigma, plus a shift)
    matrix<double> c = xt;
    c.colwise() -= tc.mu;
    matrix<double> wrong = -tc.Sigma.inverse() * c;
    wrong.array() += 0.2;
    objectives::loss_and_gradient<B>(obj, view(wrong), view(z), view(g1));
    const mean_se mw = row_mean_se(double(N) * g1);
    CHECK((mw.mean.array().abs() / mw.se.array()).maxCoeff() > 10);
}

TEST_CASE_TEMPLATE("objectives::dsm: bad inputs raise hosm::error", B, HOSM_TEST_BACKENDS) {
    const index_t D = 3, N = 4;
    matrix<double> s1 = matrix<double>::Ones(D, N), z = matrix<double>::Ones(D, N), g1(D, N);
    const objectives::dsm<double> obj(0.1);
    CHECK_THROWS_WITH_AS(objectives::dsm<double>(0.0), doctest::Contains("'sigma'"), hosm::error);
    CHECK_THROWS_WITH_AS(objectives::dsm<double>(-1.0), doctest::Contains("-1"), hosm::error);
    CHECK_THROWS_AS(objectives::dsm<double>(std::numeric_limits<double>::quiet_NaN()), hosm::error);

    matrix<double> z_short(D, N - 1);
    z_short.setOnes();
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(s1), view(z_short)),
                         doctest::Contains("'z'"), hosm::error);
    matrix<double> z_tall = matrix<double>::Ones(D + 1, N);
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(s1), view(z_tall)),
                         doctest::Contains("dimension mismatch"), hosm::error);
    matrix<double> g_bad(D, N + 1);
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient<B>(obj, view(s1), view(z), view(g_bad)),
                         doctest::Contains("'g1'"), hosm::error);
    const matrix<double> empty(D, 0);
    CHECK_THROWS_AS(objectives::loss<B>(obj, view(empty), view(empty)), hosm::error);

    // a gradient written over the model output would be silent garbage
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient<B>(obj, view(s1), view(z), view(s1)),
                         doctest::Contains("must not alias"), hosm::error);
    z(1, 2) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(s1), view(z)), doctest::Contains("'z'"),
                         hosm::error);
    z(1, 2) = 1.0;
    s1(0, 3) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient<B>(obj, view(s1), view(z), view(g1)),
                         doctest::Contains("'s1'"), hosm::error);
}
