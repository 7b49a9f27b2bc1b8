// hosm/optim/clip.hpp — gradient clipping on a flat gradient array: by global
// L2 norm and by value.
//
// Maths
//   global_norm:   ||g||_2 = sqrt(sum_i g_i^2), summed in double for float T
//                  (no overflow, ~1e-16 relative rounding) and in T otherwise;
//                  if that sum overflows while every g_i is finite, it is
//                  recomputed on g_i 2^-k (k = 19/32 of T's max exponent) and
//                  scaled back, so a finite gradient of representable norm
//                  never reads as +inf.
//   clip_by_norm:  with N = ||g||_2 and c = max_norm > 0,
//                  g <- g min(1, c / N),
//                  so the direction is kept and the new norm is min(N, c) (to
//                  rounding). Returns N, the norm BEFORE clipping.
//   clip_by_value: g_i <- min(max(g_i, -c), c) for finite g_i.
//
// Non-finite gradients are reported, never clipped into plausible numbers:
// clip_by_norm returns a NaN or +inf norm and leaves g unchanged when any
// entry is NaN or +-inf (test the result with std::isfinite; the training
// loop's divergence guard does); clip_by_value leaves non-finite entries as
// they are and returns how many there were (0 means all finite).
//
// API (g: n contiguous values in B's memory; reductions use
// backend::transform_reduce_index, whose summation order depends on B and the
// thread count, so norms agree across back ends to rounding, not bitwise)
//   T       optim::global_norm<B>(const T* g, index_t n)
//   T       optim::clip_by_norm<B>(T* g, index_t n, T max_norm)
//   index_t optim::clip_by_value<B>(T* g, index_t n, T limit)
//
// Errors (hosm::error): n < 1, a null pointer, max_norm or limit not finite
// and > 0.
#pragma once
#include <cmath>
#include <limits>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/optim/detail/flat.hpp>

namespace hosm::optim {

namespace detail {

/// The type norms are accumulated in: double for float, T otherwise.
template <class T>
using norm_acc_t = std::conditional_t<(sizeof(T) < sizeof(double)), double, T>;

/// (scale g_i)^2 in the accumulation type.
template <class T, class A>
struct square_fn {
    const T* g;
    A scale;
    HOSM_HOST_DEVICE A operator()(index_t i) const {
        const A x = static_cast<A>(g[i]) * scale;
        return x * x;
    }
};

/// g_i <- g_i * s
template <class T>
struct scale_fn {
    T* g;
    T s;
    HOSM_HOST_DEVICE void operator()(index_t i) const { g[i] = g[i] * s; }
};

/// Clamps finite entries to [-c, c].
template <class T>
struct clamp_fn {
    T* g;
    T c;
    HOSM_HOST_DEVICE void operator()(index_t i) const {
        const T x = g[i];
        if (!std::isfinite(x)) return;
        g[i] = x > c ? c : (x < -c ? -c : x);
    }
};

/// ||g||_2 in the accumulation type (see the header comment).
template <concepts::Backend B, class T>
norm_acc_t<T> norm_acc(const T* g, index_t n) {
    using A = norm_acc_t<T>;
    const A sum = backend::transform_reduce_index<B>(n, square_fn<T, A>{g, A(1)}, A(0));
    if (std::isfinite(sum)) return std::sqrt(sum);
    if (std::isnan(sum)) return sum;
    // +inf: an infinite entry, or an overflow of the squares; rescale by 2^-k.
    const int k = std::numeric_limits<A>::max_exponent * 19 / 32;
    const A scaled = backend::transform_reduce_index<B>(
        n, square_fn<T, A>{g, std::ldexp(A(1), -k)}, A(0));
    return std::ldexp(std::sqrt(scaled), k);  // +inf if an entry is +-inf
}

}  // namespace detail

/// ||g||_2 (NaN or +inf when an entry is not finite).
template <concepts::Backend B, class T>
T global_norm(const T* g, index_t n) {
    static_assert(std::is_floating_point_v<T>, "hosm: optim::global_norm: T must be floating-point");
    detail::check_flat("optim::global_norm", "g", g, n);
    return static_cast<T>(detail::norm_acc<B>(g, n));
}

/// Scales g to norm max_norm when its norm exceeds it; returns the norm
/// before clipping. A non-finite norm is returned with g left unchanged.
template <concepts::Backend B, class T>
T clip_by_norm(T* g, index_t n, T max_norm) {
    static_assert(std::is_floating_point_v<T>, "hosm: optim::clip_by_norm: T must be floating-point");
    constexpr const char* where = "optim::clip_by_norm";
    detail::check_flat(where, "g", g, n);
    hosm::detail::check_positive(where, "max_norm", max_norm);
    using A = detail::norm_acc_t<T>;
    const A norm = detail::norm_acc<B>(g, n);
    if (!std::isfinite(norm)) return static_cast<T>(norm);
    if (norm > static_cast<A>(max_norm))
        backend::for_each_index<B>(
            n, detail::scale_fn<T>{g, static_cast<T>(static_cast<A>(max_norm) / norm)});
    return static_cast<T>(norm);
}

/// Clamps every finite entry to [-limit, limit]; returns the number of
/// non-finite entries (left unchanged).
template <concepts::Backend B, class T>
index_t clip_by_value(T* g, index_t n, T limit) {
    static_assert(std::is_floating_point_v<T>, "hosm: optim::clip_by_value: T must be floating-point");
    constexpr const char* where = "optim::clip_by_value";
    detail::check_flat(where, "g", g, n);
    hosm::detail::check_positive(where, "limit", limit);
    backend::for_each_index<B>(n, detail::clamp_fn<T>{g, limit});
    return detail::count_non_finite<B>(g, n);
}

}  // namespace hosm::optim
