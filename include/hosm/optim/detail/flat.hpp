// hosm/optim/detail/flat.hpp — shared checks and kernels of the optimisers
// that work on flat parameter arrays.
//
// A model keeps all its parameters in ONE contiguous array of B's memory and
// its gradients in another of the same length; an optimiser (sgd, adam), the
// parameter average (ema) and the clipping functions take such arrays as a
// pointer and a length n.
//
//   check_flat(where, name, p, n)               n >= 1 and p != nullptr
//   check_state_size(where, state_n, n)         n equals the size of the state
//                                               built by the first call (0 = none)
//   count_non_finite<B>(p, n)                   number of NaN / +-inf entries
//   check_grads_finite<B>(where, g, n)          hosm::error naming the first bad
//                                               entry (host memory) or the count
//   copy_from_host(dst, src, n)                 resize dst (B's vector) to n and
//                                               copy n host values into it
// Errors are hosm::error naming the function and the argument.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <cstddef>

#include <thrust/copy.h>
#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/all_finite.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>

namespace hosm::optim::detail {

/// 1 for a non-finite entry, 0 otherwise.
template <class T>
struct non_finite_fn {
    const T* p;
    HOSM_HOST_DEVICE index_t operator()(index_t i) const { return std::isfinite(p[i]) ? 0 : 1; }
};

template <class T>
void check_flat(const char* where, const char* name, const T* p, index_t n) {
    hosm::detail::check_at_least(where, "n", n, 1);
    if (p == nullptr) hosm::detail::fail(where, "argument '", name, "' is a null pointer");
}

/// The state was sized by the first call (state_n > 0): every later call must
/// pass the same n.
inline void check_state_size(const char* where, index_t state_n, index_t n) {
    if (state_n != 0 && n != state_n)
        hosm::detail::fail(where, "size mismatch: argument 'n' = ", n,
                           " but the state was built for ", state_n,
                           " parameters by an earlier call (call reset() to start over)");
}

using hosm::detail::all_finite_host;  // core/all_finite.hpp

template <concepts::Backend B, class T>
index_t count_non_finite(const T* p, index_t n) {
    if constexpr (B::host_memory)
        if (all_finite_host(p, n)) return 0;
    return backend::transform_reduce_index<B>(n, non_finite_fn<T>{p}, index_t(0));
}

/// Throws when g has a non-finite entry; nothing has been modified yet.
template <concepts::Backend B, class T>
void check_grads_finite(const char* where, const T* g, index_t n) {
    const index_t bad = count_non_finite<B>(g, n);
    if (bad == 0) return;
    if constexpr (B::host_memory) {
        for (index_t i = 0; i < n; ++i)
            if (!std::isfinite(g[i]))
                hosm::detail::fail(where, "argument 'grads' has ", bad,
                                   " non-finite entries, the first ", g[i], " at index ", i,
                                   "; parameters and state are left unchanged");
    }
    hosm::detail::fail(where, "argument 'grads' has ", bad,
                       " non-finite entries; parameters and state are left unchanged");
}

/// dst (a B vector) <- the n host values at src.
template <class Vector, class T>
void copy_from_host(Vector& dst, const T* src, index_t n) {
    dst.resize(static_cast<std::size_t>(n));
    // callers have checked src (check_flat); the test keeps g++ 12 -O3 from
    // warning (-Wnonnull) on a path it cannot rule out through an inlined caller
    if (src != nullptr) thrust::copy(src, src + n, dst.begin());
}

}  // namespace hosm::optim::detail
