// hosm/samplers/detail/langevin_kernels.hpp — pieces shared by the Langevin-
// type samplers (langevin, mala, ozaki, annealed_langevin).
//
//   for_each_normal<T>(s, index, n, f)   f(k, z_k), z_k = s.normal<T>(index, k),
//                                        k = 0 .. n-1, one Philox call per pair
//                                        (the numbers of random::fill_normal)
//   is_finite(v)                         false for NaN and +-inf (device-safe)
//   ula_fn<T>                            the ULA kernel (seed 000 Eq. 19), per chain:
//                                        out = x + (eps/2) g + sqrt(eps) z
//   check_source(where, src, c)          src.dim() == c.dim(), else hosm::error
//   ensure_shape(b, D, N)                (re)allocates a workspace batch
//   SameMemory<Src, B>                   a source with a backend_type keeps its
//                                        data in the memory of B (host vs device)
#pragma once
#include <cstdint>
#include <type_traits>

#include <hosm/backend/batch.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/random/normal.hpp>
#include <hosm/random/philox.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>

namespace hosm::samplers::detail {

template <class T>
HOSM_HOST_DEVICE inline bool is_finite(T v) {
    return v - v == T(0);
}

/// f(k, z_k) for k in [0, n), z_k = s.normal<T>(index, k).
template <class T, class F>
HOSM_HOST_DEVICE inline void for_each_normal(const random::stream& s, std::uint64_t index,
                                             index_t n, F&& f) {
    index_t k = 0;
    for (; k + 1 < n; k += 2) {
        const random::block128 b = random::philox_block(
            s.seed, s.id, index, static_cast<std::uint32_t>(k >> 1), random::domain::normal);
        T z0, z1;
        random::box_muller<T>(b, z0, z1);
        f(k, z0);
        f(k + 1, z1);
    }
    if (k < n) f(k, s.normal<T>(index, static_cast<std::uint32_t>(k)));
}

/// out_j = x_j + half_eps g_j + sqrt_eps z_j (ULA); flags a non-finite score.
template <class T>
struct ula_fn {
    batch_view<const T> x, g;
    batch_view<T> out;
    int* status;
    random::stream s;
    draw_key key;
    T half_eps, sqrt_eps;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* xj = x.col(j);
        const T* gj = g.col(j);
        T* o = out.col(j);
        int st = 0;
        for_each_normal<T>(s, key(j), x.dim, [&](index_t k, T z) {
            if (!is_finite(gj[k])) st |= nonfinite_score;
            o[k] = xj[k] + half_eps * gj[k] + sqrt_eps * z;
        });
        if (st) status[j] |= st;
    }
};

template <class Src, class T, class B>
void check_source(const char* where, const Src& src, const chains<T, B>& c) {
    const index_t D = static_cast<index_t>(src.dim());
    if (D != c.dim())
        hosm::detail::fail(where, "dimension mismatch: the score source has dimension ", D,
                           " but the chains have dimension ", c.dim());
}

template <class T, class B>
void ensure_shape(batch<T, B>& b, index_t D, index_t N) {
    if (b.dim() != D || b.count() != N) b = batch<T, B>(D, N);
}

/// A source without backend_type is taken on trust; one with it must keep
/// its data where B's kernels can read it.
template <class Src, class B>
concept SameMemory = !requires { typename Src::backend_type; } ||
                     (Src::backend_type::host_memory == B::host_memory);

}  // namespace hosm::samplers::detail
