// hosm/targets/detail/mixture_score_host.hpp — s1 of a diagonal-covariance
// Gaussian mixture for a batch, vectorised across samples (host back ends).
//
// mixture_score (mixture.hpp) runs one sample at a time, and its K exp calls
// (most of which underflow far from the modes, the slow path of libm's expf)
// dominate a Langevin step on a small-D mixture. With diagonal covariances the
// per-component work is a few flops per dimension, so here 16 samples go
// through every step together as fixed-size Eigen arrays (SIMD exp), in two
// passes over the components instead of a running maximum:
//
//   a_k = log w_k + log N_k - (1/2) sum_i (x_i - mu_ik)^2 / var_ik,  m = max_k a_k,
//   e_k = exp(a_k - m),  s1_i = sum_k e_k g_ik / sum_k e_k,  g_ik = -(x_i - mu_ik) / var_ik,
//
// the same formula as mixture_score (components with a_k = -inf contribute 0;
// if all do, s1 = 0). Results agree with it to a few ulp (packet exp, order of
// the sum over k). Every sample goes through the same code whatever its place
// in a block (the last block is padded), so results do not depend on the batch
// size, on how a run is split into batches, or on the thread count.
//
//   mixture_score_diag_host(v, x, out, for_blocks)   v: gaussian_mixture_view
//   with every Sigma_k diagonal; for_blocks(n, f) runs f(b) for b in [0, n).
#pragma once
#include <Eigen/Core>
#include <limits>
#include <vector>

#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>

namespace hosm::targets::detail {

template <class V, class T, class ForBlocks>
void mixture_score_diag_host(const V& v, batch_view<const T> x, batch_view<T> out,
                             ForBlocks&& for_blocks) {
    constexpr index_t W = 16;
    using A = Eigen::Array<T, W, 1>;
    const index_t D = v.D, K = v.K, N = x.count;
    for_blocks((N + W - 1) / W, [=](index_t b) {
        const index_t j0 = b * W, len = N - j0 < W ? N - j0 : W;
        thread_local std::vector<A, Eigen::aligned_allocator<A>> xs, acc;
        xs.resize(std::size_t(D));
        acc.resize(std::size_t(D));
        for (index_t i = 0; i < D; ++i) {
            A& xi = xs[std::size_t(i)];
            xi.setZero();
            for (index_t l = 0; l < len; ++l) xi(l) = x.data[(j0 + l) * D + i];
        }
        auto log_joint = [&](index_t k) {
            const T* mu = v.mu + k * D;
            const T* var = v.var + k * D;
            A q = A::Zero();
            for (index_t i = 0; i < D; ++i) {
                const A d = xs[std::size_t(i)] - mu[i];
                q += d * d / var[i];
            }
            return A(v.log_w[k] + v.log_norm[k] - q / T(2));
        };
        constexpr T ninf = -std::numeric_limits<T>::infinity();
        A m = A::Constant(ninf);
        for (index_t k = 0; k < K; ++k) m = m.max(log_joint(k));
        const auto valid = m > ninf;  // some component has a finite log density
        const A shift = valid.select(m, A::Zero());
        A s = A::Zero();
        for (index_t i = 0; i < D; ++i) acc[std::size_t(i)].setZero();
        for (index_t k = 0; k < K; ++k) {
            const A e = (log_joint(k) - shift).exp();
            s += e;
            const T* mu = v.mu + k * D;
            const T* var = v.var + k * D;
            for (index_t i = 0; i < D; ++i)
                acc[std::size_t(i)] += e * (-(xs[std::size_t(i)] - mu[i]) / var[i]);
        }
        const auto pos = valid && (s > T(0));
        const A inv_s = pos.select(s, A::Ones());
        for (index_t i = 0; i < D; ++i) {
            const A r = pos.select(acc[std::size_t(i)] / inv_s, A::Zero());
            for (index_t l = 0; l < len; ++l) out.data[(j0 + l) * D + i] = r(l);
        }
    });
}

}  // namespace hosm::targets::detail
