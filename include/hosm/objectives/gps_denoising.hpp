// hosm/objectives/gps_denoising.hpp — the GPS denoising loss of (sigma, M)
// M-density models (seed 003, Eq. 1, 10-12, Proposition 2).
//
// Maths. x ~ p_X, y_m = x + sigma eps_m (m = 1..M), ybar = M^{-1} sum_m y_m,
// sigma_eff = sigma / sqrt(M). Learning the M-density's score is least-squares
// denoising (neural empirical Bayes, seed 003 Eq. 1) with the GPS Bayes
// estimator xhat = ybar - sigma_eff^2 nu(ybar) (Eq. 10, models::gps):
//
//     L_{sigma,M}(theta) = E || x - xhat_theta(y) ||^2
//                        = E || x - ybar + sigma_eff^2 nu_theta(ybar) ||^2      (Eq. 12)
//
// hosm's estimator on a batch of N samples takes the batch MEAN (and, like
// seed 003 and unlike objectives::dsm, no factor 1/2):
//
//     L = (1/N) sum_j || x_j - ybar_j + sigma_eff^2 nu_j ||^2,
//     dL/dnu_j = (2 sigma_eff^2 / N) (x_j - ybar_j + sigma_eff^2 nu_j),
//
// with nu_j = nu_theta(ybar_j) (models::gps::nu(); seed 003's sign: at the
// optimum nu = -grad log q_{sigma_eff}, q = p_X * N(0, sigma_eff^2 I)).
//
// Universality (Proposition 2): L depends on (sigma, M) only through sigma_eff
// and on the measurements only through ybar - x, which is N(0, sigma_eff^2 I)
// for every member of the class [sigma_eff]. So (sigma, M) and
// (sigma sqrt(M'/M), M') models with the same network incur the same loss;
// with draws paired so that the two ybar coincide, the batch losses are equal
// to rounding (tests/objectives/gps_denoising.test.cpp).
//
// Relation to DSM: with s1 = -nu and z = (ybar - x) / sigma_eff,
// L = 2 sigma_eff^4 L_DSM(sigma_eff) (objectives::dsm at sigma_eff), so the
// optimum is the same score.
//
// API (nu, x, ybar, g_nu: D x N batch views in B's memory):
//   objectives::gps_denoising<T> obj{sigma, M};            sigma > 0, M >= 1
//   objectives::gps_denoising<T> obj{noise::multimeasurement<T>{sigma, M}};
//   obj.sigma(), obj.measurements(), obj.sigma_eff()
//   T objectives::loss<B>(obj, nu, x, ybar)                       -> L
//   T objectives::loss_and_gradient<B>(obj, nu, x, ybar, g_nu)    -> L; g_nu = dL/dnu
// B defaults to backend::cpp. g_nu must not overlap nu, x or ybar.
//
// Errors (hosm::error naming the function and argument): sigma not finite and
// > 0, M < 1; D < 1 or N < 1; x, ybar or g_nu not D x N like nu; non-finite x
// or ybar; a non-finite loss (naming a non-finite nu, or reporting overflow).
#pragma once
#include <cmath>
#include <type_traits>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/objectives/detail/checks.hpp>

namespace hosm::objectives {

/// GPS denoising configuration (seed 003): the (sigma, M) of the noise model.
template <class T>
class gps_denoising {
public:
    using value_type = T;
    gps_denoising(T sigma, index_t M) : mm_(check(sigma, M)) {}
    explicit gps_denoising(const noise::multimeasurement<T>& mm) : mm_(mm) {}

    T sigma() const { return mm_.sigma(); }
    index_t measurements() const { return mm_.measurements(); }
    T sigma_eff() const { return mm_.sigma_eff(); }
    const noise::multimeasurement<T>& noise() const { return mm_; }

private:
    static noise::multimeasurement<T> check(T sigma, index_t M) {
        hosm::detail::check_positive("objectives::gps_denoising", "sigma", sigma);
        hosm::detail::check_at_least("objectives::gps_denoising", "M", M, 1);
        return noise::multimeasurement<T>(sigma, M);
    }
    noise::multimeasurement<T> mm_;
};

namespace detail {

template <class T>
struct gps_denoising_fn {
    batch_view<const T> nu, x, ybar;
    batch_view<T> g;
    T s2eff, scale;
    bool grad;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T *n = nu.col(j), *xj = x.col(j), *yb = ybar.col(j);
        T l = T(0);
        for (index_t i = 0; i < nu.dim; ++i) {
            const T r = xj[i] - yb[i] + s2eff * n[i];
            l += r * r;
            if (grad) g.col(j)[i] = scale * r;
        }
        return l;
    }
};

template <concepts::Backend B, class T>
T run_gps_denoising(const char* where, const gps_denoising<T>& obj, batch_view<const T> nu,
                    batch_view<const T> x, batch_view<const T> ybar, batch_view<T> g, bool grad) {
    const index_t D = nu.dim, N = nu.count;
    hosm::detail::check_at_least(where, "nu.dim (the dimension D)", D, 1);
    hosm::detail::check_at_least(where, "nu.count (the batch size N)", N, 1);
    check_view<T>(where, "nu", nu, D, N);
    check_view<T>(where, "x", x, D, N);
    check_view<T>(where, "ybar", ybar, D, N);
    if (grad) check_view<T>(where, "g_nu", g, D, N);
    check_finite<B>(where, "x", x);
    check_finite<B>(where, "ybar", ybar);
    const T se = obj.sigma_eff(), s2 = se * se;
    const T loss = mean_of_samples<B, T>(
        N, gps_denoising_fn<T>{nu, x, ybar, g, s2, T(2) * s2 / static_cast<T>(N), grad});
    return finish(where, loss, [&] { check_finite<B>(where, "nu", nu); });
}

}  // namespace detail

/// L = (1/N) sum_j ||x_j - ybar_j + sigma_eff^2 nu_j||^2 (seed 003 Eq. 12).
template <concepts::Backend B = backend::cpp, class T>
T loss(const gps_denoising<T>& obj, std::type_identity_t<batch_view<const T>> nu,
       std::type_identity_t<batch_view<const T>> x, std::type_identity_t<batch_view<const T>> ybar) {
    return detail::run_gps_denoising<B, T>("objectives::loss(gps_denoising)", obj, nu, x, ybar, {}, false);
}

/// L as in loss(); writes g_nu = dL/dnu = 2 sigma_eff^2 (x - ybar + sigma_eff^2 nu) / N.
template <concepts::Backend B = backend::cpp, class T>
T loss_and_gradient(const gps_denoising<T>& obj, std::type_identity_t<batch_view<const T>> nu,
                    std::type_identity_t<batch_view<const T>> x,
                    std::type_identity_t<batch_view<const T>> ybar,
                    std::type_identity_t<batch_view<T>> g_nu) {
    return detail::run_gps_denoising<B, T>("objectives::loss_and_gradient(gps_denoising)", obj, nu, x,
                                           ybar, g_nu, true);
}

}  // namespace hosm::objectives
