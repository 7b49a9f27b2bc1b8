// hosm/targets/detail/mixture.hpp — per-sample log density, scores and
// Hessians of a finite mixture p(x) = sum_k w_k p_k(x), shared by the Gaussian
// mixture and the mixture of logistics.
//
// Maths. With a_k(x) = log w_k + log p_k(x), the posterior (responsibility)
// weights r_k(x) = exp(a_k - logsumexp(a)), component scores g_k = grad log p_k
// and component Hessians H_k = grad^2 log p_k:
//
//   log p  = logsumexp_k a_k                                   (max-shifted)
//   s1     = sum_k r_k g_k
//   s2     = sum_k r_k H_k + sum_k r_k (g_k - s1)(g_k - s1)^T
//
// (differentiate r_k: grad r_k = r_k (g_k - s1); the second sum equals
// sum_k r_k g_k g_k^T - s1 s1^T, written centred for accuracy; it is the
// covariance of the g_k under r, PSD of rank <= K - 1 since sum_k r_k (g_k - s1) = 0).
//
// Low-rank form diag(alpha) + B B^T (exact):
//   * components with diagonal H_k (diagonal-covariance Gaussians, products of
//     logistics) and K - 1 <= R (the batch's rank): alpha = sum_k r_k diag(H_k)
//     and B B^T = C C^T with the K columns c_k = sqrt(r_k)(g_k - s1). As
//     C u = 0 for u = sqrt(r) (a unit vector), a Householder reflection Q with
//     first column -u (v = u + e_p, p the largest weight) gives C Q = [0, C'],
//     so the K - 1 columns  b_k = c_k - sqrt(r_k)/(1 + sqrt(r_p)) c_p  (k != p)
//     factor the same matrix; remaining columns of B are 0.
//   * otherwise (K - 1 > D, or full component Hessians; then R = D): with
//     lambda_k >= the largest eigenvalue of -H_k (bound(k)),
//       alpha = -sum_k r_k lambda_k  (each entry; diagonal H_k: sum_k r_k diag(H_k))
//       B B^T = sum_k r_k (lambda_k I + H_k) + sum_k r_k (g_k - s1)(g_k - s1)^T,
//     a PSD matrix formed in B's storage and factored in place by pivoted
//     Cholesky (psd_factor.hpp).
//
// Component accessor C (a HOSM_HOST_DEVICE view) provides: dim(), components(),
// weight(k), log_joint(k, x) = a_k, grad(k, x, i) = (g_k)_i,
// hess(k, x, i, j) = (H_k)_ij, bound(k), diagonal() (every H_k diagonal), and
// sample_component(k, s, index, out).
//
// Workspace of the Hessians: K + 2 D numbers per sample (r, s1, one g_k - s1).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include <hosm/config.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/detail/psd_factor.hpp>

namespace hosm::targets::detail {

/// logsumexp_k a_k in one pass (running maximum). Components whose a_k is
/// -inf (their density underflows T entirely) are skipped; if all are, the
/// result is -inf.
template <class C, class T>
HOSM_HOST_DEVICE inline T mixture_log_density(const C& c, const T* x) {
    constexpr T ninf = -std::numeric_limits<T>::infinity();
    T m = ninf, s = T(0);
    for (index_t k = 0; k < c.components(); ++k) {
        const T a = c.log_joint(k, x);
        if (!(a > ninf)) continue;
        if (a > m) {
            s = s * std::exp(m - a) + T(1);
            m = a;
        } else {
            s += std::exp(a - m);
        }
    }
    return s > T(0) ? m + std::log(s) : ninf;
}

/// s1 = sum_k r_k g_k in one pass: out accumulates exp(a_k - m) g_k and is
/// rescaled when the running maximum m grows; no workspace. Components with
/// a_k = -inf are skipped (if all are, out is 0: the inputs are then beyond
/// the range where T can represent any component's density).
template <class C, class T>
HOSM_HOST_DEVICE inline void mixture_score(const C& c, const T* x, T* out) {
    constexpr T ninf = -std::numeric_limits<T>::infinity();
    const index_t D = c.dim();
    T m = ninf, s = T(0);
    for (index_t i = 0; i < D; ++i) out[i] = T(0);
    for (index_t k = 0; k < c.components(); ++k) {
        const T a = c.log_joint(k, x);
        if (!(a > ninf)) continue;
        if (a > m) {
            const T f = std::exp(m - a);  // 0 for the first valid component
            s = s * f + T(1);
            for (index_t i = 0; i < D; ++i) out[i] = out[i] * f + c.grad(k, x, i);
            m = a;
        } else {
            const T e = std::exp(a - m);
            if (e == T(0)) continue;
            s += e;
            for (index_t i = 0; i < D; ++i) out[i] += e * c.grad(k, x, i);
        }
    }
    if (s > T(0))
        for (index_t i = 0; i < D; ++i) out[i] /= s;
}

/// r (K numbers): the posterior weights r_k(x) (0 for a_k = -inf; all 0 if
/// every a_k is -inf).
template <class C, class T>
HOSM_HOST_DEVICE inline void mixture_weights(const C& c, const T* x, T* r) {
    constexpr T ninf = -std::numeric_limits<T>::infinity();
    const index_t K = c.components();
    T m = ninf;
    for (index_t k = 0; k < K; ++k) {
        r[k] = c.log_joint(k, x);
        if (r[k] > m) m = r[k];
    }
    T s = T(0);
    for (index_t k = 0; k < K; ++k) {
        r[k] = r[k] > ninf ? std::exp(r[k] - m) : T(0);
        s += r[k];
    }
    if (s > T(0))
        for (index_t k = 0; k < K; ++k) r[k] /= s;
}

/// r and s1 = sum_k r_k g_k into the workspace.
template <class C, class T>
HOSM_HOST_DEVICE inline void mixture_weights_and_score(const C& c, const T* x, T* r, T* s1) {
    const index_t D = c.dim();
    mixture_weights(c, x, r);
    for (index_t i = 0; i < D; ++i) s1[i] = T(0);
    for (index_t k = 0; k < c.components(); ++k) {
        if (r[k] == T(0)) continue;
        for (index_t i = 0; i < D; ++i) s1[i] += r[k] * c.grad(k, x, i);
    }
}

/// d = g_k - s1.
template <class C, class T>
HOSM_HOST_DEVICE inline void mixture_centred_grad(const C& c, const T* x, index_t k, const T* s1,
                                                  T* d) {
    for (index_t i = 0; i < c.dim(); ++i) d[i] = c.grad(k, x, i) - s1[i];
}

/// H = s2(x), dense. work: K + 2D.
template <class C, class T>
HOSM_HOST_DEVICE inline void mixture_hessian(const C& c, const T* x, hessian::full_view<T> H,
                                             T* work) {
    const index_t D = c.dim(), K = c.components();
    T* r = work;
    T* s1 = work + K;
    T* d = s1 + D;
    mixture_weights_and_score(c, x, r, s1);
    for (index_t i = 0; i < D * D; ++i) H.h[i] = T(0);
    for (index_t k = 0; k < K; ++k) {
        const T rk = r[k];
        if (rk == T(0)) continue;
        mixture_centred_grad(c, x, k, s1, d);
        for (index_t j = 0; j < D; ++j) {
            const T dj = rk * d[j];
            T* col = H.h + j * D;
            if (c.diagonal()) {
                col[j] += rk * c.hess(k, x, j, j);
            } else {
                for (index_t i = 0; i < D; ++i) col[i] += rk * c.hess(k, x, i, j);
            }
            for (index_t i = 0; i < D; ++i) col[i] += d[i] * dj;
        }
    }
}

/// H = diag(s2(x)). work: K + D.
template <class C, class T>
HOSM_HOST_DEVICE inline void mixture_hessian(const C& c, const T* x, hessian::diagonal_view<T> H,
                                             T* work) {
    const index_t D = c.dim(), K = c.components();
    T* r = work;
    T* s1 = work + K;
    mixture_weights_and_score(c, x, r, s1);
    for (index_t i = 0; i < D; ++i) H.d[i] = T(0);
    for (index_t k = 0; k < K; ++k) {
        const T rk = r[k];
        if (rk == T(0)) continue;
        for (index_t i = 0; i < D; ++i) {
            const T di = c.grad(k, x, i) - s1[i];
            H.d[i] += rk * (c.hess(k, x, i, i) + di * di);
        }
    }
}

/// H = s2(x) as diag(alpha) + B B^T (exact; see the header). work: K + 2D.
/// Preconditions: H.rank >= K - 1 when c.diagonal() and K - 1 <= D, else H.rank == D.
template <class C, class T>
HOSM_HOST_DEVICE inline void mixture_hessian(const C& c, const T* x, hessian::low_rank_view<T> H,
                                             T* work) {
    const index_t D = c.dim(), K = c.components(), R = H.rank;
    T* r = work;
    T* s1 = work + K;
    T* d = s1 + D;
    mixture_weights_and_score(c, x, r, s1);
    if (c.diagonal()) {
        for (index_t i = 0; i < D; ++i) {
            T a = T(0);
            for (index_t k = 0; k < K; ++k)
                if (r[k] != T(0)) a += r[k] * c.hess(k, x, i, i);
            H.alpha[i] = a;
        }
    }
    if (c.diagonal() && K - 1 <= R) {
        // Householder-reduced columns b_k = c_k - sqrt(r_k)/(1 + sqrt(r_p)) c_p, k != p.
        index_t p = 0;
        for (index_t k = 1; k < K; ++k)
            if (r[k] > r[p]) p = k;
        const T up = std::sqrt(r[p]);
        mixture_centred_grad(c, x, p, s1, d);
        for (index_t i = 0; i < D; ++i) d[i] *= up;  // d = c_p
        index_t col = 0;
        for (index_t k = 0; k < K; ++k) {
            if (k == p) continue;
            const T uk = std::sqrt(r[k]);
            const T f = uk / (T(1) + up);
            T* b = H.B + col * D;
            if (uk == T(0)) {
                for (index_t i = 0; i < D; ++i) b[i] = T(0);
            } else {
                for (index_t i = 0; i < D; ++i) b[i] = uk * (c.grad(k, x, i) - s1[i]) - f * d[i];
            }
            ++col;
        }
        for (; col < R; ++col)
            for (index_t i = 0; i < D; ++i) H.B[col * D + i] = T(0);
        return;
    }
    // Dense PSD part in B's D x D storage, then pivoted Cholesky in place.
    T* S = H.B;
    for (index_t i = 0; i < D * D; ++i) S[i] = T(0);
    if (!c.diagonal()) {
        T lam = T(0);
        for (index_t k = 0; k < K; ++k) lam += r[k] * c.bound(k);
        for (index_t i = 0; i < D; ++i) H.alpha[i] = -lam;
    }
    for (index_t k = 0; k < K; ++k) {
        const T rk = r[k];
        if (rk == T(0)) continue;
        mixture_centred_grad(c, x, k, s1, d);
        for (index_t j = 0; j < D; ++j) {
            T* col = S + j * D;
            const T dj = rk * d[j];
            for (index_t i = 0; i < D; ++i) col[i] += d[i] * dj;
            if (!c.diagonal()) {
                for (index_t i = 0; i < D; ++i) col[i] += rk * c.hess(k, x, i, j);
                col[j] += rk * c.bound(k);
            }
        }
    }
    psd_factor_inplace(S, D, d);
}

/// A draw: component k with probability w_k from s.uniform(index, 0), then
/// the component's own draw (sample_component uses uniforms k >= 1 and normals).
template <class C, class T>
HOSM_HOST_DEVICE inline void mixture_sample(const C& c, const random::stream& s,
                                            std::uint64_t index, T* out) {
    const T u = s.uniform<T>(index, 0);
    const index_t K = c.components();
    index_t k = 0;
    T acc = c.weight(0);
    while (k + 1 < K && !(u < acc)) {
        ++k;
        acc += c.weight(k);
    }
    c.sample_component(k, s, index, out);
}

}  // namespace hosm::targets::detail
