// hosm/hessian/low_rank.hpp — the diagonal-plus-low-rank Hessian structure.
//
// Per sample: H = diag(alpha) + B B^T with alpha in R^D and B in R^{D x R},
// seed 000 Sec. 4.2. R is a compile-time rank, or hosm::dynamic for a rank
// fixed at run time (low_rank<dynamic>, alias low_rank_dynamic).
// Storage per sample: alpha (D numbers) and B column-major (D*R numbers).
//
// Per-sample operations (HOSM_HOST_DEVICE, no allocation, no exceptions; the
// same names and arguments as for full_view, see hosm/hessian/full.hpp), with
// R = H.rank and b_k the k-th column of B:
//
//   apply(H, v, out)            out = alpha o v + sum_k (b_k . v) b_k   O(D R)
//                               (out must not overlap v)
//   quad_form(H, v)             sum_i alpha_i v_i^2 + sum_k (b_k . v)^2  O(D R)
//   to_dense(H, out)            out = diag(alpha) + B B^T, D x D        O(D^2 R)
//   diagonal_of(H, out)         out_i = alpha_i + sum_k B_ik^2          O(D R)
//   trace(H)                    sum alpha_i + sum B_ik^2                O(D R)
//   frobenius_sq(H)             ||H||_F^2 in O(D R^2), see below
//   affine(H, a, b, Hout)       a H + b I = diag(a alpha + b) + (sqrt(a) B)(sqrt(a) B)^T,
//                               so alpha' = a alpha + b, B' = sqrt(a) B;
//                               REQUIRES a >= 0 (Tweedie's covariance
//                               sigma^4 s2 + sigma^2 I, seed 000 Eq. 18, is
//                               affine(s2, sigma^4, sigma^2, .)). Hout has
//                               H's dim and rank and may be H.    O(D R)
//   residual_sq(H, M)           ||H - M||_F^2, M dense D x D          O(D^2 R)
//   residual_sq_ipr(H, c, m, w, U)
//                               ||H - (c I + U diag(w) U^T)||_F^2 in
//                               O(D (R + m)^2) time, O(1) memory: write
//                               H - T = diag(a) + C S C^T with a = alpha - c,
//                               C = [B, U], S = diag(1 (R times), -w); then
//                                 ||.||_F^2 = sum_i (a_i + t_i)^2 + sum_{k,l} S_k S_l P_kl,
//                               t_i = sum_k S_k C_ik^2 and, for columns c_k of C,
//                               P_kl = (c_k . c_l)^2 - sum_i (c_ik c_il)^2, the
//                               off-diagonal part of the Gram identity
//                               ||C S C^T||_F^2 = sum_{k,l} S_k S_l (c_k . c_l)^2;
//                               the Gram entries are formed pair by pair, on the fly
//   d2sm_residual_sq(H, s1, z, sigma)
//                               ||H + s1 s1^T + (I - z z^T)/sigma^2||_F^2
//                               (seed 000 Eq. 13): residual_sq_ipr with
//                               c = -1/sigma^2, U = [s1, z], w = (-1, 1/sigma^2)
//   diag_residual_sq_ipr(H, c, m, w, U), d2sm_diag_residual_sq(H, s1, z, sigma)
//                               the diagonal parts only (seed 000 Eq. 17), O(D (R + m))
//
// Accuracy: the off-diagonal energy sum S_k S_l P_kl is a difference of sums,
// with an absolute error of order eps * (||B||^4 + ||U diag(w) U^T||_F^2); it
// is 0 exactly for D = 1 and clamped at 0 against rounding. Preconditions as
// for full_view, and H.rank >= 0 columns in B; sigma > 0; a >= 0 in affine.
#pragma once
#include <cmath>
#include <type_traits>

#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::hessian {

/// Structure tag: H = diag(alpha) + B B^T, B of D x R.
template <int R>
struct low_rank {
    static_assert(R == dynamic || R >= 1, "hosm::hessian::low_rank<R>: R must be >= 1 or hosm::dynamic");
    static constexpr int rank = R;
    static constexpr const char* name = "low_rank";
};

using low_rank_dynamic = low_rank<dynamic>;

/// One sample's low-rank Hessian: alpha[i], B[i + k * dim] = B(i, k).
template <class T>
struct low_rank_view {
    T* alpha = nullptr;
    T* B = nullptr;
    index_t dim = 0;
    index_t rank = 0;

    HOSM_HOST_DEVICE T& b(index_t i, index_t k) const { return B[i + k * dim]; }
    HOSM_HOST_DEVICE operator low_rank_view<const T>() const
        requires(!std::is_const_v<T>) { return {alpha, B, dim, rank}; }
};

template <class S>
inline constexpr bool is_low_rank_v = false;
template <int R>
inline constexpr bool is_low_rank_v<low_rank<R>> = true;

/// view_type<S, T>::type: the per-sample view of structure S (see full.hpp).
template <class S, class T>
struct view_type;
template <int R, class T>
struct view_type<low_rank<R>, T> {
    using type = low_rank_view<T>;
};

/// out = diag(alpha) v + B (B^T v). `out` must not overlap v.
template <class U>
HOSM_HOST_DEVICE inline void apply(low_rank_view<U> H, const std::remove_const_t<U>* v,
                                   std::remove_const_t<U>* out) {
    using T = std::remove_const_t<U>;
    const index_t D = H.dim;
    for (index_t i = 0; i < D; ++i) out[i] = H.alpha[i] * v[i];
    for (index_t k = 0; k < H.rank; ++k) {
        const U* b = H.B + k * D;
        T p = T(0);
        for (index_t i = 0; i < D; ++i) p += b[i] * v[i];
        for (index_t i = 0; i < D; ++i) out[i] += p * b[i];
    }
}

/// v^T H v = sum_i alpha_i v_i^2 + ||B^T v||^2.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> quad_form(low_rank_view<U> H,
                                                         const std::remove_const_t<U>* v) {
    using T = std::remove_const_t<U>;
    const index_t D = H.dim;
    T q = T(0);
    for (index_t i = 0; i < D; ++i) q += H.alpha[i] * v[i] * v[i];
    for (index_t k = 0; k < H.rank; ++k) {
        const U* b = H.B + k * D;
        T p = T(0);
        for (index_t i = 0; i < D; ++i) p += b[i] * v[i];
        q += p * p;
    }
    return q;
}

/// out = diag(alpha) + B B^T as a D x D column-major matrix.
template <class U>
HOSM_HOST_DEVICE inline void to_dense(low_rank_view<U> H, std::remove_const_t<U>* out) {
    using T = std::remove_const_t<U>;
    const index_t D = H.dim;
    for (index_t j = 0; j < D; ++j)
        for (index_t i = 0; i < D; ++i) {
            T h = i == j ? H.alpha[i] : T(0);
            for (index_t k = 0; k < H.rank; ++k) h += H.b(i, k) * H.b(j, k);
            out[i + j * D] = h;
        }
}

/// out_i = alpha_i + sum_k B_ik^2.
template <class U>
HOSM_HOST_DEVICE inline void diagonal_of(low_rank_view<U> H, std::remove_const_t<U>* out) {
    for (index_t i = 0; i < H.dim; ++i) {
        std::remove_const_t<U> h = H.alpha[i];
        for (index_t k = 0; k < H.rank; ++k) h += H.b(i, k) * H.b(i, k);
        out[i] = h;
    }
}

/// tr H = sum_i alpha_i + ||B||_F^2.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> trace(low_rank_view<U> H) {
    std::remove_const_t<U> t(0);
    for (index_t i = 0; i < H.dim; ++i) t += H.alpha[i];
    const index_t n = H.dim * H.rank;
    for (index_t k = 0; k < n; ++k) t += H.B[k] * H.B[k];
    return t;
}

/// Hout = a H + b I: alpha' = a alpha + b, B' = sqrt(a) B. Requires a >= 0;
/// Hout has H's dim and rank and may be H.
template <class U>
HOSM_HOST_DEVICE inline void affine(low_rank_view<U> H, std::remove_const_t<U> a,
                                    std::remove_const_t<U> b,
                                    low_rank_view<std::remove_const_t<U>> Hout) {
    using T = std::remove_const_t<U>;
    for (index_t i = 0; i < H.dim; ++i) Hout.alpha[i] = a * H.alpha[i] + b;
    const index_t n = H.dim * H.rank;
    if (a == T(1)) {
        if (Hout.B != H.B)
            for (index_t k = 0; k < n; ++k) Hout.B[k] = H.B[k];
        return;
    }
    const T r = std::sqrt(a);
    for (index_t k = 0; k < n; ++k) Hout.B[k] = r * H.B[k];
}

/// ||H - M||_F^2 for a dense D x D column-major M; H formed entry by entry.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> residual_sq(low_rank_view<U> H,
                                                           const std::remove_const_t<U>* M) {
    using T = std::remove_const_t<U>;
    const index_t D = H.dim;
    T s = T(0);
    for (index_t j = 0; j < D; ++j)
        for (index_t i = 0; i < D; ++i) {
            T h = i == j ? H.alpha[i] : T(0);
            for (index_t k = 0; k < H.rank; ++k) h += H.b(i, k) * H.b(j, k);
            const T r = h - M[i + j * D];
            s += r * r;
        }
    return s;
}

namespace detail {
/// ||diag(alpha) + B B^T - (c I + sum_k weight(k) u_k u_k^T)||_F^2 with
/// u_k = col(k), in O(D (R + m)^2) time and O(1) memory (see the header).
template <class U, class T, class Col, class Weight>
HOSM_HOST_DEVICE inline T low_rank_ipr(low_rank_view<U> H, T c, index_t m, Col col, Weight weight) {
    const index_t D = H.dim, R = H.rank, n = R + m;
    // column k of C = [B, U] and its sign S_k
    auto ccol = [=](index_t k) -> const T* { return k < R ? H.B + k * D : col(k - R); };
    auto sgn = [=](index_t k) -> T { return k < R ? T(1) : -weight(k - R); };
    T diag_part = T(0);
    for (index_t i = 0; i < D; ++i) {
        T a = H.alpha[i] - c;
        for (index_t k = 0; k < n; ++k) {
            const T x = ccol(k)[i];
            a += sgn(k) * x * x;
        }
        diag_part += a * a;
    }
    T off = T(0);
    for (index_t k = 0; k < n; ++k) {
        const T* x = ccol(k);
        for (index_t l = k; l < n; ++l) {
            const T* y = ccol(l);
            T g = T(0), q = T(0);
            for (index_t i = 0; i < D; ++i) {
                const T p = x[i] * y[i];
                g += p;
                q += p * p;
            }
            off += (l == k ? T(1) : T(2)) * sgn(k) * sgn(l) * (g * g - q);
        }
    }
    return diag_part + (off > T(0) ? off : T(0));
}
/// sum_i (H_ii - c - sum_k weight(k) u_k[i]^2)^2 in O(D (R + m)).
template <class U, class T, class Col, class Weight>
HOSM_HOST_DEVICE inline T low_rank_diag_ipr(low_rank_view<U> H, T c, index_t m, Col col,
                                            Weight weight) {
    T s = T(0);
    for (index_t i = 0; i < H.dim; ++i) {
        T r = H.alpha[i] - c;
        for (index_t k = 0; k < H.rank; ++k) r += H.b(i, k) * H.b(i, k);
        for (index_t k = 0; k < m; ++k) {
            const T* u = col(k);
            r -= weight(k) * u[i] * u[i];
        }
        s += r * r;
    }
    return s;
}
}  // namespace detail

/// ||H||_F^2 in O(D R^2), without forming D x D.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> frobenius_sq(low_rank_view<U> H) {
    using T = std::remove_const_t<U>;
    return detail::low_rank_ipr(
        H, T(0), 0, [](index_t) -> const T* { return nullptr; }, [](index_t) { return T(0); });
}

/// ||H - (c I + U diag(w) U^T)||_F^2, U D x m column-major; O(D (R + m)^2). m >= 0.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> residual_sq_ipr(
    low_rank_view<U> H, std::remove_const_t<U> c, index_t m, const std::remove_const_t<U>* w,
    const std::remove_const_t<U>* Ucols) {
    const index_t D = H.dim;
    return detail::low_rank_ipr(
        H, c, m, [=](index_t k) { return Ucols + k * D; }, [=](index_t k) { return w[k]; });
}

/// ||H + s1 s1^T + (I - z z^T) / sigma^2||_F^2 (seed 000 Eq. 13). sigma > 0.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> d2sm_residual_sq(low_rank_view<U> H,
                                                                const std::remove_const_t<U>* s1,
                                                                const std::remove_const_t<U>* z,
                                                                std::remove_const_t<U> sigma) {
    using T = std::remove_const_t<U>;
    const T inv = T(1) / (sigma * sigma);
    return detail::low_rank_ipr(
        H, -inv, 2, [=](index_t k) { return k == 0 ? s1 : z; },
        [=](index_t k) { return k == 0 ? T(-1) : inv; });
}

/// sum_i (H_ii - c - sum_k w_k U_ik^2)^2: the diagonal part of residual_sq_ipr.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> diag_residual_sq_ipr(
    low_rank_view<U> H, std::remove_const_t<U> c, index_t m, const std::remove_const_t<U>* w,
    const std::remove_const_t<U>* Ucols) {
    const index_t D = H.dim;
    return detail::low_rank_diag_ipr(
        H, c, m, [=](index_t k) { return Ucols + k * D; }, [=](index_t k) { return w[k]; });
}

/// ||diag(H) + s1 o s1 + (1 - z o z) / sigma^2||^2 (seed 000 Eq. 17). sigma > 0.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> d2sm_diag_residual_sq(
    low_rank_view<U> H, const std::remove_const_t<U>* s1, const std::remove_const_t<U>* z,
    std::remove_const_t<U> sigma) {
    using T = std::remove_const_t<U>;
    const T inv = T(1) / (sigma * sigma);
    return detail::low_rank_diag_ipr(
        H, -inv, 2, [=](index_t k) { return k == 0 ? s1 : z; },
        [=](index_t k) { return k == 0 ? T(-1) : inv; });
}

}  // namespace hosm::hessian
