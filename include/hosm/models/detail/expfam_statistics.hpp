// hosm/models/detail/expfam_statistics.hpp — what models::exponential_family
// needs from a sufficient-statistics policy.
//
// A statistics policy S describes the family p(x) ∝ exp(theta^T T(x) + a(x)),
// x in R^D, theta in R^K (a is the log base measure). It is a small, trivially
// copyable value (it is captured by value in per-sample kernels) with
//
//   typename S::value_type                         T (float, double)
//   s.dim()                                        D >= 1   (host and device)
//   s.size()                                       K >= 1   (host and device)
//   s.value(x, t)                                  t[k] = T_k(x),          k < K
//   s.derivatives(x, grad, lap)                    grad[k + K i] = dT_k/dx_i (the
//                                                  K x D matrix (grad_x T)^T, column-
//                                                  major: column i is dT/dx_i);
//                                                  lap[k] = Laplacian of T_k at x
//   s.base(x, grad_a, lap_a) -> T                  returns a(x); grad_a[i] = da/dx_i
//                                                  (D entries), *lap_a = Laplacian of a
//
// value, derivatives and base are HOSM_HOST_DEVICE, write every output entry
// (no accumulation, no allocation, no exceptions) and take x as D contiguous
// numbers. Built-in policies: models::gaussian_statistics (expfam_gaussian_
// statistics.hpp) and models::polynomial_statistics (expfam_polynomial_
// statistics.hpp).
#pragma once
#include <concepts>
#include <type_traits>

#include <hosm/core/types.hpp>

namespace hosm::models::detail {

template <class S>
concept expfam_statistics =
    requires { typename S::value_type; } && std::is_trivially_copyable_v<S> &&
    requires(const S& s, const typename S::value_type* x, typename S::value_type* out) {
        { s.dim() } -> std::convertible_to<index_t>;
        { s.size() } -> std::convertible_to<index_t>;
        s.value(x, out);
        s.derivatives(x, out, out);
        { s.base(x, out, out) } -> std::convertible_to<typename S::value_type>;
    };

}  // namespace hosm::models::detail
