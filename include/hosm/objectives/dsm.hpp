// hosm/objectives/dsm.hpp — denoising score matching (DSM), seed 000 Eq. (3),
// seed 001 ("Denoising score matching", Vincent 2011).
//
// Maths. x ~ p_data, z ~ N(0, I_D), x~ = x + sigma z, so that
// grad_x~ log q_sigma(x~ | x) = -(x~ - x) / sigma^2 = -z / sigma. With the model's
// first-order score s1 = s1(x~; theta) at the noisy point, Eq. (3) reads
//
//     L_DSM = (1/2) E || s1(x~) + z / sigma ||^2 .
//
// hosm's estimator on a batch of N samples keeps the 1/2 of Eq. (3) and takes
// the batch MEAN (the unbiased estimator of seed 001, (1/2n) sum_i ...):
//
//     L = (1/N) sum_j l_j,   l_j = (1/2) || s1_j + z_j / sigma ||^2,
//     dL/ds1_j = (1/N) (s1_j + z_j / sigma).
//
// By Eq. (6), || sigma^2 s1 + x~ - x ||^2 = 2 sigma^4 l, so minimising L is the
// least-squares regression of x on x~ through h = x~ + sigma^2 s1 (Tweedie,
// Eq. 4): the minimiser is s1 = grad log q_sigma, where the conditional mean
// of the gradient E[s1(x~) + z / sigma | x~] vanishes (the exact score is a
// stationary point; tests/objectives/dsm.test.cpp checks this by Monte Carlo).
//
// API (s1, z, g1: D x N batch views in B's memory, one column per sample):
//
//   objectives::dsm<T> obj{sigma};                   sigma finite and > 0
//   obj.sigma()
//   T objectives::loss<B>(obj, s1, z)                        -> L
//   T objectives::loss_and_gradient<B>(obj, s1, z, g1)       -> L; g1 = dL/ds1
//
// B defaults to backend::cpp. z = (x~ - x) / sigma is the noise that made
// x~ (noise::gaussian::perturb returns it). g1 must not overlap s1 or z.
// Errors (hosm::error naming the function and argument): sigma not finite
// and > 0; D < 1 or N < 1; z or g1 not D x N like s1; g1 overlapping s1 or
// z; non-finite z; a non-finite loss (the message names a non-finite s1, or
// reports overflow).
#pragma once
#include <type_traits>
#include <vector>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/objectives/detail/checks.hpp>
#include <hosm/objectives/detail/dsm_sample.hpp>

namespace hosm::objectives {

/// DSM configuration (seed 000 Eq. 3): the noise level sigma.
template <class T>
class dsm {
public:
    using value_type = T;
    explicit dsm(T sigma) : sigma_(sigma) {
        hosm::detail::check_positive("objectives::dsm", "sigma", sigma);
    }
    T sigma() const { return sigma_; }

private:
    T sigma_;
};

namespace detail {

template <class T>
struct dsm_fn {
    batch_view<const T> s1, z;
    batch_view<T> g1;
    T sigma, scale;
    bool grad;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T* s = s1.col(j);
        const T* zj = z.col(j);
        if (grad) dsm_backward(s1.dim, s, zj, sigma, scale, g1.col(j), false);
        return dsm_sample(s1.dim, s, zj, sigma);
    }
};

template <concepts::Backend B, class T>
T run_dsm(const char* where, T sigma, batch_view<const T> s1, batch_view<const T> z,
          batch_view<T> g1, bool grad) {
    hosm::detail::check_positive(where, "sigma", sigma);
    const index_t D = s1.dim, N = s1.count;
    check_sizes(where, D, N);
    check_view<T>(where, "s1", s1, D, N);
    check_view<T>(where, "z", z, D, N);
    if (grad) {
        check_view<T>(where, "g1", g1, D, N);
        check_disjoint<T>(where, {{"s1", s1}, {"z", z}}, {{"g1", g1}});
    }
    check_finite<B>(where, "z", z);
    const T loss =
        mean_of_samples<B, T>(N, dsm_fn<T>{s1, z, g1, sigma, T(1) / static_cast<T>(N), grad});
    return finish(where, loss, [&] { check_finite<B>(where, "s1", s1); });
}

}  // namespace detail

/// L = (1/N) sum_j (1/2) ||s1_j + z_j / sigma||^2 (seed 000 Eq. 3).
template <concepts::Backend B = backend::cpp, class T>
T loss(const dsm<T>& obj, std::type_identity_t<batch_view<const T>> s1,
       std::type_identity_t<batch_view<const T>> z) {
    return detail::run_dsm<B, T>("objectives::loss(dsm)", obj.sigma(), s1, z, {}, false);
}

/// L as in loss(); writes g1 = dL/ds1 = (s1 + z / sigma) / N.
template <concepts::Backend B = backend::cpp, class T>
T loss_and_gradient(const dsm<T>& obj, std::type_identity_t<batch_view<const T>> s1,
                    std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<T>> g1) {
    return detail::run_dsm<B, T>("objectives::loss_and_gradient(dsm)", obj.sigma(), s1, z, g1,
                                 true);
}

}  // namespace hosm::objectives
