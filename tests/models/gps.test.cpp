#include "support/backends.hpp"

#include <cmath>
#include <limits>

#include <hosm/core/eigen.hpp>
#include <hosm/models/gps.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/models/sigma_mlp_score.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/targets/m_density.hpp>

#include "models/mlp_reference.hpp"

using namespace hosm;
using namespace hosm::models;
using hosm_test::central_difference;

namespace {

/// A parameter-free "network" whose output is sign * grad log q (q a Gaussian
/// target): the exact smoothed score (sign = 1) or the exact nu = -grad log q (-1).
template <class B>
struct exact_nu {
    using value_type = double;
    using backend_type = B;
    targets::gaussian<double, B> q;
    double sign = 1.0;
    int backward_calls = 0;
    index_t dim() const { return q.dim(); }
    void forward(batch_view<const double> x, batch_view<double> out) {
        q.score(x, out);
        for (index_t k = 0; k < out.size(); ++k) out.data[k] *= sign;
    }
    void backward(batch_view<const double>) { ++backward_calls; }
};

matrix<double> test_covariance() {
    matrix<double> S(3, 3);
    S << 1.2, 0.3, -0.2,  //
        0.3, 0.7, 0.1,    //
        -0.2, 0.1, 1.6;
    return S;
}

/// y with measurement blocks permuted: block m of the result is block perm[m] of y.
matrix<double> permute_blocks(const matrix<double>& y, const std::vector<index_t>& perm, index_t D) {
    matrix<double> out(y.rows(), y.cols());
    for (std::size_t m = 0; m < perm.size(); ++m)
        out.middleRows(static_cast<index_t>(m) * D, D) = y.middleRows(perm[m] * D, D);
    return out;
}

}  // namespace

TEST_CASE_TEMPLATE("models/gps: with the exact smoothed score, GPS is the exact M-density score", B,
                   HOSM_TEST_BACKENDS) {
    // nu = -grad log q_{sigma_eff} makes Eq. 8 the exact score of the Gaussian
    // M-density (targets::m_density) and Eq. 10 its posterior mean: ~1e-13.
    const vector<double> mu = (vector<double>(3) << 0.4, -0.3, 1.0).finished();
    const targets::gaussian<double, B> p(mu, test_covariance());
    const noise::multimeasurement<double> mm{0.8, 4};
    const targets::m_density<targets::gaussian<double, B>> md(p, mm);
    const matrix<double> y = md.sample(random::stream{3, 0}, 9);
    const matrix<double> exact = md.score(y), post = md.posterior_mean(y);

    // convention score: the network outputs grad log q
    gps<exact_nu<B>> a(exact_nu<B>{p.smoothed(mm.sigma_eff()), 1.0}, mm, gps_nu::score);
    CHECK(a.dim() == 12);
    CHECK(a.base_dim() == 3);
    CHECK(a.sigma_eff() == doctest::Approx(0.4));
    const matrix<double> ga = a.score(y);
    CHECK((ga - exact).cwiseAbs().maxCoeff() <= 1e-13 * (1 + exact.cwiseAbs().maxCoeff()));
    CHECK((a.denoise(y) - post).cwiseAbs().maxCoeff() <= 1e-13 * (1 + post.cwiseAbs().maxCoeff()));
    // convention potential_gradient: the network outputs nu = -grad log q
    gps<exact_nu<B>> b(exact_nu<B>{p.smoothed(mm.sigma_eff()), -1.0}, 0.8, 4);
    CHECK(b.convention() == gps_nu::potential_gradient);
    CHECK((b.score(y) - exact).cwiseAbs().maxCoeff() <= 1e-13 * (1 + exact.cwiseAbs().maxCoeff()));
    // nu() is seed 003's nu under both conventions; ybar() is the measurement mean
    const matrix<double> ybar = mm.mean(y);
    CHECK((as_eigen(a.nu()) - as_eigen(b.nu())).cwiseAbs().maxCoeff() <= 1e-15);
    CHECK((as_eigen(a.ybar()) - ybar).cwiseAbs().maxCoeff() <= 1e-15);
    // a wrong sigma_eff (the same network in another universality class) is not exact
    gps<exact_nu<B>> c(exact_nu<B>{p.smoothed(mm.sigma_eff()), 1.0}, 0.8, 2, gps_nu::score);
    const targets::m_density<targets::gaussian<double, B>> md2(p, noise::multimeasurement<double>{0.8, 2});
    const matrix<double> y2 = md2.sample(random::stream{3, 1}, 9);
    CHECK((c.score(y2) - md2.score(y2)).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE_TEMPLATE("models/gps: permutation equivariance (Proposition 1)", B, HOSM_TEST_BACKENDS) {
    // g(pi(y)) = pi(g(y)) for a learned nu; ybar is a sum in another order: ~1e-15.
    mlp<double, B> net({3, 12, 3}, activation::softplus, random::stream{8, 0});
    gps<mlp<double, B>&> m(net, 0.5, 4);
    const matrix<double> y = matrix<double>::Random(12, 5);
    const std::vector<index_t> perm{2, 0, 3, 1};
    const matrix<double> g = m.score(y);
    const matrix<double> gp = m.score(permute_blocks(y, perm, 3));
    CHECK((gp - permute_blocks(g, perm, 3)).cwiseAbs().maxCoeff() <= 1e-14 * (1 + g.cwiseAbs().maxCoeff()));
    // Eq. 8 written out: sigma^2 g_m = (ybar - y_m) - sigma_eff^2 nu(ybar)
    const matrix<double> ybar = as_eigen(m.ybar());
    const matrix<double> nu = as_eigen(m.nu());
    for (index_t k = 0; k < 4; ++k)
        CHECK((0.25 * gp.middleRows(3 * k, 3) -
               (ybar - permute_blocks(y, perm, 3).middleRows(3 * k, 3) - 0.0625 * nu))
                  .cwiseAbs()
                  .maxCoeff() <= 1e-14);
}

TEST_CASE_TEMPLATE("models/gps: backward against finite differences", B, HOSM_TEST_BACKENDS) {
    // L = sum G o g(y) (backward) and L = sum H o nu (backward_nu); central
    // differences over the network parameters, h = 1e-6 (1 + |p|): O(h^2) +
    // O(eps / h) ~ 1e-10; tolerance 1e-7 (1 + |derivative|).
    const index_t D = 2, M = 3, N = 4;
    const std::vector<index_t> sizes{D, 6, 6, D};
    const matrix<double> y = matrix<double>::Random(M * D, N) * 2;
    const matrix<double> G = matrix<double>::Random(M * D, N), H = matrix<double>::Random(D, N);
    for (gps_nu conv : {gps_nu::potential_gradient, gps_nu::score}) {
        mlp<double, B> net(sizes, activation::tanh, random::stream{1, 3});
        gps<mlp<double, B>&> m(net, 0.7, M, conv);
        double* p = thrust::raw_pointer_cast(net.parameters().data());
        matrix<double> g(M * D, N);
        m.forward(view(y), view(g));
        m.zero_gradients();
        m.backward(view(G));
        std::vector<double> grad(net.gradients().begin(), net.gradients().end());
        auto loss = [&] {
            matrix<double> gg(M * D, N);
            m.forward(view(y), view(gg));
            return (G.array() * gg.array()).sum();
        };
        double worst = 0;
        for (index_t k = 0; k < net.parameter_count(); ++k) {
            const double fd = central_difference(p, k, 1e-6, loss);
            worst = std::fmax(worst, std::fabs(fd - grad[k]) / (1 + std::fabs(grad[k])));
        }
        CHECK(worst <= 1e-7);

        m.forward_nu(view(y));
        m.zero_gradients();
        m.backward_nu(view(H));
        grad.assign(net.gradients().begin(), net.gradients().end());
        auto loss_nu = [&] {
            m.forward_nu(view(y));
            return (H.array() * as_eigen(m.nu()).array()).sum();
        };
        worst = 0;
        for (index_t k = 0; k < net.parameter_count(); ++k) {
            const double fd = central_difference(p, k, 1e-6, loss_nu);
            worst = std::fmax(worst, std::fabs(fd - grad[k]) / (1 + std::fabs(grad[k])));
        }
        CHECK(worst <= 1e-7);
        double norm = 0;
        for (double v : grad) norm += v * v;
        CHECK(norm > 1e-6);  // the check above compares non-trivial gradients
    }
}

TEST_CASE_TEMPLATE("models/gps: nu models of every calling convention", B, HOSM_TEST_BACKENDS) {
    // mlp_score (forward_s1) and sigma_mlp_score (forward(x, sigma_eff, out)):
    // nu() equals the network run directly on ybar (exactly: same passes).
    const matrix<double> y = matrix<double>::Random(6, 5);
    const noise::multimeasurement<double> mm{0.6, 3};
    const matrix<double> ybar = mm.mean(y);

    mlp_score<double, hessian::diagonal, B> s1net({.dim = 2, .width = 5, .depth = 2}, random::stream{2, 2});
    gps<mlp_score<double, hessian::diagonal, B>&> a(s1net, mm, gps_nu::score);
    a.forward_nu(view(y));
    matrix<double> s(2, 5);
    s1net.forward_s1(view(ybar), view(s));
    CHECK((as_eigen(a.nu()) + s).cwiseAbs().maxCoeff() == 0.0);
    s1net.zero_gradients();
    a.forward_nu(view(y));
    const matrix<double> H = matrix<double>::Random(2, 5);
    a.backward_nu(view(H));  // score convention: the network gets -H
    std::vector<double> ga(s1net.gradients().begin(), s1net.gradients().end());
    s1net.zero_gradients();
    s1net.forward_s1(view(ybar), view(s));
    const matrix<double> minus_H = -H;
    s1net.backward_s1(view(minus_H));
    for (std::size_t k = 0; k < ga.size(); ++k) CHECK(ga[k] == doctest::Approx(s1net.gradients()[k]).epsilon(1e-14));

    sigma_mlp_score<double, B> cnet({.dim = 2, .width = 5, .depth = 2}, sigma_conditioning::log_sigma_input_output_scale,
                                    random::stream{2, 3});
    gps<sigma_mlp_score<double, B>> b(cnet, mm, gps_nu::score);  // owns a copy
    b.forward_nu(view(y));
    CHECK((as_eigen(b.nu()) + cnet.forward(ybar, mm.sigma_eff())).cwiseAbs().maxCoeff() == 0.0);
    CHECK(b.parameters().size() == cnet.parameters().size());
}

TEST_CASE_TEMPLATE("models/gps: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    mlp<double, B> net({2, 4, 2});
    CHECK_THROWS_AS((gps<mlp<double, B>&>(net, 0.0, 2)), hosm::error);
    CHECK_THROWS_AS((gps<mlp<double, B>&>(net, -1.0, 2)), hosm::error);
    CHECK_THROWS_AS((gps<mlp<double, B>&>(net, std::numeric_limits<double>::quiet_NaN(), 2)), hosm::error);
    CHECK_THROWS_AS((gps<mlp<double, B>&>(net, 1.0, 0)), hosm::error);
    CHECK_THROWS_AS((gps<mlp<double, B>&>(net, 1.0, 2, static_cast<gps_nu>(5))), hosm::error);
    mlp<double, B> bad_net({2, 4, 3});  // R^2 -> R^3 is not a nu model on R^2
    CHECK_THROWS_AS((gps<mlp<double, B>&>(bad_net, 1.0, 2)), hosm::error);

    gps<mlp<double, B>&> m(net, 1.0, 3);
    matrix<double> y = matrix<double>::Random(6, 4), g(6, 4), G = matrix<double>::Random(6, 4);
    CHECK_THROWS_AS(m.backward(view(G)), hosm::error);  // nothing cached
    CHECK_THROWS_AS(m.backward_nu(view(g)), hosm::error);
    const matrix<double> y_wrong = matrix<double>::Random(4, 4);
    CHECK_THROWS_AS(m.forward(view(y_wrong), view(g)), hosm::error);
    matrix<double> g_wrong(6, 3), xhat_wrong(3, 4);
    CHECK_THROWS_AS(m.forward(view(y), view(g_wrong)), hosm::error);
    CHECK_THROWS_AS(m.denoise(view(y), view(xhat_wrong)), hosm::error);
    y(5, 1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(m.forward(view(y), view(g)), hosm::error);
    CHECK_THROWS_AS(m.denoise(y), hosm::error);
    y(5, 1) = 0.0;
    m.forward(view(y), view(g));
    const matrix<double> G_wrong = matrix<double>::Random(6, 5);
    CHECK_THROWS_AS(m.backward(view(G_wrong)), hosm::error);
    G(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.backward(view(G)), hosm::error);
    matrix<double> H = matrix<double>::Random(2, 4), H_wrong(2, 3);
    CHECK_THROWS_AS(m.backward_nu(view(H_wrong)), hosm::error);
    H(1, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.backward_nu(view(H)), hosm::error);
    H(1, 1) = 0.0;
    CHECK_NOTHROW(m.backward_nu(view(H)));
}
