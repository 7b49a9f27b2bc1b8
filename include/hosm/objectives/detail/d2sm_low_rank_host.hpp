// hosm/objectives/detail/d2sm_low_rank_host.hpp — the per-sample D2SM kernel
// for a low-rank s2 on host back ends, through Gram matrices (Eigen).
//
// The HOSM_HOST_DEVICE kernels (psi.hpp, hessian/low_rank.hpp) form every
// inner product with a scalar loop: a float reduction the compiler may not
// reorder, hence not vectorised, and O(D R^2) of them per sample. Every one of
// those inner products is an entry of a small Gram matrix, so on host back ends
// run_d2sm calls this kernel instead, which gets them from Eigen products
// (vectorised, blocked):
//
//   P = B^T B (R x R),  p = B^T s1,  q = B^T z (R),  s1.s1, s1.z, z.z,
//   r_i = sum_k B_ik^2,  t_i = r_i + s1_i^2 - z_i^2 / sigma^2.
//
// Loss (hessian::d2sm_residual_sq's identity, same formula): with
// C = [B, s1, z], S = (1 .. 1, 1, -1/sigma^2), a = alpha + 1/sigma^2,
//   ||E||_F^2 = sum_i (a_i + t_i)^2 + max(0, sum_kl S_k S_l (C^T C)_kl^2 - sum_i t_i^2)
// where sum_kl S_k S_l (c_k . c_l)^2 = ||P||^2 + 2 |p|^2 + (s1.s1)^2
//   - (2/sigma^2)(|q|^2 + (s1.z)^2) + (z.z)^2 / sigma^4, and sum_i t_i^2 is the
// part of it on the diagonal of C S C^T (so the second term is the off-diagonal
// sum of squares, as in hessian::detail::low_rank_ipr).
//
// Gradients (psi_backward's, same formulas): M = a psi + b A, bv = b / sigma^2,
//   G.alpha = a (alpha + s1 o s1 + r) + bv (1 - z o z)
//   G.B     = 2 [a (alpha o B + B P + s1 p^T) + bv (B - z q^T)]      (= 2 M B)
//   g1      = 2 [a (alpha o s1 + B p + s1 (s1.s1)) + bv (s1 - z (s1.z))]  (= 2 M s1)
// Cost per sample: O(D R^2) flops in Eigen's kernels instead of scalar loops.
// The results equal the device kernels' up to rounding (different summation
// order).
#pragma once
#include <Eigen/Core>
#include <algorithm>

#include <hosm/core/types.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::objectives::detail {

/// ||E||_F^2 of sample (H, s1, z); with grad, also G = dL/dH and g1 = dL/ds1
/// (overwritten) for dL/dpsi = a psi + b A (see the header).
template <class T>
inline T d2sm_low_rank_host(hessian::low_rank_view<const T> H, const T* s1p, const T* zp, T sigma,
                            bool grad, T a, T b, hessian::low_rank_view<T> G, T* g1p) {
    using mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    const index_t D = H.dim, R = H.rank;
    const T inv = T(1) / (sigma * sigma);
    // Thread-local copies (no allocation after the first call): Eigen's
    // vectorised loops split a vector by its alignment, so working on copies
    // whose alignment is fixed makes the rounding independent of where the
    // caller's buffers lie (cpp and omp, and any two batches, agree bitwise).
    thread_local mat Bm, P, GB;
    thread_local vec s, z, al, p, q, r, t, ga, g1;
    Bm = Eigen::Map<const mat>(H.B, D, R);
    s = Eigen::Map<const vec>(s1p, D);
    z = Eigen::Map<const vec>(zp, D);
    al = Eigen::Map<const vec>(H.alpha, D);
    P.noalias() = Bm.transpose() * Bm;
    p.noalias() = Bm.transpose() * s;
    q.noalias() = Bm.transpose() * z;
    const T ss = s.squaredNorm(), sz = s.dot(z), zz = z.squaredNorm();
    r.setZero(D);
    for (index_t k = 0; k < R; ++k) r.array() += Bm.col(k).array().square();
    t.resize(D);
    t.array() = r.array() + s.array().square() - inv * z.array().square();
    const T diag_part = ((al.array() + inv) + t.array()).square().sum();
    const T gram = P.squaredNorm() + T(2) * p.squaredNorm() + ss * ss -
                   T(2) * inv * (q.squaredNorm() + sz * sz) + inv * inv * zz * zz;
    const T off = gram - t.squaredNorm();
    const T loss = diag_part + (off > T(0) ? off : T(0));
    if (!grad) return loss;

    const T bv = b * inv;
    ga.resize(D);
    ga.array() = a * (al.array() + s.array().square() + r.array()) + bv * (T(1) - z.array().square());
    GB.noalias() = Bm * P;
    const T a2 = T(2) * a, b2 = T(2) * bv;
    for (index_t k = 0; k < R; ++k)
        GB.col(k).array() = a2 * (al.array() * Bm.col(k).array() + GB.col(k).array() + s.array() * p(k)) +
                            b2 * (Bm.col(k).array() - z.array() * q(k));
    g1.noalias() = Bm * p;
    g1.array() = a2 * (al.array() * s.array() + g1.array() + s.array() * ss) +
                 b2 * (s.array() - z.array() * sz);
    Eigen::Map<vec>(G.alpha, D) = ga;
    Eigen::Map<mat>(G.B, D, R) = GB;
    Eigen::Map<vec>(g1p, D) = g1;
    return loss;
}

}  // namespace hosm::objectives::detail
