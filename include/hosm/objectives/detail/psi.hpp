// hosm/objectives/detail/psi.hpp — per-sample pieces of the second-order
// objectives for each Hessian structure (HOSM_HOST_DEVICE; no allocation, no
// exceptions; O(D) for diagonal, O(D R^2) for low_rank, O(D^2) for full — no
// D x D temporary for diagonal and low_rank).
//
// Notation (seed 000, Sec. 4): psi = H + s1 s1^T with H the structured s2,
// A = (I - z z^T) / sigma^2, E = psi + A (the D2SM residual of Eq. 13). For
// the diagonal structure the objectives use the diagonal form of Eq. (17):
// psi_i = d_i + s1_i^2, A_i = (1 - z_i^2) / sigma^2, E_i = psi_i + A_i.
//
//   d2sm_sample(H, s1, z, sigma)   ||E||_F^2 (full, low_rank: Eq. 13) or
//                                  ||E||^2 (diagonal: Eq. 17), by the
//                                  structure operations of hosm/hessian/
//   psi_sq(H, s1)                  ||psi||_F^2 (full, low_rank), ||psi||^2 (diagonal)
//   vr_cross(Hp, sp, Hm, sm, H0, s0, z)
//                                  sigma^2 <A, psi+ + psi- - 2 psi0>: with
//                                  Delta = psi+ + psi- - 2 psi0,
//                                  tr Delta - z^T Delta z (full, low_rank) or
//                                  sum_i (1 - z_i^2) Delta_i (diagonal); the
//                                  differences are formed before the caller
//                                  multiplies by 1/sigma^2 (the terms cancel to
//                                  O(sigma^2) for a smooth model)
//   psi_backward(H, s1, z, inv_var, a, b, G, g1)
//                                  for a loss whose derivative in psi is the
//                                  symmetric M = a psi + b A (inv_var = 1/sigma^2),
//                                  writes the gradients in the model's outputs:
//                                    full:      G = M (every entry independent),
//                                               g1 = (M + M^T) s1
//                                    low_rank:  G.alpha = diag(M), G.B = 2 M B,
//                                               g1 = 2 M s1
//                                    diagonal:  G.d = m (m_i = a psi_i + b A_i),
//                                               g1 = 2 m o s1
//                                  since psi = diag(alpha) + B B^T + s1 s1^T gives
//                                  d<M, psi>/dalpha = diag(M), d/dB = (M + M^T) B,
//                                  d/ds1 = (M + M^T) s1. For low_rank, M v is
//                                    a (alpha o v + B (B^T v) + s1 (s1 . v))
//                                    + b (v - z (z . v)) / sigma^2,
//                                  O(D R) per vector, so G.B costs O(D R^2).
//                                  Outputs must not overlap the inputs.
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::objectives::detail {

// ---- the D2SM integrand -------------------------------------------------------------

template <class T>
HOSM_HOST_DEVICE inline T d2sm_sample(hessian::full_view<const T> H, const T* s1, const T* z,
                                      T sigma) {
    return hessian::d2sm_residual_sq(H, s1, z, sigma);
}
template <class T>
HOSM_HOST_DEVICE inline T d2sm_sample(hessian::low_rank_view<const T> H, const T* s1, const T* z,
                                      T sigma) {
    return hessian::d2sm_residual_sq(H, s1, z, sigma);
}
template <class T>
HOSM_HOST_DEVICE inline T d2sm_sample(hessian::diagonal_view<const T> H, const T* s1, const T* z,
                                      T sigma) {
    return hessian::d2sm_diag_residual_sq(H, s1, z, sigma);
}

// ---- ||psi||^2 ------------------------------------------------------------------------

template <class T>
HOSM_HOST_DEVICE inline T psi_sq(hessian::full_view<const T> H, const T* s1) {
    const T w = T(-1);  // ||H - (0 I + s1 (-1) s1^T)||^2
    return hessian::residual_sq_ipr(H, T(0), 1, &w, s1);
}
template <class T>
HOSM_HOST_DEVICE inline T psi_sq(hessian::low_rank_view<const T> H, const T* s1) {
    const T w = T(-1);
    return hessian::residual_sq_ipr(H, T(0), 1, &w, s1);
}
template <class T>
HOSM_HOST_DEVICE inline T psi_sq(hessian::diagonal_view<const T> H, const T* s1) {
    const T w = T(-1);
    return hessian::diag_residual_sq_ipr(H, T(0), 1, &w, s1);
}

// ---- the antithetic cross term ------------------------------------------------------

/// tr Delta - z^T Delta z, Delta = psi+ + psi- - 2 psi0 (full and low_rank views).
template <class V, class T>
HOSM_HOST_DEVICE inline T vr_cross(V Hp, const T* sp, V Hm, const T* sm, V H0, const T* s0,
                                   const T* z) {
    const index_t D = Hp.dim;
    T tr_s = T(0), zp = T(0), zm = T(0), z0 = T(0);
    for (index_t i = 0; i < D; ++i) {
        tr_s += (sp[i] * sp[i] + sm[i] * sm[i]) - T(2) * s0[i] * s0[i];
        zp += z[i] * sp[i];
        zm += z[i] * sm[i];
        z0 += z[i] * s0[i];
    }
    const T tr_h = (hessian::trace(Hp) + hessian::trace(Hm)) - T(2) * hessian::trace(H0);
    const T q_h =
        (hessian::quad_form(Hp, z) + hessian::quad_form(Hm, z)) - T(2) * hessian::quad_form(H0, z);
    const T q_s = (zp * zp + zm * zm) - T(2) * z0 * z0;
    return (tr_h + tr_s) - (q_h + q_s);
}

/// sum_i (1 - z_i^2) Delta_i, Delta_i = psi+_i + psi-_i - 2 psi0_i (diagonal views).
template <class T>
HOSM_HOST_DEVICE inline T vr_cross(hessian::diagonal_view<const T> Hp, const T* sp,
                                   hessian::diagonal_view<const T> Hm, const T* sm,
                                   hessian::diagonal_view<const T> H0, const T* s0, const T* z) {
    T c = T(0);
    for (index_t i = 0; i < Hp.dim; ++i) {
        const T delta = ((Hp.d[i] + Hm.d[i]) - T(2) * H0.d[i]) +
                        ((sp[i] * sp[i] + sm[i] * sm[i]) - T(2) * s0[i] * s0[i]);
        c += (T(1) - z[i] * z[i]) * delta;
    }
    return c;
}

// ---- gradients in the model outputs ---------------------------------------------------

template <class T>
HOSM_HOST_DEVICE inline void psi_backward(hessian::full_view<const T> H, const T* s1, const T* z,
                                          T inv_var, T a, T b, hessian::full_view<T> G, T* g1) {
    const index_t D = H.dim;
    const T bv = b * inv_var;
    for (index_t j = 0; j < D; ++j)
        for (index_t i = 0; i < D; ++i)
            G(i, j) = a * (H(i, j) + s1[i] * s1[j]) + bv * ((i == j ? T(1) : T(0)) - z[i] * z[j]);
    for (index_t i = 0; i < D; ++i) {
        T g = T(0);
        for (index_t j = 0; j < D; ++j) g += (G(i, j) + G(j, i)) * s1[j];
        g1[i] = g;
    }
}

/// out = f M v, M = a psi + b A for a low-rank psi (see the header). out != v.
template <class T>
HOSM_HOST_DEVICE inline void low_rank_apply_m(hessian::low_rank_view<const T> H, const T* s1,
                                              const T* z, T inv_var, T a, T b, T f, const T* v,
                                              T* out) {
    const index_t D = H.dim;
    T ps = T(0), pz = T(0);
    for (index_t i = 0; i < D; ++i) {
        ps += s1[i] * v[i];
        pz += z[i] * v[i];
    }
    const T fa = f * a, fb = f * b * inv_var;
    for (index_t i = 0; i < D; ++i)
        out[i] = fa * (H.alpha[i] * v[i] + s1[i] * ps) + fb * (v[i] - z[i] * pz);
    for (index_t l = 0; l < H.rank; ++l) {
        const T* bl = H.B + l * D;
        T p = T(0);
        for (index_t i = 0; i < D; ++i) p += bl[i] * v[i];
        p *= fa;
        for (index_t i = 0; i < D; ++i) out[i] += p * bl[i];
    }
}

template <class T>
HOSM_HOST_DEVICE inline void psi_backward(hessian::low_rank_view<const T> H, const T* s1,
                                          const T* z, T inv_var, T a, T b,
                                          hessian::low_rank_view<T> G, T* g1) {
    const index_t D = H.dim;
    const T bv = b * inv_var;
    for (index_t i = 0; i < D; ++i) {
        T h = H.alpha[i] + s1[i] * s1[i];
        for (index_t k = 0; k < H.rank; ++k) h += H.b(i, k) * H.b(i, k);
        G.alpha[i] = a * h + bv * (T(1) - z[i] * z[i]);
    }
    for (index_t k = 0; k < H.rank; ++k)
        low_rank_apply_m(H, s1, z, inv_var, a, b, T(2), H.B + k * D, G.B + k * D);
    low_rank_apply_m(H, s1, z, inv_var, a, b, T(2), s1, g1);
}

template <class T>
HOSM_HOST_DEVICE inline void psi_backward(hessian::diagonal_view<const T> H, const T* s1,
                                          const T* z, T inv_var, T a, T b,
                                          hessian::diagonal_view<T> G, T* g1) {
    const T bv = b * inv_var;
    for (index_t i = 0; i < H.dim; ++i) {
        const T m = a * (H.d[i] + s1[i] * s1[i]) + bv * (T(1) - z[i] * z[i]);
        G.d[i] = m;
        g1[i] = T(2) * m * s1[i];
    }
}

}  // namespace hosm::objectives::detail
