// Tests of hosm/diagnostics/score_error.hpp: mean squared errors of s1 and s2
// estimates, checked against hand computations (exact to rounding, 1e-12),
// against a 2-d Gaussian whose precision is known in closed form, chunking
// that must not change the result, and the error messages of bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "support/backends.hpp"
#include "support/errors.hpp"

#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/diagnostics/score_error.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/gaussian.hpp>

using namespace hosm;

namespace {
using hosm_test::message_of;
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

/// N(0, [[2, 1], [1, 2]]): P = (1/3) [[2, -1], [-1, 2]], s2 = -P.
template <class T, class B>
targets::gaussian<T, B> small_gaussian() {
    matrix<T> S(2, 2);
    S << 2, 1, 1, 2;
    return targets::gaussian<T, B>(vector<T>::Zero(2), S);
}
}  // namespace

TEST_CASE_TEMPLATE("diagnostics/score_error: score_mse by hand", B, HOSM_TEST_BACKENDS) {
    // samples (1, 3), (2, 4) against (0, 1), (2, 1): squared errors 1 + 4 = 5 and 0 + 9 = 9
    hosm::batch<double, B> est(2, 2), exact(2, 2);
    est.storage()[0] = 1; est.storage()[1] = 3; est.storage()[2] = 2; est.storage()[3] = 4;
    exact.storage()[0] = 0; exact.storage()[1] = 1; exact.storage()[2] = 2; exact.storage()[3] = 1;
    CHECK(diagnostics::score_mse<B>(est.view(), exact.view()) == doctest::Approx(7.0).epsilon(1e-14));
    CHECK(diagnostics::score_mse<B>(exact.view(), exact.view()) == 0.0);
}

TEST_CASE_TEMPLATE("diagnostics/score_error: hessian_mse across structures by hand", B,
                   HOSM_TEST_BACKENDS) {
    using H_lr = hessian::batch<hessian::low_rank<1>, double, B>;
    using H_full = hessian::batch<hessian::full, double, B>;
    using H_diag = hessian::batch<hessian::diagonal, double, B>;
    // low rank: alpha = (1, 2), B = (1, 1)^T -> [[2, 1], [1, 3]]; against I the error
    // matrix is [[1, 1], [1, 2]]: squared Frobenius 1 + 1 + 1 + 4 = 7, diagonal 1 + 4 = 5.
    H_lr lr(2, 1);
    {
        vector<double> a(2);
        a << 1, 2;
        matrix<double> b(2, 1);
        b << 1, 1;
        lr.set_sample(0, a, b);
    }
    H_full eye(2, 1);
    eye.set_sample(0, matrix<double>::Identity(2, 2));
    CHECK(diagnostics::hessian_mse(lr, eye) == doctest::Approx(7.0).epsilon(1e-14));
    CHECK(diagnostics::hessian_mse(eye, lr) == doctest::Approx(7.0).epsilon(1e-14));
    CHECK(diagnostics::hessian_diagonal_mse(lr, eye) == doctest::Approx(5.0).epsilon(1e-14));

    // diagonal (1, -1) against the NON-symmetric [[0, 2], [3, 0]] (e.g. a learned
    // Jacobian, compared entry by entry): [[1, -2], [-3, -1]] -> 1 + 4 + 9 + 1 = 15;
    // diagonals only: 1 + 1 = 2. Two samples, the second exact (error 0): means 7.5 and 1.
    H_diag d(2, 2);
    {
        matrix<double> dd(2, 2);
        dd << 1, 5, -1, 7;  // columns: sample 0 = (1, -1), sample 1 = (5, 7)
        d.set_diagonals(dd);
    }
    H_full J(2, 2);
    {
        matrix<double> j0(2, 2), j1(2, 2);
        j0 << 0, 2, 3, 0;
        j1 << 5, 0, 0, 7;
        J.set_sample(0, j0);
        J.set_sample(1, j1);
    }
    CHECK(diagnostics::hessian_mse(d, J) == doctest::Approx(7.5).epsilon(1e-14));
    CHECK(diagnostics::hessian_diagonal_mse(d, J) == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(diagnostics::hessian_mse(d, d) == 0.0);
    CHECK(diagnostics::hessian_mse(lr, lr) == 0.0);
}

TEST_CASE("diagnostics/score_error: low rank against dense equals the entry-wise sum") {
    // random low-rank (D = 7, R = 3) against a random NON-symmetric dense matrix:
    // the Gram-identity path must equal the plain sum over the D^2 entries of
    // the dense difference (computed here with Eigen).
    using B = backend::cpp;
    const index_t D = 7, R = 3, N = 4;
    const random::stream st{11, 5};
    hessian::batch<hessian::low_rank<dynamic>, double, B> L(D, N, R);
    hessian::batch<hessian::full, double, B> G(D, N);
    double ref = 0;
    for (index_t j = 0; j < N; ++j) {
        vector<double> a(D);
        matrix<double> b(D, R), g(D, D);
        for (index_t i = 0; i < D; ++i) a(i) = st.normal<double>(j, static_cast<std::uint32_t>(i));
        for (index_t i = 0; i < D * R; ++i) b.data()[i] = st.normal<double>(j, static_cast<std::uint32_t>(100 + i));
        for (index_t i = 0; i < D * D; ++i) g.data()[i] = st.normal<double>(j, static_cast<std::uint32_t>(200 + i));
        L.set_sample(j, a, b);
        G.set_sample(j, g);
        ref += (L.dense(j) - g).squaredNorm();
    }
    ref /= N;
    CHECK(diagnostics::hessian_mse(L, G) == doctest::Approx(ref).epsilon(1e-12));
    CHECK(diagnostics::hessian_mse(G, L) == doctest::Approx(ref).epsilon(1e-12));
    CHECK(diagnostics::hessian_mse(L, L) == doctest::Approx(0.0).epsilon(1e-20));
}

TEST_CASE_TEMPLATE("diagnostics/score_error: against a Gaussian target, any chunk", B,
                   HOSM_TEST_BACKENDS) {
    const auto g = small_gaussian<double, B>();
    // three points; s1* = -P x. A zero estimate has errors ||P x||^2 for s1,
    // ||P||_F^2 = (4 + 1 + 1 + 4) / 9 = 10/9 for s2 and (4 + 4) / 9 = 8/9 for its diagonal.
    matrix<double> xh(2, 3);
    xh << 1, 0, 3, 0, 1, -3;  // columns (1, 0), (0, 1), (3, -3)
    const hosm::batch<double, B> x(xh);
    const hosm::batch<double, B> zero(2, 3);
    // ||P (1,0)||^2 = 5/9, ||P (0,1)||^2 = 5/9, P (3,-3) = (3, -3) -> 18
    CHECK(diagnostics::score_mse(g, x.view(), zero.view()) ==
          doctest::Approx((5.0 / 9 + 5.0 / 9 + 18.0) / 3).epsilon(1e-12));

    hessian::batch<hessian::diagonal, double, B> hz(2, 3);
    hessian::batch<hessian::full, double, B> fz(2, 3);
    for (index_t chunk : {1, 2, 3, 256}) {
        CAPTURE(chunk);
        CHECK(diagnostics::hessian_mse(g, x.view(), hz, chunk) == doctest::Approx(10.0 / 9).epsilon(1e-12));
        CHECK(diagnostics::hessian_mse(g, x.view(), fz, chunk) == doctest::Approx(10.0 / 9).epsilon(1e-12));
        CHECK(diagnostics::hessian_diagonal_mse(g, x.view(), fz, chunk) ==
              doctest::Approx(8.0 / 9).epsilon(1e-12));
    }
    // the exact -P has error 0 (to rounding); the smoothed target's Hessian
    // -(Sigma + s^2 I)^-1 differs from it by a known amount
    hessian::batch<hessian::full, double, B> exact(2, 3);
    g.hessian(x.view(), exact);
    CHECK(diagnostics::hessian_mse(g, x.view(), exact) == doctest::Approx(0.0).epsilon(1e-24));
    const double s = 0.5;
    matrix<double> Ss(2, 2);
    Ss << 2 + s * s, 1, 1, 2 + s * s;
    const matrix<double> dP = matrix<double>(Ss.inverse()) - matrix<double>(small_gaussian<double, B>().precision());
    CHECK(diagnostics::hessian_mse(g.smoothed(s), x.view(), exact) ==
          doctest::Approx(dP.squaredNorm()).epsilon(1e-12));
}

TEST_CASE("diagnostics/score_error: the model overload equals forward + hessian_mse") {
    using B = backend::cpp;
    const auto g = small_gaussian<double, B>();
    models::mlp_score<double, hessian::low_rank<1>> m({.dim = 2, .width = 8}, random::stream{3, 0});
    matrix<double> xh(2, 5);
    xh << 0.1, -1, 2, 0.5, -0.3, 0.7, 0.2, -1.5, 1, 0.4;
    const hosm::batch<double, B> x(xh);
    hosm::batch<double, B> s1(2, 5);
    auto s2 = m.make_s2(5);
    m.forward(x.view(), s1.view(), s2);
    const double ref = diagnostics::hessian_mse(g, x.view(), s2);
    CHECK(ref > 0.0);
    CHECK(diagnostics::hessian_mse(m, g, x.view()) == doctest::Approx(ref).epsilon(1e-12));
    CHECK(diagnostics::hessian_mse(m, g, x.view(), 2) == doctest::Approx(ref).epsilon(1e-12));
}

TEST_CASE("diagnostics/score_error: bad input is a hosm::error naming the argument") {
    using B = backend::cpp;
    const auto g = small_gaussian<double, B>();
    hosm::batch<double, B> a(2, 3), b3(3, 3), b2(2, 2), x(2, 3);
    CHECK(contains(message_of([&] { (void)diagnostics::score_mse<B>(a.view(), b3.view()); }), "s1_exact.dim"));
    CHECK(contains(message_of([&] { (void)diagnostics::score_mse<B>(a.view(), b2.view()); }), "s1_exact.count"));
    hosm::batch<double, B> e(2, 0);
    CHECK(contains(message_of([&] { (void)diagnostics::score_mse<B>(e.view(), e.view()); }), "number of samples"));
    hosm::batch<double, B> bad(2, 3);
    bad.storage()[4] = std::numeric_limits<double>::quiet_NaN();
    {
        const std::string m = message_of([&] { (void)diagnostics::score_mse<B>(bad.view(), a.view()); });
        CHECK(contains(m, "s1_est"));
        CHECK(contains(m, "sample 2"));
    }
    CHECK(contains(message_of([&] { (void)diagnostics::score_mse(g, b3.view(), b3.view()); }), "x.dim"));

    hessian::batch<hessian::full, double, B> f2(2, 3), f3(3, 3), f2n(2, 2);
    hessian::batch<hessian::diagonal, double, B> d2(2, 3);
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(f2, f3); }), "H_exact.dim"));
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(f2, f2n); }), "H_exact.count"));
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_diagonal_mse(d2, f2n); }), "H_exact.count"));
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(g, x.view(), f2n); }), "H_est.count"));
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(g, x.view(), f3); }), "H_est.dim"));
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(g, x.view(), f2, 0); }), "chunk"));
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(g, b3.view(), f3); }), "x.dim"));
    f2.data()[5] = std::numeric_limits<double>::infinity();
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(f2, f2); }), "H_est"));
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(g, x.view(), f2); }), "H_est"));
    x.storage()[0] = std::numeric_limits<double>::quiet_NaN();
    CHECK(contains(message_of([&] { (void)diagnostics::hessian_mse(g, x.view(), d2); }), "'x'"));
}
