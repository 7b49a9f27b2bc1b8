// Tests of hosm/objectives/kth_order.hpp (seed 000 Theorem 4, diagonal) on the
// cpp and omp back ends:
//  - for K = 3 and 4 the loss equals sum_i (x_i^K - m_K(i,...,i))^2 with m_K
//    from tweedie::posterior_moments on FULL random score tensors (off-diagonal
//    entries arbitrary): the diagonal moments need only the diagonal scores
//    (1e-12 relative);
//  - K = 1 with weighting::score is 2 x DSM; K = 2 matches the diagonal of
//    seed 000 Eq. (9) written out (1e-12 relative);
//  - the gradient in diag(s_K) equals -2 w sigma^(2K) (x^K - m_K)/N and central
//    differences (h = 1e-6, 1e-6 relative; both weightings);
//  - at the exact scores of a Gaussian (s3 = 0) the mean gradient in diag(s3) is
//    0 within 4 standard errors (20000 samples), a wrong s3 is detected (> 10);
//  - bad inputs raise hosm::error naming the argument.
#include "support/backends.hpp"
#include "objectives/denoising_support.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <tuple>

#include <xtensor/xtensor.hpp>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/kth_order.hpp>
#include <hosm/tweedie/moments.hpp>

using namespace hosm;
using namespace objtest;

namespace {

template <std::size_t R>
xt::xtensor<double, R> random_tensor(std::size_t D, rng_t& g) {
    std::array<std::size_t, R> shape;
    shape.fill(D);
    auto t = xt::xtensor<double, R>::from_shape(shape);
    std::normal_distribution<double> n(0.0, 1.0);
    for (auto& v : t) v = n(g);
    return t;
}

template <std::size_t R>
double diag_entry(const xt::xtensor<double, R>& t, std::size_t i) {
    std::array<std::size_t, R> idx;
    idx.fill(i);
    return t.element(idx.begin(), idx.end());
}

/// Loss of Theorem 4 on the diagonal, from full tensors through tweedie::posterior_moments.
template <std::size_t K, class B>
void check_against_tweedie() {
    rng_t g(70 + K);
    const index_t D = 3, N = 4;
    const double sigma = 0.6;
    const matrix<double> x = randn(D, N, g), z = randn(D, N, g);
    std::array<matrix<double>, K> diag;
    for (auto& d : diag) d.resize(D, N);
    double ref = 0;
    for (index_t j = 0; j < N; ++j) {
        xt::xtensor<double, 1> xt_ = xt::xtensor<double, 1>::from_shape({std::size_t(D)});
        for (index_t i = 0; i < D; ++i) xt_(i) = x(i, j) + sigma * z(i, j);
        auto scores = [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::make_tuple(random_tensor<I + 1>(D, g)...);
        }
        (std::make_index_sequence<K>{});
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((diag[I].col(j) =
                  [&] {
                      vector<double> v(D);
                      for (index_t i = 0; i < D; ++i) v(i) = diag_entry(std::get<I>(scores), i);
                      return v;
                  }()),
             ...);
        }
        (std::make_index_sequence<K>{});
        const auto m = std::apply(
            [&](const auto&... s) { return tweedie::posterior_moments<K>(xt_, sigma, s...); },
            scores);
        const auto& mK = std::get<K - 1>(m);
        for (index_t i = 0; i < D; ++i) {
            const double r = std::pow(x(i, j), double(K)) - diag_entry(mK, i);
            ref += r * r;
        }
    }
    ref /= double(N);
    const objectives::kth_order<int(K), double> obj(sigma);
    std::array<batch_view<const double>, K> views;
    for (std::size_t k = 0; k < K; ++k) views[k] = view(diag[k]);
    CHECK(objectives::loss<B>(obj, view(x), view(z), views) == doctest::Approx(ref).epsilon(1e-12));
}

}  // namespace

TEST_CASE_TEMPLATE("objectives::kth_order: diagonal moments match tweedie::posterior_moments", B,
                   HOSM_TEST_BACKENDS) {
    check_against_tweedie<3, B>();
    check_against_tweedie<4, B>();
}

TEST_CASE_TEMPLATE("objectives::kth_order: K = 1 is DSM, K = 2 is the diagonal of Eq. (9)", B,
                   HOSM_TEST_BACKENDS) {
    rng_t g(75);
    const index_t D = 4, N = 5;
    const double sigma = 0.3;
    const matrix<double> x = randn(D, N, g), z = randn(D, N, g), s1 = randn(D, N, g),
                         d2 = randn(D, N, g);
    using k1 = objectives::kth_order<1, double>;
    const k1 o1(sigma, k1::weighting::score);
    CHECK(o1.weight() == doctest::Approx(std::pow(sigma, -4)));
    CHECK(
        objectives::loss<B>(o1, view(x), view(z), {view(s1)}) ==
        doctest::Approx(2 * objectives::loss<B>(objectives::dsm<double>(sigma), view(s1), view(z)))
            .epsilon(1e-12));

    const objectives::kth_order<2, double> o2(sigma);
    const double v = sigma * sigma;
    const matrix<double> xt = x + sigma * z;
    const matrix<double> m2 = xt.array().square() + 2 * v * xt.array() * s1.array() +
                              v * v * d2.array() + v * v * s1.array().square() + v;
    const double ref = (x.array().square() - m2.array()).square().sum() / double(N);
    CHECK(objectives::loss<B>(o2, view(x), view(z), {view(s1), view(d2)}) ==
          doctest::Approx(ref).epsilon(1e-12));
}

TEST_CASE_TEMPLATE("objectives::kth_order: gradient in diag(s_K)", B, HOSM_TEST_BACKENDS) {
    rng_t g(76);
    const index_t D = 3, N = 3;
    const double sigma = 0.5;
    const matrix<double> x = randn(D, N, g), z = randn(D, N, g), s1 = randn(D, N, g),
                         d2 = randn(D, N, g);
    matrix<double> d3 = randn(D, N, g);
    using k3 = objectives::kth_order<3, double>;
    for (auto w : {k3::weighting::moment, k3::weighting::score}) {
        const k3 obj(sigma, w);
        matrix<double> gk(D, N);
        const double l = objectives::loss_and_gradient<B>(obj, view(x), view(z),
                                                          {view(s1), view(d2), view(d3)}, view(gk));
        // closed form
        const double v = sigma * sigma;
        const matrix<double> xt = x + sigma * z;
        const Eigen::ArrayXXd k1 = xt.array() + v * s1.array(), k2 = v * v * d2.array() + v,
                              k3v = v * v * v * d3.array();
        const Eigen::ArrayXXd m3 = k3v + 3 * k2 * k1 + k1.cube();  // 1-d moments from cumulants
        const Eigen::ArrayXXd r = x.array().cube() - m3;
        CHECK(l == doctest::Approx(obj.weight() * r.square().sum() / double(N)).epsilon(1e-12));
        const matrix<double> gref = (-2 * obj.weight() * v * v * v * r / double(N)).matrix();
        CHECK((gk - gref).norm() <= 1e-12 * gref.norm());
        fd_check(
            [&] {
                return objectives::loss<B>(obj, view(x), view(z), {view(s1), view(d2), view(d3)});
            },
            d3.data(), d3.size(), gk.data(), "diag s3");
    }
}

TEST_CASE_TEMPLATE("objectives::kth_order: exact scores of a Gaussian are stationary (K = 3)", B,
                   HOSM_TEST_BACKENDS) {
    rng_t g(77);
    const index_t D = 2, N = 20000;
    const double sigma = 0.7;
    const matrix<double> A = randn(D, D, g, 0.6);
    const gaussian_case tc(randn(D, 1, g, 0.5),
                           A * A.transpose() + 0.4 * matrix<double>::Identity(D, D), sigma);
    const matrix<double> x = tc.sample(N, g), z = randn(D, N, g);
    const matrix<double> s1 = tc.s1(x + sigma * z);
    matrix<double> d2(D, N), d3 = matrix<double>::Zero(D, N), gk(D, N);
    d2.colwise() = -tc.P.diagonal();
    using k3 = objectives::kth_order<3, double>;
    const k3 obj(sigma, k3::weighting::score);
    objectives::loss_and_gradient<B>(obj, view(x), view(z), {view(s1), view(d2), view(d3)},
                                     view(gk));
    const mean_se ms = row_mean_se(double(N) * gk);
    for (index_t i = 0; i < D; ++i) {
        INFO("coordinate ", i, ": mean ", ms.mean(i), ", standard error ", ms.se(i));
        CHECK(std::abs(ms.mean(i)) < 4 * ms.se(i));
    }
    d3.setConstant(3.0);  // the third score of a Gaussian is 0
    objectives::loss_and_gradient<B>(obj, view(x), view(z), {view(s1), view(d2), view(d3)},
                                     view(gk));
    const mean_se mw = row_mean_se(double(N) * gk);
    CHECK((mw.mean.array().abs() / mw.se.array()).maxCoeff() > 10);
}

TEST_CASE_TEMPLATE("objectives::kth_order: bad inputs raise hosm::error", B, HOSM_TEST_BACKENDS) {
    using k3 = objectives::kth_order<3, double>;
    CHECK_THROWS_WITH_AS(k3(0.0), doctest::Contains("'sigma'"), hosm::error);
    const index_t D = 2, N = 3;
    matrix<double> x = matrix<double>::Ones(D, N), z = x, s1 = x, d2 = x, d3 = x, gk(D, N);
    const k3 obj(0.2);
    const matrix<double> bad = matrix<double>::Ones(D, N + 1);
    CHECK_THROWS_WITH_AS(
        objectives::loss<B>(obj, view(x), view(z), {view(s1), view(bad), view(d3)}),
        doctest::Contains("scores[1]"), hosm::error);
    CHECK_THROWS_WITH_AS(
        objectives::loss<B>(obj, view(x), view(bad), {view(s1), view(d2), view(d3)}),
        doctest::Contains("'z'"), hosm::error);
    matrix<double> gbad(D + 1, N);
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient<B>(
                             obj, view(x), view(z), {view(s1), view(d2), view(d3)}, view(gbad)),
                         doctest::Contains("'gk'"), hosm::error);
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient<B>(obj, view(x), view(z),
                                                          {view(s1), view(d2), view(d3)}, view(d3)),
                         doctest::Contains("must not alias"), hosm::error);
    x(0, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(x), view(z), {view(s1), view(d2), view(d3)}),
                         doctest::Contains("'x'"), hosm::error);
    x(0, 1) = 1.0;
    z(1, 2) = -std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(x), view(z), {view(s1), view(d2), view(d3)}),
                         doctest::Contains("'z'"), hosm::error);
    z(1, 2) = 0.0;
    d3(1, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss<B>(obj, view(x), view(z), {view(s1), view(d2), view(d3)}),
                         doctest::Contains("scores[2]"), hosm::error);
}
