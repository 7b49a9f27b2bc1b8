// Tests of hosm/objectives/dsm_vr.hpp on the cpp and omp back ends:
//  - the loss equals a dense evaluation of
//    (1/N) sum_j [(|s+|^2 + |s-|^2)/4 + z.(s+ - s-)/(2 sigma)] (1e-13 relative),
//    with and without the clean evaluation;
//  - the exact identity L_VR = (L_DSM(s+, z) + L_DSM(s-, -z))/2 - mean |z|^2/(2 sigma^2)
//    (1e-12 relative), and unbiasedness E[L_VR] + offset(D) = E[L_DSM] by Monte
//    Carlo for a nonlinear model (within 4 standard errors of 100 batch means);
//  - gradients equal central differences (h = 1e-6, 1e-6 relative), dL/ds_clean = 0;
//  - seed 000 Fig. 1: at sigma = 1e-3 on 2-d N(0, I) with the exact score, the
//    variance of the loss is > 100 times smaller than plain DSM's (it is ~1e12 x);
//  - bad inputs raise hosm::error naming the argument.
#include "support/backends.hpp"
#include "objectives/denoising_support.hpp"

#include <cmath>
#include <limits>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/dsm_vr.hpp>

using namespace hosm;
using namespace objtest;

namespace {

double dense_dsm_vr(const matrix<double>& sp, const matrix<double>& sm, const matrix<double>& z,
                    double sigma) {
    const double n = double(sp.cols());
    return (0.25 * (sp.squaredNorm() + sm.squaredNorm()) +
            (z.array() * (sp - sm).array()).sum() / (2 * sigma)) /
           n;
}

/// A smooth nonlinear "model": s(y) = tanh(W y + b) (column-wise).
struct toy_model {
    matrix<double> W;
    vector<double> b;
    matrix<double> operator()(const matrix<double>& y) const {
        matrix<double> a = W * y;
        a.colwise() += b;
        return a.array().tanh().matrix();
    }
};

}  // namespace

TEST_CASE_TEMPLATE("objectives::dsm_vr: loss equals the dense formula", B, HOSM_TEST_BACKENDS) {
    rng_t g(21);
    const index_t D = 4, N = 6;
    const double sigma = 0.4;
    const matrix<double> sp = randn(D, N, g), sm = randn(D, N, g), s0 = randn(D, N, g),
                         z = randn(D, N, g);
    const objectives::dsm_vr<double> obj(sigma);
    const double ref = dense_dsm_vr(sp, sm, z, sigma);
    CHECK(objectives::loss<B>(obj, view(sp), view(sm), view(z)) ==
          doctest::Approx(ref).epsilon(1e-13));
    CHECK(objectives::loss<B>(obj, view(sp), view(sm), view(s0), view(z)) ==
          doctest::Approx(ref).epsilon(1e-13));
    CHECK(obj.offset(D) == doctest::Approx(D / (2 * sigma * sigma)).epsilon(1e-15));

    // the identity with plain DSM: L_VR = (L(s+, z) + L(s-, -z))/2 - mean|z|^2/(2 sigma^2)
    const objectives::dsm<double> plain(sigma);
    const matrix<double> mz = -z;
    const double identity = 0.5 * (objectives::loss<B>(plain, view(sp), view(z)) +
                                   objectives::loss<B>(plain, view(sm), view(mz))) -
                            z.squaredNorm() / (2 * sigma * sigma) / double(N);
    CHECK(objectives::loss<B>(obj, view(sp), view(sm), view(z)) ==
          doctest::Approx(identity).epsilon(1e-12));
}

TEST_CASE_TEMPLATE("objectives::dsm_vr: gradients match central differences", B,
                   HOSM_TEST_BACKENDS) {
    rng_t g(22);
    const index_t D = 3, N = 3;
    matrix<double> sp = randn(D, N, g), sm = randn(D, N, g), s0 = randn(D, N, g);
    const matrix<double> z = randn(D, N, g);
    const objectives::dsm_vr<double> obj(0.6);
    matrix<double> gp(D, N), gm(D, N), g0 = matrix<double>::Constant(D, N, 7.0);
    const double l = objectives::loss_and_gradient<B>(obj, view(sp), view(sm), view(s0), view(z),
                                                      view(gp), view(gm), view(g0));
    CHECK(l == doctest::Approx(dense_dsm_vr(sp, sm, z, 0.6)).epsilon(1e-13));
    CHECK(g0.isZero(0.0));  // the control variate cancels on the antithetic pair
    auto f = [&] { return objectives::loss<B>(obj, view(sp), view(sm), view(z)); };
    fd_check(f, sp.data(), sp.size(), gp.data(), "s1_plus");
    fd_check(f, sm.data(), sm.size(), gm.data(), "s1_minus");
    // the two-evaluation overload gives the same gradients
    matrix<double> gp2(D, N), gm2(D, N);
    objectives::loss_and_gradient<B>(obj, view(sp), view(sm), view(z), view(gp2), view(gm2));
    CHECK(gp2 == gp);
    CHECK(gm2 == gm);
}

TEST_CASE_TEMPLATE("objectives::dsm_vr: unbiased for L_DSM up to offset(D)", B,
                   HOSM_TEST_BACKENDS) {
    rng_t g(23);
    const index_t D = 3, n = 200, M = 100;
    const double sigma = 0.5;
    const toy_model model{randn(D, D, g), randn(D, 1, g)};
    const objectives::dsm<double> plain(sigma);
    const objectives::dsm_vr<double> vr(sigma);
    matrix<double> diff(1, M);
    for (index_t m = 0; m < M; ++m) {
        const matrix<double> x = randn(D, n, g), z = randn(D, n, g);
        const matrix<double> sp = model(x + sigma * z), sm = model(x - sigma * z);
        diff(0, m) = objectives::loss<B>(vr, view(sp), view(sm), view(z)) + vr.offset(D) -
                     objectives::loss<B>(plain, view(sp), view(z));
    }
    const mean_se ms = row_mean_se(diff);
    INFO("E[L_VR] + offset - E[L_DSM] = ", ms.mean(0), " +- ", ms.se(0));
    CHECK(std::abs(ms.mean(0)) < 4 * ms.se(0));
    CHECK(ms.se(0) > 0);
}

TEST_CASE_TEMPLATE("objectives::dsm_vr: much smaller variance than DSM at sigma = 1e-3 (Fig. 1)", B,
                   HOSM_TEST_BACKENDS) {
    rng_t g(24);
    const index_t D = 2, n = 20, M = 200;
    const double sigma = 1e-3, c = 1.0 / (1.0 + sigma * sigma);  // q_sigma = N(0, (1 + sigma^2) I)
    const objectives::dsm<double> plain(sigma);
    const objectives::dsm_vr<double> vr(sigma);
    matrix<double> lp(1, M), lv(1, M);
    for (index_t m = 0; m < M; ++m) {
        const matrix<double> x = randn(D, n, g), z = randn(D, n, g);
        const matrix<double> sp = -c * (x + sigma * z), sm = -c * (x - sigma * z), s0 = -c * x;
        lp(0, m) = objectives::loss<B>(plain, view(sp), view(z));
        lv(0, m) = objectives::loss<B>(vr, view(sp), view(sm), view(s0), view(z));
    }
    const double vp = row_mean_se(lp).se(0), vv = row_mean_se(lv).se(0);
    const double ratio = (vp * vp) / (vv * vv);
    INFO("Var(L_DSM) / Var(L_DSM-VR) = ", ratio);
    CHECK(ratio > 100);
}

TEST_CASE_TEMPLATE("objectives::dsm_vr: bad inputs raise hosm::error", B, HOSM_TEST_BACKENDS) {
    const index_t D = 2, N = 3;
    matrix<double> sp = matrix<double>::Ones(D, N), sm = sp, s0 = sp, z = sp, gp(D, N), gm(D, N),
                   g0(D, N);
    const objectives::dsm_vr<double> obj(0.1);
    CHECK_THROWS_WITH_AS(objectives::dsm_vr<double>(-0.5), doctest::Contains("'sigma'"),
                         hosm::error);
    const matrix<double> bad = matrix<double>::Ones(D, N + 1);
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(sp), view(bad), view(z)),
                         doctest::Contains("'s1_minus'"), hosm::error);
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(sp), view(sm), view(bad), view(z)),
                         doctest::Contains("'s1_clean'"), hosm::error);
    matrix<double> gbad(D + 1, N);
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient<B>(obj, view(sp), view(sm), view(s0),
                                                          view(z), view(gp), view(gm), view(gbad)),
                         doctest::Contains("'g1_clean'"), hosm::error);
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient<B>(obj, view(sp), view(sm), view(s0),
                                                          view(z), view(gp), view(gp), view(g0)),
                         doctest::Contains("own storage"), hosm::error);
    CHECK_THROWS_WITH_AS(
        objectives::loss_and_gradient<B>(obj, view(sp), view(sm), view(z), view(gp), view(sm)),
        doctest::Contains("'s1_minus'"), hosm::error);
    z(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(sp), view(sm), view(z)),
                         doctest::Contains("'z'"), hosm::error);
    z(0, 0) = 0.0;
    sm(1, 1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(sp), view(sm), view(z)),
                         doctest::Contains("'s1_minus'"), hosm::error);
}
