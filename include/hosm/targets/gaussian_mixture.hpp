// hosm/targets/gaussian_mixture.hpp — a finite Gaussian mixture
// p(x) = sum_k w_k N(x; mu_k, Sigma_k) with exact log density, s1 and s2.
//
// Maths (see detail/mixture.hpp for the derivation), with P_k = Sigma_k^{-1},
// a_k = log w_k + log N(x; mu_k, Sigma_k), r_k(x) = softmax_k(a_k),
// g_k = -P_k (x - mu_k):
//   log p = logsumexp_k a_k
//   s1    = sum_k r_k g_k
//   s2    = sum_k r_k (-P_k) + sum_k r_k (g_k - s1)(g_k - s1)^T
//         = sum_k r_k (-P_k) + [sum_k r_k g_k g_k^T - s1 s1^T]
//   diagonal structure: the diagonal of the above.
//   low-rank structure diag(alpha) + B B^T, exact:
//     * every Sigma_k diagonal: alpha = sum_k r_k (-diag P_k) and B B^T the
//       bracket, a PSD matrix of rank <= K - 1 whose columns are
//       sqrt(r_k)(g_k - s1) (Householder-reduced to K - 1 columns);
//       low_rank_rank() = max(1, min(K - 1, D)) (when K - 1 > D the bracket is
//       factored densely by pivoted Cholesky into D columns);
//     * otherwise, with lambda_k the largest eigenvalue of P_k:
//       alpha = -sum_k r_k lambda_k, B B^T = sum_k r_k (lambda_k I - P_k) + bracket,
//       factored by pivoted Cholesky; low_rank_rank() = D.
//   sampling: k with probability w_k from s.uniform(index, 0), then
//     x = mu_k + L_k z, z(i) = s.normal(index, i).
//   batched s1 on host back ends with every Sigma_k diagonal: vectorised across
//     samples (detail/mixture_score_host.hpp), the same formula to a few ulp.
//   smoothing: p * N(0, sigma^2 I) = sum_k w_k N(mu_k, Sigma_k + sigma^2 I),
//     returned by smoothed(sigma) (the exact noisy target of seed 000).
//   M-density (seed 003 Eq. 4-7): targets::m_density(p, noise::multimeasurement{sigma, M}).
//
// API (T float or double; B a back end; parameters live in B's memory)
//   targets::gaussian_mixture<T, B> p(weights, means, covariances);
//     weights: hosm::vector<T> (K), each > 0, summing to 1 within 1e-6 (they
//              are then renormalized to sum exactly to 1 in T);
//     means:   hosm::matrix<T> K x D (row k is mu_k);
//     covariances: std::vector<hosm::matrix<T>> of K SPD D x D matrices.
//   p.dim(), p.components(), p.weights(), p.means(), p.covariances()   (host copies)
//   p.smoothed(sigma), p.view() (gaussian_mixture_view<T>), p.low_rank_rank()
//   the batched and host functions of detail/target_base.hpp: sample,
//   log_density, score, hessian / hessian_full / hessian_diagonal / hessian_low_rank.
//
// Errors (hosm::error): K = 0; a weight <= 0 or non-finite; weights that sum
// to more than 1e-6 away from 1 ("argument 'weights' sum to ..."); means not
// K x D or non-finite; D = 0; a covariance missing, of the wrong size,
// non-finite, non-symmetric or not positive definite (named covariances[k]);
// sigma <= 0 in smoothed; shapes and non-finite input of the batched functions.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/detail/covariance.hpp>
#include <hosm/targets/detail/mixture.hpp>
#include <hosm/targets/detail/mixture_score_host.hpp>
#include <hosm/targets/detail/normals.hpp>
#include <hosm/targets/detail/target_base.hpp>
#include <hosm/targets/detail/weights.hpp>

namespace hosm::targets {

/// A Gaussian mixture seen by a kernel: component accessor of detail/mixture.hpp
/// and the per-sample target interface.
template <class T>
struct gaussian_mixture_view {
    const T* w = nullptr;         // K weights
    const T* log_w = nullptr;     // K
    const T* mu = nullptr;        // D x K (column k is mu_k)
    const T* L = nullptr;         // D x D x K Cholesky factors
    const T* P = nullptr;         // D x D x K precisions
    const T* var = nullptr;       // D x K diagonals of Sigma_k (used when diag)
    const T* log_norm = nullptr;  // K: -D/2 log 2 pi - 1/2 log det Sigma_k
    const T* lam = nullptr;       // K: largest eigenvalue of P_k
    index_t D = 0;
    index_t K = 0;
    bool diag = false;  // every Sigma_k diagonal

    // component accessor
    HOSM_HOST_DEVICE index_t dim() const { return D; }
    HOSM_HOST_DEVICE index_t components() const { return K; }
    HOSM_HOST_DEVICE bool diagonal() const { return diag; }
    HOSM_HOST_DEVICE T weight(index_t k) const { return w[k]; }
    HOSM_HOST_DEVICE T bound(index_t k) const { return lam[k]; }
    HOSM_HOST_DEVICE T log_joint(index_t k, const T* x) const {
        const T* m = mu + k * D;
        T q = T(0);
        if (diag) {
            const T* v = var + k * D;
            for (index_t i = 0; i < D; ++i) {
                const T d = x[i] - m[i];
                q += d * d / v[i];
            }
        } else {
            const T* Pk = P + k * D * D;
            for (index_t j = 0; j < D; ++j) {
                T t = T(0);
                for (index_t i = 0; i < D; ++i) t += Pk[i + j * D] * (x[i] - m[i]);
                q += t * (x[j] - m[j]);
            }
        }
        return log_w[k] + log_norm[k] - q / T(2);
    }
    HOSM_HOST_DEVICE T grad(index_t k, const T* x, index_t i) const {
        const T* m = mu + k * D;
        if (diag) return -(x[i] - m[i]) / var[i + k * D];
        const T* Pk = P + k * D * D;
        T t = T(0);
        for (index_t j = 0; j < D; ++j) t -= Pk[i + j * D] * (x[j] - m[j]);
        return t;
    }
    HOSM_HOST_DEVICE T hess(index_t k, const T*, index_t i, index_t j) const {
        if (diag) return i == j ? -T(1) / var[i + k * D] : T(0);
        return -P[k * D * D + i + j * D];
    }
    HOSM_HOST_DEVICE void sample_component(index_t k, const random::stream& s,
                                           std::uint64_t index, T* out) const {
        detail::normals(s, index, out, D);
        const T* m = mu + k * D;
        if (diag) {
            for (index_t i = 0; i < D; ++i) out[i] = m[i] + std::sqrt(var[i + k * D]) * out[i];
            return;
        }
        const T* Lk = L + k * D * D;
        for (index_t i = D - 1; i >= 0; --i) {
            T v = T(0);
            for (index_t j = 0; j <= i; ++j) v += Lk[i + j * D] * out[j];
            out[i] = m[i] + v;
        }
    }

    // per-sample target interface
    HOSM_HOST_DEVICE T log_density(const T* x) const { return detail::mixture_log_density(*this, x); }
    HOSM_HOST_DEVICE void score(const T* x, T* out) const { detail::mixture_score(*this, x, out); }
    template <class HV>
    HOSM_HOST_DEVICE void hessian(const T* x, HV H, T* work) const {
        detail::mixture_hessian(*this, x, H, work);
    }
    HOSM_HOST_DEVICE void sample(const random::stream& s, std::uint64_t index, T* out) const {
        detail::mixture_sample(*this, s, index, out);
    }
};

template <class T, concepts::Backend B = backend::cpp>
class gaussian_mixture : public detail::target_base<gaussian_mixture<T, B>, T, B> {
public:
    static constexpr const char* name = "targets::gaussian_mixture";

    gaussian_mixture(const vector<T>& weights, const matrix<T>& means,
                     const std::vector<matrix<T>>& covariances) {
        w_ = detail::check_weights<T>(name, weights);
        const index_t K = static_cast<index_t>(w_.size());
        if (means.rows() != K)
            hosm::detail::fail(name, "dimension mismatch: argument 'means' has ", means.rows(),
                               " rows, expected K = ", K, " (one row per component)");
        const index_t D = static_cast<index_t>(means.cols());
        hosm::detail::check_at_least(name, "means.cols() (the dimension D)", D, 1);
        hosm::detail::check_all_finite(name, "means", means.data(),
                                       static_cast<index_t>(means.size()));
        hosm::detail::check_size(name, "covariances.size()",
                                 static_cast<index_t>(covariances.size()), K);
        means_ = means;
        diag_ = true;
        std::vector<detail::covariance_factor<T>> f;
        for (index_t k = 0; k < K; ++k) {
            const std::string nm = "covariances[" + std::to_string(k) + "]";
            f.push_back(detail::factor_covariance<T>(name, nm.c_str(), covariances[k], D));
            diag_ = diag_ && f.back().diagonal;
        }
        // pack: w | log_w | mu (D x K) | L | P | var | log_norm | lam
        std::vector<T> h;
        h.insert(h.end(), w_.data(), w_.data() + K);
        for (index_t k = 0; k < K; ++k) h.push_back(std::log(w_(k)));
        const matrix<T> muT = means.transpose();
        h.insert(h.end(), muT.data(), muT.data() + D * K);
        for (index_t k = 0; k < K; ++k) h.insert(h.end(), f[k].L.data(), f[k].L.data() + D * D);
        for (index_t k = 0; k < K; ++k) h.insert(h.end(), f[k].P.data(), f[k].P.data() + D * D);
        for (index_t k = 0; k < K; ++k)
            for (index_t i = 0; i < D; ++i) h.push_back(f[k].Sigma(i, i));
        const T c = -T(0.5) * static_cast<T>(D) * std::log(T(2) * std::numbers::pi_v<T>);
        for (index_t k = 0; k < K; ++k) h.push_back(c - T(0.5) * f[k].logdet);
        for (index_t k = 0; k < K; ++k)
            h.push_back(diag_ ? (T(1) / f[k].Sigma.diagonal().array()).maxCoeff()
                              : f[k].precision_max);
        for (index_t k = 0; k < K; ++k) covs_.push_back(std::move(f[k].Sigma));
        data_.assign(h.begin(), h.end());
    }

    index_t dim() const { return static_cast<index_t>(means_.cols()); }
    index_t components() const { return static_cast<index_t>(w_.size()); }
    const vector<T>& weights() const { return w_; }
    const matrix<T>& means() const { return means_; }
    const std::vector<matrix<T>>& covariances() const { return covs_; }
    /// Whether every covariance is diagonal (the low-rank form then has rank K - 1).
    bool diagonal_covariances() const { return diag_; }

    /// p * N(0, sigma^2 I) = sum_k w_k N(mu_k, Sigma_k + sigma^2 I).
    gaussian_mixture smoothed(T sigma) const {
        hosm::detail::check_positive("targets::gaussian_mixture::smoothed", "sigma", sigma);
        std::vector<matrix<T>> c = covs_;
        for (auto& S : c) S.diagonal().array() += sigma * sigma;
        return gaussian_mixture(w_, means_, c);
    }

    gaussian_mixture_view<T> view() const {
        const index_t D = dim(), K = components();
        const T* p = thrust::raw_pointer_cast(data_.data());
        gaussian_mixture_view<T> v;
        v.w = p;
        v.log_w = p + K;
        v.mu = p + 2 * K;
        v.L = v.mu + D * K;
        v.P = v.L + D * D * K;
        v.var = v.P + D * D * K;
        v.log_norm = v.var + D * K;
        v.lam = v.log_norm + K;
        v.D = D;
        v.K = K;
        v.diag = diag_;
        return v;
    }

    /// Host back ends, every covariance diagonal: s1 of the batch vectorised
    /// across samples (detail/mixture_score_host.hpp); false (nothing done)
    /// otherwise. Called by score(x, out) after its checks.
    bool score_host(batch_view<const T> x, batch_view<T> out) const {
        if constexpr (B::host_memory) {
            if (!diag_) return false;
            detail::mixture_score_diag_host(view(), x, out, [](index_t n, auto f) {
                backend::for_each_index<B>(n, f);
            });
            return true;
        } else {
            (void)x, (void)out;
            return false;
        }
    }

    index_t hessian_workspace() const { return components() + 2 * dim(); }
    /// max(1, min(K - 1, D)) when every covariance is diagonal, else D.
    index_t low_rank_rank() const {
        const index_t D = dim(), K = components();
        if (!diag_) return D;
        return std::max<index_t>(1, std::min<index_t>(K - 1, D));
    }

private:
    vector<T> w_;
    matrix<T> means_;
    std::vector<matrix<T>> covs_;
    bool diag_ = true;
    typename B::template vector<T> data_;
};

}  // namespace hosm::targets
