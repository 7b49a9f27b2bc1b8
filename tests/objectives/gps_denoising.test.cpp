#include "support/backends.hpp"

#include <cmath>
#include <limits>

#include <hosm/core/eigen.hpp>
#include <hosm/models/gps.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/gps_denoising.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/gaussian.hpp>

using namespace hosm;
using hosm::objectives::gps_denoising;

namespace {

/// M D x N standard normals from stream s (random::fill_normal's numbers).
matrix<double> normals(const random::stream& s, index_t rows, index_t cols) {
    matrix<double> e(rows, cols);
    random::fill_normal<backend::cpp>(s, view(e), 0);
    return e;
}

/// sum_m eps_m / sqrt(M) per sample: the N(0, I) variable that makes
/// ybar = x + sigma_eff w for every (sigma, M).
matrix<double> block_sum(const matrix<double>& eps, index_t M) {
    const index_t D = eps.rows() / M;
    matrix<double> w = matrix<double>::Zero(D, eps.cols());
    for (index_t m = 0; m < M; ++m) w += eps.middleRows(m * D, D);
    return w / std::sqrt(double(M));
}

/// eps' with the same law as eps (M' blocks) whose block_sum is w: replace the
/// measurement mean of eps by w / sqrt(M') (the residuals are independent of it).
matrix<double> pair_with(const matrix<double>& eps, const matrix<double>& w, index_t M) {
    const index_t D = eps.rows() / M;
    const matrix<double> shift = w / std::sqrt(double(M)) - block_sum(eps, M) / std::sqrt(double(M));
    matrix<double> out = eps;
    for (index_t m = 0; m < M; ++m) out.middleRows(m * D, D) += shift;
    return out;
}

matrix<double> measure(const matrix<double>& x, const matrix<double>& eps, double sigma, index_t M) {
    const index_t D = x.rows();
    matrix<double> y(M * D, x.cols());
    for (index_t m = 0; m < M; ++m) y.middleRows(m * D, D) = x + sigma * eps.middleRows(m * D, D);
    return y;
}

/// Loss and network gradient of a GPS model on (x, y) through the GPS wrapper.
template <class G, class B>
double loss_and_net_gradient(G& model, const gps_denoising<double>& obj, const matrix<double>& x,
                             const matrix<double>& y, std::vector<double>& grad) {
    model.forward_nu(view(y));
    matrix<double> g_nu(x.rows(), x.cols());
    model.zero_gradients();
    const double L = objectives::loss_and_gradient<B>(obj, model.nu(), view(x), model.ybar(), view(g_nu));
    model.backward_nu(view(g_nu));
    grad.assign(model.gradients().begin(), model.gradients().end());
    return L;
}

}  // namespace

TEST_CASE_TEMPLATE("objectives/gps_denoising: loss and gradient against the formula and finite differences",
                   B, HOSM_TEST_BACKENDS) {
    // L = (1/N) sum ||x - ybar + sigma_eff^2 nu||^2: direct Eigen to ~1e-14. L is
    // quadratic in nu, so central differences (h = 1e-5) are exact up to rounding
    // (~1e-10); tolerance 1e-8.
    const index_t D = 3, N = 6;
    const gps_denoising<double> obj{0.9, 9};
    CHECK(obj.sigma_eff() == doctest::Approx(0.3));
    CHECK(obj.measurements() == 9);
    matrix<double> nu = matrix<double>::Random(D, N);
    const matrix<double> x = matrix<double>::Random(D, N), ybar = matrix<double>::Random(D, N);
    matrix<double> g(D, N);
    const double L = objectives::loss_and_gradient<B>(obj, view(nu), view(x), view(ybar), view(g));
    const matrix<double> r = x - ybar + 0.09 * nu;
    CHECK(L == doctest::Approx(r.squaredNorm() / N).epsilon(1e-14));
    CHECK(objectives::loss<B>(obj, view(nu), view(x), view(ybar)) == L);
    CHECK((g - 2 * 0.09 / N * r).cwiseAbs().maxCoeff() <= 1e-15);
    for (index_t k = 0; k < nu.size(); ++k) {
        const double v = nu(k);
        nu(k) = v + 1e-5;
        const double Lp = objectives::loss<B>(obj, view(nu), view(x), view(ybar));
        nu(k) = v - 1e-5;
        const double Lm = objectives::loss<B>(obj, view(nu), view(x), view(ybar));
        nu(k) = v;
        CHECK((Lp - Lm) / 2e-5 == doctest::Approx(g(k)).epsilon(1e-8).scale(1.0));
    }
    // The same objective as DSM at sigma_eff: L = 2 sigma_eff^4 L_DSM with s1 = -nu,
    // z = (ybar - x) / sigma_eff (~1e-14).
    const matrix<double> s1 = -nu, z = (ybar - x) / 0.3;
    const double Ldsm = objectives::loss<B>(objectives::dsm<double>{0.3}, view(s1), view(z));
    CHECK(L == doctest::Approx(2 * std::pow(0.3, 4) * Ldsm).epsilon(1e-13));
}

TEST_CASE_TEMPLATE("objectives/gps_denoising: universality of GPS (Proposition 2)", B, HOSM_TEST_BACKENDS) {
    // (sigma, M) = (0.6, 4) and (sigma sqrt(M'/M), M') = (0.9, 9) share sigma_eff = 0.3.
    // Same network (wrapped by reference, same theta), draws paired as in the proof
    // (the two models' ybar - x are the same N(0, sigma_eff^2 I) draw): the losses
    // AND their parameter gradients are equal to rounding (1e-12 relative).
    const index_t D = 3, N = 200;
    const vector<double> mu = (vector<double>(3) << 0.5, -0.2, 1.0).finished();
    const targets::gaussian<double, B> p(mu, matrix<double>::Identity(3, 3) * 0.5);
    const matrix<double> x = p.sample(random::stream{21, 0}, N);
    models::mlp<double, B> net({D, 16, 16, D}, models::activation::softplus, random::stream{21, 1});
    models::gps<models::mlp<double, B>&> a(net, 0.6, 4), b(net, 0.9, 9), c(net, 0.6, 9);
    const gps_denoising<double> obj_a{0.6, 4}, obj_b{0.9, 9}, obj_c{0.6, 9};
    CHECK(a.sigma_eff() == doctest::Approx(b.sigma_eff()).epsilon(1e-15));

    const matrix<double> eps_a = normals(random::stream{22, 0}, 4 * D, N);
    const matrix<double> w = block_sum(eps_a, 4);
    const matrix<double> eps_b = pair_with(normals(random::stream{22, 1}, 9 * D, N), w, 9);
    CHECK((block_sum(eps_b, 9) - w).cwiseAbs().maxCoeff() <= 1e-13);
    const matrix<double> ya = measure(x, eps_a, 0.6, 4), yb = measure(x, eps_b, 0.9, 9);

    std::vector<double> ga, gb, gc;
    const double La = loss_and_net_gradient<decltype(a), B>(a, obj_a, x, ya, ga);
    const double Lb = loss_and_net_gradient<decltype(b), B>(b, obj_b, x, yb, gb);
    CHECK(La == doctest::Approx(Lb).epsilon(1e-12));
    double diff = 0, norm = 0;
    for (std::size_t k = 0; k < ga.size(); ++k) {
        diff = std::fmax(diff, std::fabs(ga[k] - gb[k]));
        norm = std::fmax(norm, std::fabs(ga[k]));
    }
    CHECK(norm > 1e-6);
    CHECK(diff <= 1e-12 * norm);

    // A model outside the class ([0.2]) with the same network and the same paired
    // draw sees a different loss: the equality above is not automatic.
    const matrix<double> eps_c = pair_with(normals(random::stream{22, 2}, 9 * D, N), w, 9);
    const double Lc = loss_and_net_gradient<decltype(c), B>(c, obj_c, x, measure(x, eps_c, 0.6, 9), gc);
    CHECK(std::fabs(Lc - La) > 0.1 * La);
}

TEST_CASE_TEMPLATE("objectives/gps_denoising: universality holds in law for independent draws", B,
                   HOSM_TEST_BACKENDS) {
    // Unpaired noise: the two class members' batch losses agree within Monte
    // Carlo error (5 standard errors of the difference, from the per-sample
    // losses), while a member of another class differs by far more.
    const index_t D = 2, N = 4000;
    const targets::gaussian<double, B> p(vector<double>::Zero(2), matrix<double>::Identity(2, 2));
    const matrix<double> x = p.sample(random::stream{31, 0}, N);
    models::mlp<double, B> net({D, 8, D}, models::activation::tanh, random::stream{31, 1});
    auto per_sample = [&](double sigma, index_t M, std::uint32_t id) {
        models::gps<models::mlp<double, B>&> m(net, sigma, M);
        const matrix<double> y = measure(x, normals(random::stream{32, id}, M * D, N), sigma, M);
        m.forward_nu(view(y));
        const double s2 = m.sigma_eff() * m.sigma_eff();
        const matrix<double> r = x - as_eigen(m.ybar()) + s2 * as_eigen(m.nu());
        const double L = objectives::loss<B>(gps_denoising<double>{sigma, M}, m.nu(), view(x), m.ybar());
        const vector<double> l = r.colwise().squaredNorm().transpose();
        CHECK(L == doctest::Approx(l.mean()).epsilon(1e-12));
        return l;
    };
    const vector<double> la = per_sample(0.5, 1, 0), lb = per_sample(1.5, 9, 1), lc = per_sample(1.0, 1, 2);
    auto var = [](const vector<double>& l) { return (l.array() - l.mean()).square().sum() / double(l.size() - 1); };
    const double se = std::sqrt((var(la) + var(lb)) / N);
    CHECK(std::fabs(la.mean() - lb.mean()) <= 5 * se);
    CHECK(std::fabs(lc.mean() - la.mean()) > 20 * se);
}

TEST_CASE_TEMPLATE("objectives/gps_denoising: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    CHECK_THROWS_AS((gps_denoising<double>{0.0, 2}), hosm::error);
    CHECK_THROWS_AS((gps_denoising<double>{-0.5, 2}), hosm::error);
    CHECK_THROWS_AS((gps_denoising<double>{std::numeric_limits<double>::infinity(), 2}), hosm::error);
    CHECK_THROWS_AS((gps_denoising<double>{0.5, 0}), hosm::error);
    const gps_denoising<double> obj{0.5, 4};
    matrix<double> nu = matrix<double>::Random(2, 3), x = matrix<double>::Random(2, 3),
                   ybar = matrix<double>::Random(2, 3), g(2, 3);
    const matrix<double> x_wrong = matrix<double>::Random(3, 3), empty(2, 0);
    matrix<double> g_wrong(2, 2);
    CHECK_THROWS_AS(objectives::loss<B>(obj, view(nu), view(x_wrong), view(ybar)), hosm::error);
    CHECK_THROWS_AS(objectives::loss<B>(obj, view(nu), view(x), view(x_wrong)), hosm::error);
    CHECK_THROWS_AS(objectives::loss_and_gradient<B>(obj, view(nu), view(x), view(ybar), view(g_wrong)),
                    hosm::error);
    CHECK_THROWS_AS(objectives::loss<B>(obj, view(empty), view(empty), view(empty)), hosm::error);
    x(1, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(objectives::loss<B>(obj, view(nu), view(x), view(ybar)), hosm::error);
    x(1, 1) = 0.0;
    ybar(0, 2) = -std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(objectives::loss<B>(obj, view(nu), view(x), view(ybar)), hosm::error);
    ybar(0, 2) = 0.0;
    nu(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(objectives::loss_and_gradient<B>(obj, view(nu), view(x), view(ybar), view(g)), hosm::error);
    nu(0, 0) = 0.0;
    CHECK_NOTHROW(objectives::loss_and_gradient<B>(obj, view(nu), view(x), view(ybar), view(g)));
}
