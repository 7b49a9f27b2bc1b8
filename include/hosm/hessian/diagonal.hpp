// hosm/hessian/diagonal.hpp — the diagonal Hessian structure.
//
// Per sample: the D diagonal entries; H = diag(d). Also the structure of
// seed 000's diagonal D2SM (Eq. 17), where only diag(s2) is modelled.
//
// Per-sample operations (HOSM_HOST_DEVICE, no allocation, no exceptions; the
// same names and arguments as for full_view, see hosm/hessian/full.hpp):
//
//   apply(H, v, out)            out = d o v (out may be v)           O(D)
//   quad_form(H, v)             sum_i d_i v_i^2                      O(D)
//   to_dense(H, out)            out = diag(d), D x D column-major    O(D^2)
//   diagonal_of(H, out)         out = d                              O(D)
//   trace(H), frobenius_sq(H)   sum d_i, sum d_i^2                   O(D)
//   affine(H, a, b, Hout)       d' = a d + b (Hout may be H)         O(D)
//   residual_sq(H, M)           ||diag(d) - M||_F^2, M dense D x D   O(D^2)
//   residual_sq_ipr(H, c, m, w, U)
//                               ||diag(d) - (c I + U diag(w) U^T)||_F^2 in
//                               O(D m^2) without forming D x D:
//                                 = sum_i (d_i - c - t_i)^2 + sum_{k,l} w_k w_l P_kl,
//                               t_i = sum_k w_k U_ik^2 and, for the columns
//                               u_k of U, P_kl = (u_k . u_l)^2 - sum_i (u_ik u_il)^2
//                               = sum_{i != j} u_ik u_il u_jk u_jl (the
//                               off-diagonal energy of U diag(w) U^T; it is
//                               computed pair by pair, so it is 0 exactly for
//                               D = 1, and clamped at 0 against rounding)
//   d2sm_residual_sq(H, s1, z, sigma)
//                               ||diag(d) + s1 s1^T + (I - z z^T)/sigma^2||_F^2
//                               (seed 000 Eq. 13): residual_sq_ipr with
//                               c = -1/sigma^2, U = [s1, z], w = (-1, 1/sigma^2)
//   diag_residual_sq_ipr(H, c, m, w, U), d2sm_diag_residual_sq(H, s1, z, sigma)
//                               the diagonal parts only (seed 000 Eq. 17), O(D m)
//
// Accuracy: the off-diagonal energy is a difference of Gram-type sums, so its
// absolute error is of order eps * ||U diag(w) U^T||_F^2; the diagonal part is
// formed entry by entry. Preconditions as for full_view; sigma > 0.
#pragma once
#include <type_traits>

#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::hessian {

/// Structure tag: H = diag(d), D numbers per sample.
struct diagonal {
    static constexpr const char* name = "diagonal";
};

template <class T>
struct diagonal_view {
    T* d = nullptr;
    index_t dim = 0;

    HOSM_HOST_DEVICE operator diagonal_view<const T>() const
        requires(!std::is_const_v<T>) { return {d, dim}; }
};

/// view_type<S, T>::type: the per-sample view of structure S (see full.hpp).
template <class S, class T>
struct view_type;
template <class T>
struct view_type<diagonal, T> {
    using type = diagonal_view<T>;
};

/// out = diag(d) v; out may be v.
template <class U>
HOSM_HOST_DEVICE inline void apply(diagonal_view<U> H, const std::remove_const_t<U>* v,
                                   std::remove_const_t<U>* out) {
    for (index_t i = 0; i < H.dim; ++i) out[i] = H.d[i] * v[i];
}

/// sum_i d_i v_i^2.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> quad_form(diagonal_view<U> H,
                                                         const std::remove_const_t<U>* v) {
    std::remove_const_t<U> q(0);
    for (index_t i = 0; i < H.dim; ++i) q += H.d[i] * v[i] * v[i];
    return q;
}

/// out = diag(d) as a D x D column-major matrix.
template <class U>
HOSM_HOST_DEVICE inline void to_dense(diagonal_view<U> H, std::remove_const_t<U>* out) {
    using T = std::remove_const_t<U>;
    const index_t D = H.dim;
    for (index_t j = 0; j < D; ++j)
        for (index_t i = 0; i < D; ++i) out[i + j * D] = i == j ? H.d[i] : T(0);
}

/// out = d.
template <class U>
HOSM_HOST_DEVICE inline void diagonal_of(diagonal_view<U> H, std::remove_const_t<U>* out) {
    if (out == H.d) return;
    for (index_t i = 0; i < H.dim; ++i) out[i] = H.d[i];
}

/// sum_i d_i.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> trace(diagonal_view<U> H) {
    std::remove_const_t<U> t(0);
    for (index_t i = 0; i < H.dim; ++i) t += H.d[i];
    return t;
}

/// sum_i d_i^2.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> frobenius_sq(diagonal_view<U> H) {
    std::remove_const_t<U> s(0);
    for (index_t i = 0; i < H.dim; ++i) s += H.d[i] * H.d[i];
    return s;
}

/// Hout = a H + b I: d' = a d + b. Hout may be H.
template <class U>
HOSM_HOST_DEVICE inline void affine(diagonal_view<U> H, std::remove_const_t<U> a,
                                    std::remove_const_t<U> b,
                                    diagonal_view<std::remove_const_t<U>> Hout) {
    for (index_t i = 0; i < H.dim; ++i) Hout.d[i] = a * H.d[i] + b;
}

/// ||diag(d) - M||_F^2 for a dense D x D column-major M.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> residual_sq(diagonal_view<U> H,
                                                           const std::remove_const_t<U>* M) {
    using T = std::remove_const_t<U>;
    const index_t D = H.dim;
    T s = T(0);
    for (index_t j = 0; j < D; ++j)
        for (index_t i = 0; i < D; ++i) {
            const T r = (i == j ? H.d[i] : T(0)) - M[i + j * D];
            s += r * r;
        }
    return s;
}

namespace detail {
/// ||diag(d) - (c I + sum_k weight(k) u_k u_k^T)||_F^2 in O(D m^2), O(1) memory.
template <class U, class T, class Col, class Weight>
HOSM_HOST_DEVICE inline T diagonal_ipr(diagonal_view<U> H, T c, index_t m, Col col, Weight weight) {
    const index_t D = H.dim;
    T diag_part = T(0);
    for (index_t i = 0; i < D; ++i) {
        T t = c;
        for (index_t k = 0; k < m; ++k) {
            const T* u = col(k);
            t += weight(k) * u[i] * u[i];
        }
        const T r = H.d[i] - t;
        diag_part += r * r;
    }
    T off = T(0);
    for (index_t k = 0; k < m; ++k) {
        const T* x = col(k);
        for (index_t l = k; l < m; ++l) {
            const T* y = col(l);
            T g = T(0), q = T(0);
            for (index_t i = 0; i < D; ++i) {
                const T p = x[i] * y[i];
                g += p;
                q += p * p;
            }
            const T wkl = weight(k) * weight(l);
            off += (l == k ? T(1) : T(2)) * wkl * (g * g - q);
        }
    }
    return diag_part + (off > T(0) ? off : T(0));
}
/// sum_i (d_i - c - sum_k weight(k) u_k[i]^2)^2.
template <class U, class T, class Col, class Weight>
HOSM_HOST_DEVICE inline T diagonal_diag_ipr(diagonal_view<U> H, T c, index_t m, Col col,
                                            Weight weight) {
    T s = T(0);
    for (index_t i = 0; i < H.dim; ++i) {
        T t = c;
        for (index_t k = 0; k < m; ++k) {
            const T* u = col(k);
            t += weight(k) * u[i] * u[i];
        }
        const T r = H.d[i] - t;
        s += r * r;
    }
    return s;
}
}  // namespace detail

/// ||diag(d) - (c I + U diag(w) U^T)||_F^2, U D x m column-major; O(D m^2). m >= 0.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> residual_sq_ipr(
    diagonal_view<U> H, std::remove_const_t<U> c, index_t m, const std::remove_const_t<U>* w,
    const std::remove_const_t<U>* Ucols) {
    const index_t D = H.dim;
    return detail::diagonal_ipr(
        H, c, m, [=](index_t k) { return Ucols + k * D; }, [=](index_t k) { return w[k]; });
}

/// ||diag(d) + s1 s1^T + (I - z z^T) / sigma^2||_F^2 (seed 000 Eq. 13). sigma > 0.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> d2sm_residual_sq(diagonal_view<U> H,
                                                                const std::remove_const_t<U>* s1,
                                                                const std::remove_const_t<U>* z,
                                                                std::remove_const_t<U> sigma) {
    using T = std::remove_const_t<U>;
    const T inv = T(1) / (sigma * sigma);
    return detail::diagonal_ipr(
        H, -inv, 2, [=](index_t k) { return k == 0 ? s1 : z; },
        [=](index_t k) { return k == 0 ? T(-1) : inv; });
}

/// sum_i (d_i - c - sum_k w_k U_ik^2)^2: the diagonal part of residual_sq_ipr.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> diag_residual_sq_ipr(
    diagonal_view<U> H, std::remove_const_t<U> c, index_t m, const std::remove_const_t<U>* w,
    const std::remove_const_t<U>* Ucols) {
    const index_t D = H.dim;
    return detail::diagonal_diag_ipr(
        H, c, m, [=](index_t k) { return Ucols + k * D; }, [=](index_t k) { return w[k]; });
}

/// ||d + s1 o s1 + (1 - z o z) / sigma^2||^2 (seed 000 Eq. 17). sigma > 0.
template <class U>
HOSM_HOST_DEVICE inline std::remove_const_t<U> d2sm_diag_residual_sq(
    diagonal_view<U> H, const std::remove_const_t<U>* s1, const std::remove_const_t<U>* z,
    std::remove_const_t<U> sigma) {
    using T = std::remove_const_t<U>;
    const T inv = T(1) / (sigma * sigma);
    return detail::diagonal_diag_ipr(
        H, -inv, 2, [=](index_t k) { return k == 0 ? s1 : z; },
        [=](index_t k) { return k == 0 ? T(-1) : inv; });
}

}  // namespace hosm::hessian
