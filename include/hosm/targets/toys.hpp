// hosm/targets/toys.hpp — 2-d test densities with exact scores.
//
// Seed 000 samples 2-d synthetic data (Table 3, Figs. 5-6: "a two mode
// distribution"; Sec. 5, Fig. 2: 2-d denoising) but its text gives no
// parameters; these are hosm's documented choices. Each function returns an
// ordinary target (a gaussian_mixture or a mixture_of_logistics), with exact
// log density, s1, s2 in every structure, sampling and, for the Gaussian
// mixtures, exact smoothed versions.
//
//   two_mode_gaussian<T, B>(offset = 2.5, stddev = 1)
//       (1/2) N((-offset, -offset), stddev^2 I) + (1/2) N((offset, offset), stddev^2 I):
//       two well-separated modes along the diagonal (separation 2 sqrt(2) offset
//       ~ 7.1 stddev by default), the setting of Table 3 / Fig. 6 where Langevin
//       dynamics mixes slowly between the modes.
//   ring_of_gaussians<T, B>(K = 8, radius = 4, stddev = 0.5)
//       (1/K) sum_k N(radius (cos 2 pi k / K, sin 2 pi k / K), stddev^2 I): the
//       classic ring of K modes; with K - 1 > 2 its exact low-rank Hessian
//       uses the dense (pivoted Cholesky) path.
//   logistic_mixture_2d<T, B>()
//       three products of logistics (heavier tails than a Gaussian, skewed
//       overall shape), row k = component k:
//         weights   (0.5, 0.3, 0.2)
//         locations (-2, 0), (2, 1), (0, -2.5)
//         scales    (1, 0.5), (0.6, 0.8), (0.7, 0.7)
//       its low-rank Hessian has rank 2 = K - 1 (Householder path).
//
// Errors (hosm::error): offset not finite, stddev <= 0, radius <= 0, K < 1.
#pragma once
#include <cmath>
#include <numbers>
#include <vector>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/targets/gaussian_mixture.hpp>
#include <hosm/targets/mixture_of_logistics.hpp>

namespace hosm::targets {

template <class T, concepts::Backend B = backend::cpp>
gaussian_mixture<T, B> two_mode_gaussian(T offset = T(2.5), T stddev = T(1)) {
    hosm::detail::check_finite("targets::two_mode_gaussian", "offset", offset);
    hosm::detail::check_positive("targets::two_mode_gaussian", "stddev", stddev);
    vector<T> w(2);
    w << T(0.5), T(0.5);
    matrix<T> mu(2, 2);
    mu << -offset, -offset, offset, offset;
    const matrix<T> S = stddev * stddev * matrix<T>::Identity(2, 2);
    return gaussian_mixture<T, B>(w, mu, std::vector<matrix<T>>{S, S});
}

template <class T, concepts::Backend B = backend::cpp>
gaussian_mixture<T, B> ring_of_gaussians(index_t K = 8, T radius = T(4), T stddev = T(0.5)) {
    constexpr const char* where = "targets::ring_of_gaussians";
    hosm::detail::check_at_least(where, "K", K, 1);
    hosm::detail::check_positive(where, "radius", radius);
    hosm::detail::check_positive(where, "stddev", stddev);
    vector<T> w = vector<T>::Constant(K, T(1) / static_cast<T>(K));
    matrix<T> mu(K, 2);
    for (index_t k = 0; k < K; ++k) {
        const double a = 2.0 * std::numbers::pi * double(k) / double(K);
        mu(k, 0) = radius * static_cast<T>(std::cos(a));
        mu(k, 1) = radius * static_cast<T>(std::sin(a));
    }
    const matrix<T> S = stddev * stddev * matrix<T>::Identity(2, 2);
    return gaussian_mixture<T, B>(w, mu, std::vector<matrix<T>>(static_cast<std::size_t>(K), S));
}

template <class T, concepts::Backend B = backend::cpp>
mixture_of_logistics<T, B> logistic_mixture_2d() {
    vector<T> w(3);
    w << T(0.5), T(0.3), T(0.2);
    matrix<T> m(3, 2), s(3, 2);
    m << T(-2), T(0), T(2), T(1), T(0), T(-2.5);
    s << T(1), T(0.5), T(0.6), T(0.8), T(0.7), T(0.7);
    return mixture_of_logistics<T, B>(w, m, s);
}

}  // namespace hosm::targets
