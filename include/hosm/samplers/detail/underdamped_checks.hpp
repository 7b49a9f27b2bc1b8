// hosm/samplers/detail/underdamped_checks.hpp — noise keys and run-time checks
// shared by the underdamped, walk-jump and reverse-SDE samplers.
//
//   noise_index(chain, step)       the sample index of random::stream draws for
//                                  one chain in one step: (step << 32) | chain,
//                                  draw k = coordinate. Chains < 2^32, steps < 2^32.
//   for_each_noise<T, B>(s, step, D, N, f)
//                                  f(e, xi) for each entry e = i + j D with xi
//                                  = s.normal<T>(noise_index(j, step), i), the
//                                  normals drawn two per Philox call.
//   check_run_budget(where, chains, step, n)
//                                  hosm::error if the keys above would overflow.
//   first_nonfinite<B>(x, chain, coord, value)   locate the first bad entry.
//   check_chains_finite<B>(where, what, x[, step, before])
//                                  hosm::error naming the first chain (column)
//                                  with a non-finite entry, its coordinate and
//                                  value, and the step: "... non-finite <what>
//                                  in chain j (coordinate i = v) at step k"
//                                  ("before step k" when `before`). The scan is
//                                  a B reduction; only on failure is the batch
//                                  copied to the host to locate the entry.
//   nonfinite_score_hint           the advice appended to those messages.
//   check_state_shapes(where, x, v, src_dim)
//                                  x and v of one shape, x of the source's dimension.
//
// Kernel helpers (HOSM_HOST_DEVICE, no exceptions): axpby_fn, scale_fn.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include <thrust/copy.h>
#include <thrust/device_ptr.h>
#include <thrust/host_vector.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/random/normal.hpp>
#include <hosm/random/philox.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::samplers::detail {

inline constexpr std::uint64_t max_key = std::uint64_t(1) << 32;

HOSM_HOST_DEVICE inline std::uint64_t noise_index(index_t chain, std::uint64_t step) {
    return (step << 32) | static_cast<std::uint64_t>(static_cast<std::uint32_t>(chain));
}

/// for_each_noise<B>(s, step, D, N, f): f(e, xi) for every entry e = i + j D
/// of a D x N batch, xi = s.normal<T>(noise_index(j, step), i). The draws are
/// made in pairs (coordinates 2p, 2p + 1 of a chain share one Philox call, as
/// random::fill_normal does), which halves the generator's cost; the numbers
/// are exactly those of s.normal.
template <class T, class F>
struct noise_pair_fn {
    F f;
    random::stream s;
    std::uint64_t step;
    index_t D, P;  // P = ceil(D / 2) pairs per chain
    HOSM_HOST_DEVICE void operator()(index_t p) const {
        const index_t j = p / P;
        const index_t i = 2 * (p - j * P);
        const random::block128 b =
            random::philox_block(s.seed, s.id, noise_index(j, step),
                                 static_cast<std::uint32_t>(i >> 1), random::domain::normal);
        T n0, n1;
        random::box_muller<T>(b, n0, n1);
        f(i + j * D, n0);
        if (i + 1 < D) f(i + 1 + j * D, n1);
    }
};

template <class T, concepts::Backend B, class F>
void for_each_noise(const random::stream& s, std::uint64_t step, index_t D, index_t N, F f) {
    const index_t P = (D + 1) / 2;
    backend::for_each_index<B>(N * P, noise_pair_fn<T, F>{f, s, step, D, P});
}

inline void check_run_budget(const char* where, index_t chains, std::uint64_t step, index_t n) {
    hosm::detail::check_at_least(where, "steps", n, 0);
    if (static_cast<std::uint64_t>(chains) > max_key)
        hosm::detail::fail(where, "too many chains: ", chains, " (the noise keys allow 2^32)");
    if (step + static_cast<std::uint64_t>(n) > max_key)
        hosm::detail::fail(where, "too many steps: the state has taken ", step, " steps and ", n,
                           " more were asked (the noise keys allow 2^32)");
}

inline constexpr const char* nonfinite_score_hint =
    "; the step size may be too large for this score, or the score source returned "
    "non-finite values";

/// Finds the first non-finite entry of x (by chain, then coordinate); false if
/// there is none. One B reduction; the batch is copied to the host only when
/// some entry is bad.
template <concepts::Backend B, class T>
bool first_nonfinite(batch_view<const T> x, index_t& chain, index_t& coord, T& value) {
    if (x.size() == 0) return false;
    const index_t bad = backend::transform_reduce_index<B>(
        x.size(), noise::detail::nonfinite_flag<T>{x.data}, index_t(0));
    if (bad == 0) return false;
    thrust::host_vector<T> h(static_cast<std::size_t>(x.size()));
    if constexpr (B::host_memory) {
        std::copy(x.data, x.data + x.size(), h.begin());
    } else {
        thrust::copy(thrust::device_pointer_cast(x.data),
                     thrust::device_pointer_cast(x.data) + x.size(), h.begin());
    }
    for (index_t j = 0; j < x.count; ++j)
        for (index_t i = 0; i < x.dim; ++i) {
            const T v = h[static_cast<std::size_t>(i + j * x.dim)];
            if (!std::isfinite(static_cast<double>(v))) {
                chain = j;
                coord = i;
                value = v;
                return true;
            }
        }
    return false;
}

/// "non-finite <what> in chain j (coordinate i = v) at step k" (or "before step k").
template <concepts::Backend B, class T>
void check_chains_finite(const char* where, const char* what, batch_view<const T> x,
                         std::uint64_t step, bool before = false) {
    index_t j = 0, i = 0;
    T v = T(0);
    if (first_nonfinite<B>(x, j, i, v))
        hosm::detail::fail(where, "non-finite ", what, " in chain ", j, " (coordinate ", i, " = ",
                           v, ") ", before ? "before" : "at", " step ", step, nonfinite_score_hint);
}

/// "non-finite <what> in chain j (coordinate i = v)", outside a step.
template <concepts::Backend B, class T>
void check_chains_finite(const char* where, const char* what, batch_view<const T> x) {
    index_t j = 0, i = 0;
    T v = T(0);
    if (first_nonfinite<B>(x, j, i, v))
        hosm::detail::fail(where, "non-finite ", what, " in chain ", j, " (coordinate ", i, " = ",
                           v, ")");
}

/// The state's velocities must have the positions' shape and the positions the
/// score source's dimension.
template <class T>
void check_state_shapes(const char* where, batch_view<const T> x, batch_view<const T> v,
                        index_t src_dim) {
    if (v.dim != x.dim || v.count != x.count)
        hosm::detail::fail(where, "dimension mismatch: the state's velocities are ", v.dim, " x ",
                           v.count, ", its positions ", x.dim, " x ", x.count);
    if (x.dim != src_dim)
        hosm::detail::fail(where, "dimension mismatch: the state has dimension ", x.dim,
                           ", the score source ", src_dim);
}

/// out[e] = a x[e] + b y[e].
template <class T>
struct axpby_fn {
    const T* x;
    const T* y;
    T* out;
    T a, b;
    HOSM_HOST_DEVICE void operator()(index_t e) const { out[e] = a * x[e] + b * y[e]; }
};

/// out[e] = f in[e] (out may be in).
template <class T>
struct scale_fn {
    const T* in;
    T* out;
    T f;
    HOSM_HOST_DEVICE void operator()(index_t e) const { out[e] = f * in[e]; }
};

}  // namespace hosm::samplers::detail
