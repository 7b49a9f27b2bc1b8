// hosm/targets/gaussian.hpp — the multivariate normal N(mu, Sigma) as an
// analytic target with exact scores of every order hosm uses.
//
// Maths, with P = Sigma^{-1} and Sigma = L L^T (Cholesky):
//   log p(x) = -D/2 log(2 pi) - 1/2 log det Sigma - 1/2 (x - mu)^T P (x - mu)
//   s1(x)    = -P (x - mu)
//   s2(x)    = -P                                  (constant)
//   diagonal structure: -diag(P)
//   low-rank structure (exact): with lambda = largest eigenvalue of P and
//     P = V diag(l) V^T,   -P = -lambda I + V diag(lambda - l) V^T,
//     so alpha = -lambda (every entry) and B = V_{:, i} sqrt(lambda - l_i) over
//     the D - 1 eigenvalues below lambda (rank D - 1); for a diagonal Sigma,
//     alpha = -diag(P) and B = 0 (rank 1, a zero column). low_rank_rank()
//     tells which; a batch of higher rank is padded with zero columns.
//   sampling: x = mu + L z, z(k) = s.normal(index, k) (random::fill_normal's numbers).
//   smoothing (seed 000 Sec. 2): q_sigma = p * N(0, sigma^2 I) = N(mu, Sigma + sigma^2 I),
//     returned by smoothed(sigma); its scores are the exact noisy scores s~1, s~2.
//   M-density (seed 003 Eq. 4-7): targets::m_density(g, noise::multimeasurement{sigma, M});
//     for a Gaussian it is N(1_M (x) mu, 1_M 1_M^T (x) Sigma + sigma^2 I_{MD}).
//
// API (T float or double; B a back end: parameters live in B's memory)
//   targets::gaussian<T, B> g(mu, Sigma);     mu: hosm::vector<T> (D), Sigma: D x D
//   g.dim(), g.mean(), g.covariance(), g.cholesky(), g.precision()   (host copies)
//   g.smoothed(sigma)                         N(mu, Sigma + sigma^2 I), sigma > 0
//   g.view()                                  gaussian_view<T>: per-sample HOSM_HOST_DEVICE
//                                             log_density / score / hessian / sample
//   batched (x D x N in B's memory; see detail/target_base.hpp):
//     g.sample(s, out, first), g.log_density(x, out 1 x N), g.score(x, out D x N),
//     g.hessian(x, H) / hessian_full / hessian_diagonal / hessian_low_rank with
//     H a hessian::batch<full | diagonal | low_rank<R>, T, B> (R >= low_rank_rank())
//   host: g.sample(s, n), g.log_density(X), g.score(X), g.hessian_full(x),
//     g.hessian_diagonal(x), g.hessian_low_rank(x)
//
// Errors (hosm::error): D = 0; mu or Sigma non-finite; Sigma not D x D, not
// symmetric (to sqrt(eps) relative) or "argument 'Sigma' is not positive
// definite"; sigma <= 0 in smoothed; shapes and non-finite input of the batched
// functions.
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <numbers>
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
#include <hosm/targets/detail/normals.hpp>
#include <hosm/targets/detail/target_base.hpp>

namespace hosm::targets {

/// One Gaussian seen by a kernel: pointers into the owning target's storage.
template <class T>
struct gaussian_view {
    const T* mu = nullptr;        // D
    const T* L = nullptr;         // D x D lower Cholesky factor, column-major
    const T* P = nullptr;         // D x D precision
    const T* lr_alpha = nullptr;  // D: diagonal of the low-rank form
    const T* lr_B = nullptr;      // D x lr_rank
    index_t dim = 0;
    index_t lr_rank = 0;
    T log_norm = T(0);  // -D/2 log(2 pi) - 1/2 log det Sigma

    HOSM_HOST_DEVICE T log_density(const T* x) const {
        T q = T(0);
        for (index_t j = 0; j < dim; ++j) {
            const T* Pj = P + j * dim;
            T t = T(0);
            for (index_t i = 0; i < dim; ++i) t += Pj[i] * (x[i] - mu[i]);
            q += t * (x[j] - mu[j]);
        }
        return log_norm - q / T(2);
    }

    HOSM_HOST_DEVICE void score(const T* x, T* out) const {
        for (index_t i = 0; i < dim; ++i) out[i] = T(0);
        for (index_t j = 0; j < dim; ++j) {
            const T dj = x[j] - mu[j];
            const T* Pj = P + j * dim;
            for (index_t i = 0; i < dim; ++i) out[i] -= Pj[i] * dj;
        }
    }

    HOSM_HOST_DEVICE void hessian(const T*, hessian::full_view<T> H, T*) const {
        for (index_t i = 0; i < dim * dim; ++i) H.h[i] = -P[i];
    }

    HOSM_HOST_DEVICE void hessian(const T*, hessian::diagonal_view<T> H, T*) const {
        for (index_t i = 0; i < dim; ++i) H.d[i] = -P[i + i * dim];
    }

    HOSM_HOST_DEVICE void hessian(const T*, hessian::low_rank_view<T> H, T*) const {
        for (index_t i = 0; i < dim; ++i) H.alpha[i] = lr_alpha[i];
        for (index_t k = 0; k < H.rank; ++k)
            for (index_t i = 0; i < dim; ++i)
                H.B[i + k * dim] = k < lr_rank ? lr_B[i + k * dim] : T(0);
    }

    /// out = mu + L z, z the sample's standard normals (in place, bottom row first).
    HOSM_HOST_DEVICE void sample(const random::stream& s, std::uint64_t index, T* out) const {
        detail::normals(s, index, out, dim);
        for (index_t i = dim - 1; i >= 0; --i) {
            T v = T(0);
            for (index_t j = 0; j <= i; ++j) v += L[i + j * dim] * out[j];
            out[i] = mu[i] + v;
        }
    }
};

template <class T, concepts::Backend B = backend::cpp>
class gaussian : public detail::target_base<gaussian<T, B>, T, B> {
public:
    static constexpr const char* name = "targets::gaussian";

    gaussian(const vector<T>& mu, const matrix<T>& Sigma) : mu_(mu) {
        const index_t D = static_cast<index_t>(mu.size());
        hosm::detail::check_at_least(name, "mu.size()", D, 1);
        hosm::detail::check_all_finite(name, "mu", mu.data(), D);
        auto f = detail::factor_covariance<T>(name, "Sigma", Sigma, D);
        Sigma_ = std::move(f.Sigma);
        L_ = std::move(f.L);
        P_ = std::move(f.P);
        log_norm_ = -T(0.5) * static_cast<T>(D) * std::log(T(2) * std::numbers::pi_v<T>) - T(0.5) * f.logdet;
        // exact low-rank form of -P
        if (f.diagonal) {
            lr_alpha_ = -P_.diagonal();
            lr_B_ = matrix<T>::Zero(D, 1);
        } else {
            Eigen::SelfAdjointEigenSolver<matrix<T>> eig(P_);
            const vector<T>& l = eig.eigenvalues();  // ascending
            const T lam = l(D - 1);
            lr_alpha_ = vector<T>::Constant(D, -lam);
            lr_B_ = matrix<T>(D, D - 1);
            for (index_t k = 0; k < D - 1; ++k)
                lr_B_.col(k) = eig.eigenvectors().col(k) * std::sqrt(std::max(lam - l(k), T(0)));
        }
        upload();
    }

    index_t dim() const { return static_cast<index_t>(mu_.size()); }
    const vector<T>& mean() const { return mu_; }
    const matrix<T>& covariance() const { return Sigma_; }
    const matrix<T>& cholesky() const { return L_; }
    const matrix<T>& precision() const { return P_; }

    /// q_sigma = p * N(0, sigma^2 I) = N(mu, Sigma + sigma^2 I).
    gaussian smoothed(T sigma) const {
        hosm::detail::check_positive("targets::gaussian::smoothed", "sigma", sigma);
        const index_t D = dim();
        return gaussian(mu_, Sigma_ + sigma * sigma * matrix<T>::Identity(D, D));
    }

    gaussian_view<T> view() const {
        const index_t D = dim();
        const T* p = thrust::raw_pointer_cast(data_.data());
        gaussian_view<T> v;
        v.mu = p;
        v.L = p + D;
        v.P = p + D + D * D;
        v.lr_alpha = p + D + 2 * D * D;
        v.lr_B = p + 2 * D + 2 * D * D;
        v.dim = D;
        v.lr_rank = static_cast<index_t>(lr_B_.cols());
        v.log_norm = log_norm_;
        return v;
    }

    index_t hessian_workspace() const { return 0; }
    /// Rank of the exact low-rank form: D - 1 (1 when Sigma is diagonal or D = 1).
    index_t low_rank_rank() const { return static_cast<index_t>(lr_B_.cols()); }

private:
    void upload() {
        std::vector<T> h;
        auto put = [&h](const T* p, index_t n) { h.insert(h.end(), p, p + n); };
        const index_t D = dim();
        put(mu_.data(), D);
        put(L_.data(), D * D);
        put(P_.data(), D * D);
        put(lr_alpha_.data(), D);
        put(lr_B_.data(), static_cast<index_t>(lr_B_.size()));
        data_.assign(h.begin(), h.end());
    }

    vector<T> mu_;
    matrix<T> Sigma_, L_, P_;
    vector<T> lr_alpha_;
    matrix<T> lr_B_;
    T log_norm_ = T(0);
    typename B::template vector<T> data_;
};

}  // namespace hosm::targets
