// hosm/tweedie/posterior.hpp — posterior mean and covariance of the clean x
// given a noisy x~ = x + sigma z, z ~ N(0, I), from the scores of the noisy
// density q_sigma (seed 000 Sec. 2.3 and 5):
//
//   E[x | x~]   = x~ + sigma^2 s1(x~)                 Tweedie's formula, Eq. (4)
//   Cov[x | x~] = sigma^4 s2(x~) + sigma^2 I          Eq. (18) (Eq. (4) and (9))
//
// with s1 = grad log q_sigma and s2 = Hessian of log q_sigma. Why these hold,
// and the higher moments, is derived in hosm/tweedie/moments.hpp. The
// covariance keeps the structure of s2: it is hessian::affine(s2, sigma^4,
// sigma^2, out) of hosm/hessian/{full,diagonal,low_rank}.hpp (batched by
// hosm/hessian/operations.hpp), so a full s2
// gives a full covariance, a diagonal s2 the marginal variances, and a
// low-rank s2 = diag(alpha) + B B^T the low-rank covariance
// diag(sigma^4 alpha + sigma^2) + (sigma^2 B)(sigma^2 B)^T, in O(D R).
// Note that a learned s2 need not make the covariance positive semi-definite;
// these functions apply the formula and do not project.
//
// API
//   per-sample kernels (HOSM_HOST_DEVICE, unchecked; out may alias the input):
//     void tweedie::mean(const T* x_tilde, const T* s1, index_t dim, T sigma, T* out)
//     void tweedie::covariance(V s2, T sigma, V' out)   V a full/diagonal/low_rank view
//   batched over N samples on back end B (checked, throw hosm::error):
//     void tweedie::posterior_mean<B>(batch_view<const T> x_tilde,
//                                     batch_view<const T> s1, T sigma, batch_view<T> out)
//     void tweedie::posterior_mean(const batch<T, B>& x_tilde, const batch<T, B>& s1,
//                                  T sigma, batch<T, B>& out)
//     void tweedie::posterior_covariance(const hessian::batch<S, T, B>& s2, T sigma,
//                                        hessian::batch<S, T, B>& out)
//   Preconditions checked: sigma finite and > 0; x_tilde, s1 and out of equal
//   dim (>= 1) and count; s2 and out of equal dim, count (and rank for
//   low-rank). `out` may be one of the inputs (element-wise, in place).
//   Non-finite scores propagate (the data may live in device memory).
#pragma once
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>
#include <hosm/hessian/operations.hpp>

namespace hosm::tweedie {

// ---- per-sample kernels -------------------------------------------------------

/// out = x_tilde + sigma^2 s1 (seed 000 Eq. 4). out may be x_tilde or s1.
template <class T>
HOSM_HOST_DEVICE inline void mean(const T* x_tilde, const T* s1, index_t dim,
                                  std::type_identity_t<T> sigma, T* out) {
    const T s2 = sigma * sigma;
    for (index_t i = 0; i < dim; ++i) out[i] = x_tilde[i] + s2 * s1[i];
}

/// out = sigma^4 s2 + sigma^2 I in the structure of s2 (seed 000 Eq. 18).
/// View and Out are the same structure's views; out may be s2.
template <class View, class Out, class T>
HOSM_HOST_DEVICE inline void covariance(View s2, T sigma, Out out) {
    const T v = sigma * sigma;
    hessian::affine(s2, v * v, v, out);
}

namespace detail {

/// out.col(j) = x.col(j) + sigma^2 s1.col(j), element by element.
template <class T>
struct mean_kernel {
    const T* x;
    const T* s1;
    T* out;
    T var;
    HOSM_HOST_DEVICE void operator()(index_t k) const { out[k] = x[k] + var * s1[k]; }
};

}  // namespace detail

// ---- batched, checked ---------------------------------------------------------

/// out = x_tilde + sigma^2 s1 for every sample (seed 000 Eq. 4), on back end B.
template <concepts::Backend B, class T>
void posterior_mean(batch_view<const std::type_identity_t<T>> x_tilde,
                    batch_view<const std::type_identity_t<T>> s1, std::type_identity_t<T> sigma,
                    batch_view<T> out) {
    constexpr const char* where = "tweedie::posterior_mean";
    hosm::detail::check_positive(where, "sigma", sigma);
    hosm::detail::check_at_least(where, "x_tilde.dim", x_tilde.dim, 1);
    hosm::detail::check_size(where, "s1 (dim)", s1.dim, x_tilde.dim);
    hosm::detail::check_size(where, "s1 (count)", s1.count, x_tilde.count);
    hosm::detail::check_size(where, "out (dim)", out.dim, x_tilde.dim);
    hosm::detail::check_size(where, "out (count)", out.count, x_tilde.count);
    backend::for_each_index<B>(
        x_tilde.size(), detail::mean_kernel<T>{x_tilde.data, s1.data, out.data, sigma * sigma});
}

/// The same on owning batches; the back end is theirs.
template <class T, concepts::Backend B>
void posterior_mean(const batch<T, B>& x_tilde, const batch<T, B>& s1,
                    std::type_identity_t<T> sigma, batch<T, B>& out) {
    posterior_mean<B, T>(x_tilde.view(), s1.view(), sigma, out.view());
}

/// out_j = sigma^4 s2_j + sigma^2 I for every sample, structure kept (seed 000
/// Eq. 18), on s2's back end. out may be s2 itself.
template <class S, class T, concepts::Backend B>
void posterior_covariance(const hessian::batch<S, T, B>& s2, std::type_identity_t<T> sigma,
                          hessian::batch<S, T, B>& out) {
    constexpr const char* where = "tweedie::posterior_covariance";
    hosm::detail::check_positive(where, "sigma", sigma);
    hosm::detail::check_size(where, "out (dim)", out.dim(), s2.dim());
    hosm::detail::check_size(where, "out (count)", out.count(), s2.count());
    if constexpr (hessian::is_low_rank_v<S>)
        hosm::detail::check_size(where, "out (rank)", out.rank(), s2.rank());
    const T v = sigma * sigma;
    hessian::affine<B>(s2, v * v, v, out);
}

}  // namespace hosm::tweedie
