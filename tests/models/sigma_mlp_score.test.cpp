#include "support/backends.hpp"

#include <cmath>
#include <limits>

#include <hosm/core/eigen.hpp>
#include <hosm/models/sigma_mlp_score.hpp>

#include "models/mlp_reference.hpp"

using namespace hosm;
using namespace hosm::models;
using hosm_test::central_difference;
using hosm_test::mlp_reference;

namespace {

constexpr sigma_conditioning all_conditionings[] = {sigma_conditioning::log_sigma_input,
                                                    sigma_conditioning::output_scale,
                                                    sigma_conditioning::log_sigma_input_output_scale};

/// s1(x, sigma) from the documented formula, per sample.
matrix<double> reference(sigma_conditioning c, const std::vector<index_t>& sizes, activation act,
                         const double* p, const matrix<double>& x, const matrix<double>& sigma) {
    const index_t D = x.rows(), N = x.cols();
    matrix<double> u = x;
    if (takes_log_sigma(c)) {
        u.resize(D + 1, N);
        u.topRows(D) = x;
        u.row(D) = sigma.array().log().matrix();
    }
    matrix<double> y = mlp_reference<double>(sizes, act, p, u);
    if (scales_output(c))
        for (index_t j = 0; j < N; ++j) y.col(j) /= sigma(0, j);
    return y;
}

}  // namespace

TEST_CASE_TEMPLATE("models/sigma_mlp_score: forward is the documented conditioning", B,
                   HOSM_TEST_BACKENDS) {
    // Against a per-sample Eigen evaluation of the same parameters: ~1e-13 relative.
    const mlp_score_config cfg{.dim = 3, .width = 8, .depth = 3, .activation = activation::softplus};
    const matrix<double> x = matrix<double>::Random(3, 5);
    matrix<double> sigma(1, 5);
    sigma << 0.01, 0.1, 0.5, 1.0, 4.0;
    for (sigma_conditioning c : all_conditionings) {
        sigma_mlp_score<double, B> m(cfg, c, random::stream{4, 1});
        CHECK(m.dim() == 3);
        CHECK(m.input_dim() == (takes_log_sigma(c) ? 4 : 3));
        CHECK(m.conditioning() == c);
        const std::vector<index_t> sizes{m.input_dim(), 8, 8, 3};
        CHECK(m.parameter_count() == 8 * (m.input_dim() + 1) + 8 * 9 + 3 * 9);
        const double* p = thrust::raw_pointer_cast(m.parameters().data());
        matrix<double> s1(3, 5);
        m.forward(view(x), view(sigma), view(s1));
        const matrix<double> ref = reference(c, sizes, activation::softplus, p, x, sigma);
        CHECK((s1 - ref).cwiseAbs().maxCoeff() <= 1e-13 * (1 + ref.cwiseAbs().maxCoeff()));
        // one level for the batch == that level repeated per sample
        const matrix<double> one = m.forward(x, 0.5);
        const matrix<double> ref_one = reference(c, sizes, activation::softplus, p, x, matrix<double>::Constant(1, 5, 0.5));
        CHECK((one - ref_one).cwiseAbs().maxCoeff() <= 1e-13 * (1 + ref_one.cwiseAbs().maxCoeff()));
        // the output depends on sigma for every conditioning
        CHECK((m.forward(x, 0.25) - one).norm() > 1e-3);
    }
}

TEST_CASE_TEMPLATE("models/sigma_mlp_score: gradients against finite differences", B,
                   HOSM_TEST_BACKENDS) {
    // L = sum G o s1(x, sigma). Central differences with h = 1e-6 (1 + |v|):
    // O(h^2) + O(eps / h) ~ 1e-10 (the 1/sigma factor, sigma >= 0.1, scales both
    // the gradient and the error); tolerance 1e-7 (1 + |derivative|).
    const mlp_score_config cfg{.dim = 3, .width = 7, .depth = 3, .activation = activation::tanh};
    matrix<double> x = matrix<double>::Random(3, 4);
    matrix<double> sigma(1, 4);
    sigma << 0.1, 0.3, 1.0, 2.5;
    const matrix<double> G = matrix<double>::Random(3, 4);
    for (sigma_conditioning c : all_conditionings) {
        sigma_mlp_score<double, B> m(cfg, c, random::stream{2, 0});
        const std::vector<index_t> sizes{m.input_dim(), 7, 7, 3};
        double* p = thrust::raw_pointer_cast(m.parameters().data());
        matrix<double> s1(3, 4), dx(3, 4);
        m.forward(view(x), view(sigma), view(s1));
        m.zero_gradients();
        m.backward(view(G), view(dx));
        auto loss = [&] { return (G.array() * reference(c, sizes, activation::tanh, p, x, sigma).array()).sum(); };
        double worst = 0;
        for (index_t k = 0; k < m.parameter_count(); ++k) {
            const double fd = central_difference(p, k, 1e-6, loss);
            worst = std::fmax(worst, std::fabs(fd - m.gradients()[k]) / (1 + std::fabs(m.gradients()[k])));
        }
        CHECK(worst <= 1e-7);
        worst = 0;
        for (index_t k = 0; k < x.size(); ++k) {
            const double fd = central_difference(x.data(), k, 1e-6, loss);
            worst = std::fmax(worst, std::fabs(fd - dx(k)) / (1 + std::fabs(dx(k))));
        }
        CHECK(worst <= 1e-7);
        // backward without dx gives the same parameter gradient; gradients accumulate
        std::vector<double> g1(m.gradients().begin(), m.gradients().end());
        m.backward(view(G));
        for (index_t k = 0; k < m.parameter_count(); ++k) CHECK(m.gradients()[k] == doctest::Approx(2 * g1[k]));
    }
}

TEST_CASE_TEMPLATE("models/sigma_mlp_score: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    CHECK_THROWS_AS((sigma_mlp_score<double, B>({.dim = 0})), hosm::error);
    CHECK_THROWS_AS((sigma_mlp_score<double, B>({.dim = 2, .width = 0})), hosm::error);
    CHECK_THROWS_AS((sigma_mlp_score<double, B>({.dim = 2, .depth = 0})), hosm::error);
    CHECK_THROWS_AS((sigma_mlp_score<double, B>({.dim = 2}, static_cast<sigma_conditioning>(7))), hosm::error);
    sigma_mlp_score<double, B> m({.dim = 2, .width = 4, .depth = 2});
    matrix<double> x = matrix<double>::Random(2, 3), s1(2, 3), g(2, 3);
    matrix<double> sigma = matrix<double>::Constant(1, 3, 0.5);
    CHECK_THROWS_AS(m.backward(view(g)), hosm::error);  // no forward yet
    CHECK_THROWS_AS(m.forward(view(x), 0.0, view(s1)), hosm::error);
    CHECK_THROWS_AS(m.forward(view(x), -1.0, view(s1)), hosm::error);
    CHECK_THROWS_AS(m.forward(view(x), std::numeric_limits<double>::infinity(), view(s1)), hosm::error);
    sigma(0, 1) = 0.0;
    CHECK_THROWS_AS(m.forward(view(x), view(sigma), view(s1)), hosm::error);
    sigma(0, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.forward(view(x), view(sigma), view(s1)), hosm::error);
    sigma(0, 1) = 0.5;
    const matrix<double> sigma_short = matrix<double>::Constant(1, 2, 0.5);
    CHECK_THROWS_AS(m.forward(view(x), view(sigma_short), view(s1)), hosm::error);
    const matrix<double> x3 = matrix<double>::Random(3, 3);
    CHECK_THROWS_AS(m.forward(view(x3), 0.5, view(s1)), hosm::error);
    matrix<double> s_wrong(2, 2);
    CHECK_THROWS_AS(m.forward(view(x), 0.5, view(s_wrong)), hosm::error);
    x(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.forward(view(x), view(sigma), view(s1)), hosm::error);
    x(1, 2) = 0.0;
    m.forward(view(x), view(sigma), view(s1));
    matrix<double> g_wrong(2, 4), dx_wrong(3, 3);
    CHECK_THROWS_AS(m.backward(view(g_wrong)), hosm::error);
    CHECK_THROWS_AS(m.backward(view(g), view(dx_wrong)), hosm::error);
    g(0, 0) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(m.backward(view(g)), hosm::error);
    g(0, 0) = 0.0;
    CHECK_NOTHROW(m.backward(view(g)));
}
