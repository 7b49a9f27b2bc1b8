// hosm/objectives/detail/centered.hpp — per-sample pieces of the centred
// D2SM objectives (hosm/objectives/d2sm_centered.hpp), for each Hessian
// structure (HOSM_HOST_DEVICE; no allocation, no exceptions; O(D) diagonal,
// O(D R^2) low_rank, O(D^2) full; no D x D temporary for diagonal and low_rank).
//
// Notation: H the structured s2 of one sample, s the given s1 at the same
// input, z the noise, c = +1 or -1 the sign of the noise (x~ = x + c sigma z),
// e = c z + sigma s the centred residual, A = (I - z z^T)/sigma^2 and
// C = (I - e e^T)/sigma^2 = A + Bc with
//   Bc = -c (z s^T + s z^T)/sigma - s s^T.
// The diagonal structure uses the diagonal forms (A_i = (1 - z_i^2)/sigma^2 etc.).
//
//   bilinear(H, u, v)        u^T H v (diagonal: sum d_i u_i v_i)
//   b_inner(H, s, z, c, sigma)
//                            <Bc, H> = -c (z^T H s + s^T H z)/sigma - s^T H s,
//                            without forming e (the terms in 1/sigma^2 of
//                            <C, H> are left to the caller, who takes their
//                            antithetic differences first)
//   cov_backward(H, s, z, c, sigma, a, b, G)
//                            writes the gradient of a loss whose derivative in
//                            H is M = a H + b C (s == nullptr: M = a H + b A):
//                              full:      G = M
//                              low_rank:  G.alpha = diag(M), G.B = 2 M B, where
//                                         M v = a (alpha o v + B (B^T v))
//                                             + b (v - e (e . v))/sigma^2, O(D R)
//                              diagonal:  G.d = m, m_i = a d_i + b (1 - e_i^2)/sigma^2
//                            (H = diag(alpha) + B B^T gives d<M, H>/dalpha = diag(M),
//                            d/dB = (M + M^T) B = 2 M B for the symmetric M).
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::objectives::detail {

template <class T>
HOSM_HOST_DEVICE inline T bilinear(hessian::full_view<const T> H, const T* u, const T* v) {
    T r = T(0);
    for (index_t j = 0; j < H.dim; ++j) {
        T c = T(0);
        for (index_t i = 0; i < H.dim; ++i) c += u[i] * H(i, j);
        r += c * v[j];
    }
    return r;
}
template <class T>
HOSM_HOST_DEVICE inline T bilinear(hessian::low_rank_view<const T> H, const T* u, const T* v) {
    const index_t D = H.dim;
    T r = T(0);
    for (index_t i = 0; i < D; ++i) r += H.alpha[i] * u[i] * v[i];
    for (index_t k = 0; k < H.rank; ++k) {
        const T* bk = H.B + k * D;
        T pu = T(0), pv = T(0);
        for (index_t i = 0; i < D; ++i) {
            pu += bk[i] * u[i];
            pv += bk[i] * v[i];
        }
        r += pu * pv;
    }
    return r;
}
template <class T>
HOSM_HOST_DEVICE inline T bilinear(hessian::diagonal_view<const T> H, const T* u, const T* v) {
    T r = T(0);
    for (index_t i = 0; i < H.dim; ++i) r += H.d[i] * u[i] * v[i];
    return r;
}

/// <Bc, H> = -c (z^T H s + s^T H z)/sigma - s^T H s (see the header).
template <class V, class T>
HOSM_HOST_DEVICE inline T b_inner(V H, const T* s, const T* z, T c, T sigma) {
    return -c * (bilinear(H, z, s) + bilinear(H, s, z)) / sigma - bilinear(H, s, s);
}

/// e_i = c z_i + sigma s_i, or z_i when s is null.
template <class T>
HOSM_HOST_DEVICE inline T centred(const T* s, const T* z, T c, T sigma, index_t i) {
    return s ? c * z[i] + sigma * s[i] : z[i];
}

template <class T>
HOSM_HOST_DEVICE inline void cov_backward(hessian::full_view<const T> H, const T* s, const T* z,
                                          T c, T sigma, T a, T b, hessian::full_view<T> G) {
    const index_t D = H.dim;
    const T bv = b / (sigma * sigma);
    for (index_t j = 0; j < D; ++j) {
        const T ej = centred(s, z, c, sigma, j);
        for (index_t i = 0; i < D; ++i)
            G(i, j) = a * H(i, j) +
                      bv * ((i == j ? T(1) : T(0)) - centred(s, z, c, sigma, i) * ej);
    }
}

template <class T>
HOSM_HOST_DEVICE inline void cov_backward(hessian::low_rank_view<const T> H, const T* s,
                                          const T* z, T c, T sigma, T a, T b,
                                          hessian::low_rank_view<T> G) {
    const index_t D = H.dim;
    const T bv = b / (sigma * sigma);
    for (index_t i = 0; i < D; ++i) {
        T h = H.alpha[i];
        for (index_t k = 0; k < H.rank; ++k) h += H.b(i, k) * H.b(i, k);
        const T ei = centred(s, z, c, sigma, i);
        G.alpha[i] = a * h + bv * (T(1) - ei * ei);
    }
    // G.B_k = 2 M b_k with M v = a (alpha o v + B (B^T v)) + b (v - e (e . v))/sigma^2
    for (index_t k = 0; k < H.rank; ++k) {
        const T* v = H.B + k * D;
        T* out = G.B + k * D;
        T pe = T(0);
        for (index_t i = 0; i < D; ++i) pe += centred(s, z, c, sigma, i) * v[i];
        for (index_t i = 0; i < D; ++i)
            out[i] = T(2) * (a * H.alpha[i] * v[i] + bv * (v[i] - centred(s, z, c, sigma, i) * pe));
        for (index_t l = 0; l < H.rank; ++l) {
            const T* bl = H.B + l * D;
            T p = T(0);
            for (index_t i = 0; i < D; ++i) p += bl[i] * v[i];
            p *= T(2) * a;
            for (index_t i = 0; i < D; ++i) out[i] += p * bl[i];
        }
    }
}

template <class T>
HOSM_HOST_DEVICE inline void cov_backward(hessian::diagonal_view<const T> H, const T* s,
                                          const T* z, T c, T sigma, T a, T b,
                                          hessian::diagonal_view<T> G) {
    const T bv = b / (sigma * sigma);
    for (index_t i = 0; i < H.dim; ++i) {
        const T ei = centred(s, z, c, sigma, i);
        G.d[i] = a * H.d[i] + bv * (T(1) - ei * ei);
    }
}

}  // namespace hosm::objectives::detail
