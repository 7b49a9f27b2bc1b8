// Tests of hosm/objectives/multiscale.hpp (NCSN, seed 001, lambda(sigma) = sigma^2)
// on the cpp and omp back ends:
//  - the loss equals a dense evaluation of (1/N) sum_j (1/2)||sigma_j s1_j + z_j||^2
//    with random per-sample levels (1e-13 relative); a one-level table gives
//    sigma^2 times objectives::dsm (1e-13);
//  - the gradient equals sigma_j (sigma_j s1_j + z_j)/N and central differences
//    (h = 1e-6, 1e-6 relative); perturb gives x + sigma_{level} z exactly;
//  - at the exact noisy scores of a Gaussian (each sample at its own level) the
//    mean gradient is 0 within 4 standard errors (20000 samples), and a wrong
//    score is detected at > 10 standard errors;
//  - bad inputs (levels outside [0, L), non-positive sigmas, shapes, non-finite
//    data) raise hosm::error naming the argument.
#include "support/backends.hpp"
#include "objectives/denoising_support.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/noise/schedule.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/multiscale.hpp>

using namespace hosm;
using namespace objtest;

namespace {

using index_matrix = Eigen::Matrix<index_t, Eigen::Dynamic, Eigen::Dynamic>;

batch_view<const index_t> view_levels(const index_matrix& m) {
    return {m.data(), static_cast<index_t>(m.rows()), static_cast<index_t>(m.cols())};
}

index_matrix random_levels(index_t N, index_t L, rng_t& g) {
    std::uniform_int_distribution<index_t> u(0, L - 1);
    index_matrix m(1, N);
    for (index_t j = 0; j < N; ++j) m(0, j) = u(g);
    return m;
}

}  // namespace

TEST_CASE_TEMPLATE("objectives::multiscale: loss, gradient and perturb", B, HOSM_TEST_BACKENDS) {
    rng_t g(61);
    const index_t D = 3, N = 8, L = 5;
    const noise::schedule<double> sched(1.0, 0.01, L);
    const objectives::multiscale<double, B> obj(sched);
    REQUIRE(obj.levels() == L);
    CHECK(obj.sigma(0) == 1.0);
    CHECK(obj.sigma(L - 1) == 0.01);

    matrix<double> s1 = randn(D, N, g);
    const matrix<double> z = randn(D, N, g), x = randn(D, N, g);
    const index_matrix lev = random_levels(N, L, g);
    double ref = 0;
    matrix<double> gref(D, N);
    for (index_t j = 0; j < N; ++j) {
        const double s = sched[lev(0, j)];
        ref += 0.5 * (s * s1.col(j) + z.col(j)).squaredNorm();
        gref.col(j) = s * (s * s1.col(j) + z.col(j)) / double(N);
    }
    ref /= double(N);
    CHECK(objectives::loss(obj, view(s1), view(z), view_levels(lev)) ==
          doctest::Approx(ref).epsilon(1e-13));
    matrix<double> g1(D, N);
    CHECK(objectives::loss_and_gradient<B>(obj, view(s1), view(z), view_levels(lev), view(g1)) ==
          doctest::Approx(ref).epsilon(1e-13));
    CHECK((g1 - gref).norm() <= 1e-14 * gref.norm());
    fd_check([&] { return objectives::loss(obj, view(s1), view(z), view_levels(lev)); }, s1.data(),
             s1.size(), g1.data(), "s1");

    matrix<double> xt(D, N);
    obj.perturb(view(x), view(z), view_levels(lev), view(xt));
    for (index_t j = 0; j < N; ++j)
        CHECK((xt.col(j) - (x.col(j) + sched[lev(0, j)] * z.col(j))).norm() == 0.0);

    // one level: sigma^2 times DSM
    const objectives::multiscale<double, B> one(std::vector<double>{0.3});
    const index_matrix zero = index_matrix::Zero(1, N);
    CHECK(
        objectives::loss(one, view(s1), view(z), view_levels(zero)) ==
        doctest::Approx(0.09 * objectives::loss<B>(objectives::dsm<double>(0.3), view(s1), view(z)))
            .epsilon(1e-13));
}

TEST_CASE_TEMPLATE("objectives::multiscale: exact noisy scores of a Gaussian are stationary", B,
                   HOSM_TEST_BACKENDS) {
    rng_t g(62);
    const index_t D = 2, N = 20000, L = 4;
    const noise::schedule<double> sched(2.0, 0.1, L);
    const objectives::multiscale<double, B> obj(sched);
    const matrix<double> A = randn(D, D, g, 0.6);
    const matrix<double> Sigma = A * A.transpose() + 0.3 * matrix<double>::Identity(D, D);
    const gaussian_case tc(randn(D, 1, g), Sigma, 1.0);
    const matrix<double> x = tc.sample(N, g), z = randn(D, N, g);
    const index_matrix lev = random_levels(N, L, g);
    matrix<double> xt(D, N), s1(D, N), g1(D, N);
    obj.perturb(view(x), view(z), view_levels(lev), view(xt));
    std::vector<matrix<double>> P(L);  // (Sigma + sigma_i^2 I)^{-1} per level
    for (index_t i = 0; i < L; ++i)
        P[i] = (Sigma + sched[i] * sched[i] * matrix<double>::Identity(D, D)).inverse();
    for (index_t j = 0; j < N; ++j) s1.col(j) = -P[lev(0, j)] * (xt.col(j) - tc.mu);
    objectives::loss_and_gradient(obj, view(s1), view(z), view_levels(lev), view(g1));
    const mean_se ms = row_mean_se(double(N) * g1);
    for (index_t i = 0; i < D; ++i) {
        INFO("coordinate ", i, ": mean ", ms.mean(i), ", standard error ", ms.se(i));
        CHECK(std::abs(ms.mean(i)) < 4 * ms.se(i));
    }
    // wrong: a score shifted by 0.3 (a wrong scale would not move the mean of a
    // gradient that is linear in the centred data)
    s1.array() += 0.3;
    objectives::loss_and_gradient(obj, view(s1), view(z), view_levels(lev), view(g1));
    const mean_se mw = row_mean_se(double(N) * g1);
    CHECK((mw.mean.array().abs() / mw.se.array()).maxCoeff() > 10);
}

TEST_CASE_TEMPLATE("objectives::multiscale: bad inputs raise hosm::error", B, HOSM_TEST_BACKENDS) {
    using ms = objectives::multiscale<double, B>;
    CHECK_THROWS_WITH_AS(ms(std::vector<double>{0.5, 0.0}), doctest::Contains("'sigma[1]'"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(ms(std::vector<double>{-1.0}), doctest::Contains("'sigma[0]'"),
                         hosm::error);
    CHECK_THROWS_AS(ms(std::vector<double>{}), hosm::error);
    const ms obj(std::vector<double>{1.0, 0.5, 0.25});
    CHECK_THROWS_AS(obj.sigma(3), hosm::error);

    const index_t D = 2, N = 3;
    matrix<double> s1 = matrix<double>::Ones(D, N), z = s1, x = s1, xt(D, N), g1(D, N);
    index_matrix lev(1, N);
    lev << 0, 2, 3;
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), view(z), view_levels(lev)),
                         doctest::Contains("'level'"), hosm::error);
    lev(0, 2) = -1;
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), view(z), view_levels(lev)),
                         doctest::Contains("-1"), hosm::error);
    CHECK_THROWS_WITH_AS(obj.perturb(view(x), view(z), view_levels(lev), view(xt)),
                         doctest::Contains("'level'"), hosm::error);
    lev(0, 2) = 1;
    const index_matrix lev_short = index_matrix::Zero(1, N - 1);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), view(z), view_levels(lev_short)),
                         doctest::Contains("'level'"), hosm::error);
    const matrix<double> z_bad = matrix<double>::Ones(D + 1, N);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), view(z_bad), view_levels(lev)),
                         doctest::Contains("'z'"), hosm::error);
    matrix<double> g_bad(D, N + 1);
    CHECK_THROWS_WITH_AS(
        objectives::loss_and_gradient(obj, view(s1), view(z), view_levels(lev), view(g_bad)),
        doctest::Contains("'g1'"), hosm::error);
    CHECK_THROWS_WITH_AS(
        objectives::loss_and_gradient(obj, view(s1), view(z), view_levels(lev), view(s1)),
        doctest::Contains("must not alias"), hosm::error);
    CHECK_THROWS_WITH_AS(obj.perturb(view(x), view(z), view_levels(lev), view(z)),
                         doctest::Contains("'z'"), hosm::error);
    x(1, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(obj.perturb(view(x), view(z), view_levels(lev), view(xt)),
                         doctest::Contains("'x'"), hosm::error);
    z(0, 1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), view(z), view_levels(lev)),
                         doctest::Contains("'z'"), hosm::error);
    z(0, 1) = 0.0;
    s1(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), view(z), view_levels(lev)),
                         doctest::Contains("'s1'"), hosm::error);
}
