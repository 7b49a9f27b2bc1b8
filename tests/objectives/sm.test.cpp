#include "support/backends.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <limits>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/objectives/sm.hpp>
#include <hosm/objectives/ssm.hpp>

using namespace hosm;
using hosm::models::activation;
using hosm::models::energy_mlp;

TEST_CASE("objectives/sm: Hyvarinen's loss from a score and its Jacobian, Eq. (1)") {
    // Gaussian N(mu, A^-1): s = -A (x - mu), J = -A, l = -tr A + |s|^2 / 2 (closed form, 1e-14),
    // from the (D D) x N Jacobian batch, a hessian::batch<full> and a hessian::batch<diagonal>.
    const index_t D = 3, N = 5;
    matrix<double> L = matrix<double>::Random(D, D);
    const matrix<double> A = L * L.transpose() + matrix<double>::Identity(D, D);
    const vector<double> mu = vector<double>::Random(D);
    const matrix<double> x = matrix<double>::Random(D, N), s = -A * (x.colwise() - mu);
    double ref = 0;
    for (index_t j = 0; j < N; ++j) ref += (-A.trace() + s.col(j).squaredNorm() / 2) / N;
    matrix<double> J(D * D, N);
    hessian::batch<hessian::full, double> Hf(D, N);
    hessian::batch<hessian::diagonal, double> Hd(D, N);
    for (index_t j = 0; j < N; ++j) {
        J.col(j) = (-A).reshaped();
        Hf.set_sample(j, -A);
    }
    Hd.set_diagonals((-A.diagonal()).replicate(1, N));
    const objectives::sm<double> obj;
    CHECK(objectives::loss(obj, view(s), view(J)) == doctest::Approx(ref).epsilon(1e-14));
    CHECK(objectives::loss(obj, view(s), Hf) == doctest::Approx(ref).epsilon(1e-14));
    CHECK(objectives::loss(obj, view(s), Hd) == doctest::Approx(ref).epsilon(1e-14));
}

TEST_CASE_TEMPLATE("objectives/sm: value for score networks that give their Jacobian", B, HOSM_TEST_BACKENDS) {
    // models::mlp (D -> D, its jacobian) and models::mlp_score (jacobian_s1, full and
    // diagonal): the loss equals the trace and squared norm formed here from the same
    // outputs (1e-13).
    const index_t D = 3, N = 4;
    const matrix<double> x = matrix<double>::Random(D, N);
    models::mlp<double, B> net({D, 8, D}, activation::tanh, random::stream{4, 1});
    matrix<double> s(D, N), J(D * D, N);
    net.forward(view(x), view(s));
    net.jacobian(view(x), view(J));
    double ref = 0;
    for (index_t j = 0; j < N; ++j) {
        const Eigen::Map<const matrix<double>> Jj(J.col(j).data(), D, D);
        ref += (Jj.trace() + s.col(j).squaredNorm() / 2) / N;
    }
    const objectives::sm<double> obj;
    CHECK(objectives::loss<B>(obj, view(s), view(J)) == doctest::Approx(ref).epsilon(1e-13));

    models::mlp_score<double, hessian::diagonal, B> ms({.dim = D, .width = 8, .depth = 2}, random::stream{5, 5});
    hessian::batch<hessian::full, double, B> Jf(D, N);
    hessian::batch<hessian::diagonal, double, B> Jd(D, N);
    matrix<double> s1(D, N);
    ms.forward_s1(view(x), view(s1));
    ms.jacobian_s1(view(x), Jf);
    ms.jacobian_s1(view(x), Jd);
    double ref2 = 0;
    for (index_t j = 0; j < N; ++j) ref2 += (Jf.dense(j).trace() + s1.col(j).squaredNorm() / 2) / N;
    CHECK(objectives::loss(obj, view(s1), Jf) == doctest::Approx(ref2).epsilon(1e-13));
    CHECK(objectives::loss(obj, view(s1), Jd) == doctest::Approx(ref2).epsilon(1e-13));
}

TEST_CASE_TEMPLATE("objectives/sm: exact SM of an energy MLP, value and parameter gradient", B,
                   HOSM_TEST_BACKENDS) {
    // value: the Jacobian form with s = score and J = s2 = -Hessian (exact, 1e-13), and
    // D times the mean of the exact SSM over the coordinate directions (1e-13);
    // gradient: central differences in theta (h = 1e-5: tolerance 1e-6 relative to
    // max(|g_k|, 0.01 max|g|) + 1e-10).
    const index_t D = 3, N = 4;
    energy_mlp<double, B> m(D, {6, 6}, activation::softplus, random::stream{12, 0});
    const matrix<double> x = matrix<double>::Random(D, N);
    matrix<double> s(D, N);
    hessian::batch<hessian::full, double, B> H(D, N);
    m.score(view(x), view(s));
    m.hessian(view(x), H);
    const objectives::sm<double> obj;
    const double l = objectives::loss(obj, m, view(x));
    CHECK(l == doctest::Approx(objectives::loss(obj, view(s), H)).epsilon(1e-13));
    double via_ssm = 0;
    for (index_t k = 0; k < D; ++k) {
        const matrix<double> ek = matrix<double>::Identity(D, D).col(k).replicate(1, N);
        via_ssm += objectives::loss(objectives::ssm<double>(), m, view(x), view(ek));
    }
    CHECK(l == doctest::Approx(via_ssm).epsilon(1e-13));

    m.zero_gradients();
    CHECK(objectives::loss_and_gradient(obj, m, view(x)) == doctest::Approx(l).epsilon(1e-14));
    double* p = thrust::raw_pointer_cast(m.parameters().data());
    const auto g = m.gradients();
    double gmax = 0;
    for (double v : g) gmax = std::max(gmax, std::abs(v));
    REQUIRE(gmax > 0);
    // cpp checks every parameter; omp every 5th (same per-sample code; keeps the test fast)
    const std::size_t stride = std::is_same_v<B, backend::cpp> ? 1 : 5;
    for (std::size_t k = 0; k < g.size(); k += stride) {
        const double keep = p[k], h = 1e-5;
        p[k] = keep + h;
        const double fp = objectives::loss(obj, m, view(x));
        p[k] = keep - h;
        const double fm = objectives::loss(obj, m, view(x));
        p[k] = keep;
        CAPTURE(k);
        CHECK(std::abs((fp - fm) / (2 * h) - g[k]) <= 1e-6 * std::max(std::abs(g[k]), 1e-2 * gmax) + 1e-10);
    }
}

TEST_CASE("objectives/sm: energy MLP in several chunks of directions") {
    // N D = 2000 x 3 columns exceed one chunk (4096): K = 2 directions per chunk. The
    // gradient is the sum over k of the SSM gradients along u = e_k (1e-11 relative).
    const index_t D = 3, N = 2000;
    energy_mlp<double> m(D, {5}, activation::tanh, random::stream{7, 7});
    const matrix<double> x = matrix<double>::Random(D, N);
    m.zero_gradients();
    const double l = objectives::loss_and_gradient(objectives::sm<double>(), m, view(x));
    const auto g = m.gradients();
    m.zero_gradients();
    double via_ssm = 0;
    for (index_t k = 0; k < D; ++k) {
        const matrix<double> ek = matrix<double>::Identity(D, D).col(k).replicate(1, N);
        via_ssm += objectives::loss_and_gradient(objectives::ssm<double>(), m, view(x), view(ek));
    }
    CHECK(l == doctest::Approx(via_ssm).epsilon(1e-12));
    double gmax = 0, dmax = 0;
    for (std::size_t k = 0; k < g.size(); ++k) {
        gmax = std::max(gmax, std::abs(g[k]));
        dmax = std::max(dmax, std::abs(g[k] - m.gradients()[k]));
    }
    CHECK(dmax <= 1e-11 * gmax);
}

TEST_CASE("objectives/sm: bad input raises hosm::error") {
    const objectives::sm<double> obj;
    matrix<double> s = matrix<double>::Random(3, 4), J = matrix<double>::Random(9, 4), J8 = matrix<double>::Random(8, 4),
                   empty(3, 0), empty_j(9, 0);
    CHECK_THROWS_AS(objectives::loss(obj, view(s), view(J8)), hosm::error);
    CHECK_THROWS_AS(objectives::loss(obj, view(empty), view(empty_j)), hosm::error);
    hessian::batch<hessian::full, double> H(3, 5);
    CHECK_THROWS_AS(objectives::loss(obj, view(s), H), hosm::error);
    hessian::batch<hessian::diagonal, double> Hd(2, 4);
    CHECK_THROWS_AS(objectives::loss(obj, view(s), Hd), hosm::error);
    matrix<double> bad = s;
    bad(1, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(objectives::loss(obj, view(bad), view(J)), hosm::error);
    matrix<double> Jbad = J;
    Jbad(4, 0) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(objectives::loss(obj, view(s), view(Jbad)), hosm::error);
    energy_mlp<double> m(2, {4});
    CHECK_THROWS_AS(objectives::loss(obj, m, view(s)), hosm::error);  // 3-d data, 2-d model
    matrix<double> x = matrix<double>::Random(2, 3);
    x(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, m, view(x)), hosm::error);
}
