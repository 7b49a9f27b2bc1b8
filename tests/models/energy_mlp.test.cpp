#include "support/backends.hpp"

#include <cmath>
#include <type_traits>
#include <limits>
#include <string>
#include <vector>

#include <hosm/concepts/score_source.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/models/energy_mlp.hpp>

#include "models/mlp_reference.hpp"

using namespace hosm;
using namespace hosm::models;
using hosm_test::mlp_reference;

static_assert(concepts::ScoreSource<energy_mlp<double>, double, backend::cpp>);
static_assert(concepts::DensitySource<energy_mlp<double>, double, backend::cpp>);
static_assert(concepts::HessianSource<energy_mlp<double>, double, backend::cpp, hessian::full>);
static_assert(concepts::HessianSource<energy_mlp<float>, float, backend::cpp, hessian::diagonal>);

namespace {

constexpr index_t D = 3, N = 5;

template <class M>
double* params(M& m) { return thrust::raw_pointer_cast(m.parameters().data()); }

/// Max over the entries of |a - b| / (1 + |b|).
double rel_err(const matrix<double>& a, const matrix<double>& b) {
    return ((a - b).array().abs() / (1.0 + b.array().abs())).maxCoeff();
}

}  // namespace

TEST_CASE_TEMPLATE("models/energy_mlp: energy, log density and score against references", B,
                   HOSM_TEST_BACKENDS) {
    // energy: the mlp reference to a few ulp; score: the mlp's forward-mode Jacobian
    // (exact, another algorithm) to 1e-13, and central differences of the energy
    // (h = 1e-5: truncation h^2 |E'''| / 6 ~ 1e-11, rounding 1e-16 / h ~ 1e-11) to 1e-8.
    for (activation act : {activation::softplus, activation::tanh, activation::silu, activation::elu}) {
        const std::string act_name = name(act);
        CAPTURE(act_name);
        energy_mlp<double, B> m(D, {8, 6}, act, random::stream{3, 1}, init_scheme::he_normal);
        CHECK(m.dim() == D);
        CHECK(m.parameter_count() == 8 * 4 + 6 * 9 + 7);
        const matrix<double> x = matrix<double>::Random(D, N);
        matrix<double> e(1, N), lp(1, N), s(D, N), J(D, N);
        m.energy(view(x), view(e));
        m.log_density(view(x), view(lp));
        CHECK(rel_err(e, mlp_reference<double>({D, 8, 6, 1}, act, params(m), x)) <= 1e-14);
        CHECK(rel_err(lp, -e) == 0.0);
        m.score(view(x), view(s));
        m.network().jacobian(view(x), view(J));  // (1 x D) per sample = grad E^T
        CHECK(rel_err(s, -J) <= 1e-13);
        if (act == activation::elu) continue;  // C^1 only; FD across kinks is not O(h^2)
        const double h = 1e-5;
        for (index_t k = 0; k < D; ++k) {
            matrix<double> xp = x, xm = x;
            xp.row(k).array() += h;
            matrix<double> ep(1, N), em(1, N);
            m.energy(view(xp), view(ep));
            xm.row(k).array() -= h;
            m.energy(view(xm), view(em));
            const matrix<double> fd = -(ep - em) / (2 * h);
            CHECK(rel_err(s.row(k), fd) <= 1e-8);
        }
    }
}

TEST_CASE_TEMPLATE("models/energy_mlp: directional derivatives, HVPs and Hessians are exact", B,
                   HOSM_TEST_BACKENDS) {
    // e1 = w^T grad E against the backprop score (exact, to rounding: 1e-13);
    // e2 = w^T H w against w^T (H w) from the reverse-over-forward HVP (exact: 1e-12);
    // H w against central differences of the score (h = 1e-5, O(h^2) ~ 1e-10: 1e-7);
    // full Hessian symmetric (1e-13) and its diagonal equal to the diagonal pass.
    for (activation act : {activation::softplus, activation::tanh, activation::silu}) {
        const std::string act_name = name(act);
        CAPTURE(act_name);
        energy_mlp<double, B> m(D, {7, 5}, act, random::stream{5, 2}, init_scheme::he_normal);
        const matrix<double> x = matrix<double>::Random(D, N), w = matrix<double>::Random(D, N);
        matrix<double> e0(1, N), e1(1, N), e2(1, N), e(1, N), s(D, N), hw(D, N);
        m.directional(view(x), view(w), view(e0), view(e1), view(e2));
        m.energy(view(x), view(e));
        m.score(view(x), view(s));
        m.hvp(view(x), view(w), view(hw));
        CHECK(rel_err(e0, e) <= 1e-15);
        CHECK(rel_err(e1, -(w.array() * s.array()).colwise().sum().matrix()) <= 1e-13);
        CHECK(rel_err(e2, (w.array() * hw.array()).colwise().sum().matrix()) <= 1e-12);
        matrix<double> e1b(1, N);  // first order only: the same e1, e2 untouched
        m.directional(view(x), view(w), batch_view<double>{}, view(e1b));
        CHECK(rel_err(e1b, e1) <= 1e-15);  // other GEMM shapes: a few ulp

        const double h = 1e-5;
        matrix<double> sp(D, N), sm(D, N);
        const matrix<double> xp = x + h * w, xm = x - h * w;
        m.score(view(xp), view(sp));
        m.score(view(xm), view(sm));
        CHECK(rel_err(hw, -(sp - sm) / (2 * h)) <= 1e-7);

        hessian::batch<hessian::full, double, B> H(D, N);
        hessian::batch<hessian::diagonal, double, B> Hd(D, N);
        m.hessian(view(x), H);
        m.hessian(view(x), Hd);
        const matrix<double> diag = Hd.diagonals_to_eigen();
        for (index_t j = 0; j < N; ++j) {
            const matrix<double> Hj = H.dense(j);
            CHECK(rel_err(Hj, Hj.transpose()) <= 1e-13);
            CHECK(rel_err(-Hj * w.col(j), hw.col(j)) <= 1e-12);
            CHECK(rel_err(Hj.diagonal(), diag.col(j)) <= 1e-12);
        }
    }
}

TEST_CASE("models/energy_mlp: third derivatives of the activations") {
    // f''' against central differences of f'' (h = 1e-5: error ~1e-10 + 1e-11); tolerance 1e-8.
    for (activation act : {activation::identity, activation::softplus, activation::elu, activation::silu,
                           activation::tanh}) {
        const std::string act_name = name(act);
        CAPTURE(act_name);
        visit_activation(act, [&](auto tag) {
            using A = decltype(tag);
            for (double x : {-30.0, -4.0, -1.3, -0.2, 0.3, 1.1, 2.5, 40.0}) {
                const double h = 1e-5;
                const double fd = (A::second_derivative(x + h) - A::second_derivative(x - h)) / (2 * h);
                CHECK(std::abs(models::detail::third_derivative(A{}, x) - fd) <= 1e-8);
            }
        });
    }
}

TEST_CASE_TEMPLATE("models/energy_mlp: parameter gradients of energies and directional terms", B,
                   HOSM_TEST_BACKENDS) {
    // backward and directional_backward against central differences in theta of
    // sum_j c0 e0 + c1 e1 + c2 e2 (h = 1e-6: O(h^2) + 1e-16 / h ~ 1e-10); tolerance
    // 1e-7 relative to max(|g_k|, 0.01 max|g|).
    for (activation act : {activation::softplus, activation::tanh, activation::silu}) {
        const std::string act_name = name(act);
        CAPTURE(act_name);
        energy_mlp<double, B> m(D, {6, 5}, act, random::stream{8, 3}, init_scheme::he_normal);
        const matrix<double> x = matrix<double>::Random(D, N), w = matrix<double>::Random(D, N);
        const matrix<double> c0 = matrix<double>::Random(1, N), c1 = matrix<double>::Random(1, N),
                             c2 = matrix<double>::Random(1, N);
        for (int order = 0; order <= 2; ++order) {
            CAPTURE(order);
            m.zero_gradients();
            matrix<double> e0(1, N), e1(1, N), e2(1, N);
            if (order == 0) {
                m.forward(view(x), view(e0));
                m.backward(view(c0));
            } else if (order == 1) {
                m.directional_forward(view(x), view(w), view(e0), view(e1));
                m.directional_backward(view(c0), view(c1));
            } else {
                m.directional_forward(view(x), view(w), view(e0), view(e1), view(e2));
                m.directional_backward(view(c0), view(c1), view(c2));
            }
            auto f = [&] {
                matrix<double> a(1, N), b(1, N), c(1, N);
                m.directional(view(x), view(w), view(a), view(b), view(c));
                double v = (c0.array() * a.array()).sum();
                if (order >= 1) v += (c1.array() * b.array()).sum();
                if (order >= 2) v += (c2.array() * c.array()).sum();
                return v;
            };
            double* p = params(m);
            const double* g = thrust::raw_pointer_cast(m.gradients().data());
            // cpp checks every parameter; omp every 5th (same per-sample code; keeps the test fast)
            const index_t stride = std::is_same_v<B, backend::cpp> ? 1 : 5;
            double gmax = 0;
            for (index_t k = 0; k < m.parameter_count(); ++k) gmax = std::max(gmax, std::abs(g[k]));
            for (index_t k = 0; k < m.parameter_count(); k += stride) {
                const double keep = p[k], h = 1e-6;
                p[k] = keep + h;
                const double fp = f();
                p[k] = keep - h;
                const double fm = f();
                p[k] = keep;
                CAPTURE(k);
                CHECK(std::abs((fp - fm) / (2 * h) - g[k]) <= 1e-7 * std::max(std::abs(g[k]), 1e-2 * gmax));
            }
        }
    }
}

TEST_CASE("models/energy_mlp: cpp and omp back ends give identical results") {
    energy_mlp<double, backend::cpp> a(4, {16, 16}, activation::softplus, random::stream{1, 1});
    energy_mlp<double, backend::omp> b(4, {16, 16}, activation::softplus, random::stream{1, 1});
    const index_t n = 64;
    const matrix<double> x = matrix<double>::Random(4, n), w = matrix<double>::Random(4, n);
    matrix<double> ea(1, n), eb(1, n), sa(4, n), sb(4, n), ha(4, n), hb(4, n);
    a.energy(view(x), view(ea));
    b.energy(view(x), view(eb));
    CHECK(ea == eb);
    a.score(view(x), view(sa));
    b.score(view(x), view(sb));
    CHECK(sa == sb);
    a.hvp(view(x), view(w), view(ha));
    b.hvp(view(x), view(w), view(hb));
    CHECK(ha == hb);
    matrix<double> a0(1, n), a1(1, n), a2(1, n), b0(1, n), b1(1, n), b2(1, n);
    a.directional_forward(view(x), view(w), view(a0), view(a1), view(a2));
    b.directional_forward(view(x), view(w), view(b0), view(b1), view(b2));
    CHECK(a2 == b2);
    a.directional_backward(view(a0), view(a1), view(a2));
    b.directional_backward(view(b0), view(b1), view(b2));
    CHECK(a.gradients() == b.gradients());
}

TEST_CASE("models/energy_mlp: a linear energy has a constant score and zero Hessian") {
    energy_mlp<double> m(3, {}, activation::softplus, random::stream{2, 0});
    CHECK(m.parameter_count() == 4);
    const double* p = thrust::raw_pointer_cast(m.parameters().data());
    const matrix<double> x = matrix<double>::Random(3, 2), w = matrix<double>::Random(3, 2);
    matrix<double> s(3, 2), hw(3, 2), e0(1, 2), e1(1, 2), e2(1, 2);
    m.score(view(x), view(s));
    m.hvp(view(x), view(w), view(hw));
    m.directional(view(x), view(w), view(e0), view(e1), view(e2));
    for (index_t j = 0; j < 2; ++j)
        for (index_t i = 0; i < 3; ++i) {
            CHECK(s(i, j) == -p[i]);
            CHECK(hw(i, j) == 0.0);
        }
    CHECK(e2.cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("models/energy_mlp: evaluation does not disturb the training caches") {
    energy_mlp<double> m(2, {5}, activation::softplus, random::stream{4, 4});
    const matrix<double> x = matrix<double>::Random(2, 3), y = matrix<double>::Random(2, 7),
                         w = matrix<double>::Random(2, 3), c = matrix<double>::Ones(1, 3);
    matrix<double> e(1, 3), e1(1, 3), s(2, 7);
    m.directional_forward(view(x), view(w), view(e), view(e1));
    m.score(view(y), view(s));  // const evaluation of another batch in between
    m.directional_backward(view(c), batch_view<const double>{});
    const auto g1 = m.gradients();
    m.zero_gradients();
    m.forward(view(x), view(e));
    m.backward(view(c));
    for (std::size_t k = 0; k < g1.size(); ++k) CHECK(g1[k] == doctest::Approx(m.gradients()[k]).epsilon(1e-14));
}

TEST_CASE("models/energy_mlp: bad input raises hosm::error") {
    CHECK_THROWS_AS(energy_mlp<double>(0, {4}), hosm::error);
    CHECK_THROWS_AS(energy_mlp<double>(2, {4, 0}), hosm::error);
    energy_mlp<double> m(2, {4});
    matrix<double> x = matrix<double>::Random(2, 3), bad = matrix<double>::Random(3, 3), e(1, 3), e2(2, 3),
                   s(2, 3), w = matrix<double>::Random(2, 3);
    CHECK_THROWS_AS(m.energy(view(bad), view(e)), hosm::error);
    CHECK_THROWS_AS(m.energy(view(x), view(e2)), hosm::error);
    CHECK_THROWS_AS(m.score(view(x), view(e)), hosm::error);
    CHECK_THROWS_AS(m.hvp(view(x), view(bad), view(s)), hosm::error);
    CHECK_THROWS_AS(m.directional_backward(view(e), view(e)), hosm::error);  // no forward
    m.directional_forward(view(x), view(w), view(e), view(e));
    CHECK_THROWS_AS(m.directional_backward(view(e), view(e), view(e)), hosm::error);  // c2 after order 1
    matrix<double> nan = x;
    nan(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.score(view(nan), view(s)), hosm::error);
    CHECK_THROWS_AS(m.directional(view(x), view(nan), view(e), view(e)), hosm::error);
    m.directional_forward(view(x), view(w), view(e), view(e));
    matrix<double> cnan(1, 3);
    cnan << 1, std::numeric_limits<double>::infinity(), 0;
    CHECK_THROWS_AS(m.directional_backward(view(cnan), view(e)), hosm::error);
    hessian::batch<hessian::full, double> H(2, 2);
    CHECK_THROWS_AS(m.hessian(view(x), H), hosm::error);
}
