// hosm/models/detail/expfam_gaussian_statistics.hpp — sufficient statistics of
// the multivariate normal, for models::exponential_family.
//
// Maths. N(mu, P^{-1}) with precision P has
//
//     log p(x) = -1/2 x^T P x + (P mu)^T x + const = theta^T T(x) + const,
//
// with K = D + D (D + 1) / 2 statistics and no base measure (a = 0):
//
//     T_i(x) = x_i                          theta_i = eta_i = (P mu)_i     i < D
//     T_k(x) = -x_i^2 / 2     (i == j)      theta_k = P_ii                 k >= D
//     T_k(x) = -x_i x_j       (i >  j)      theta_k = P_ij
//
// the pairs (i, j), i >= j, packed column by column as in models::mlp_score's
// full head: k = D + i + j (2 D - j - 1) / 2. Then
// theta^T T(x) = eta^T x - 1/2 x^T P x exactly. Derivatives:
//
//     dT_i/dx_l = delta_il,          Laplacian 0
//     (i == j)  dT_k/dx_l = -x_i delta_il,                     Laplacian -1
//     (i >  j)  dT_k/dx_l = -x_j delta_il - x_i delta_jl,      Laplacian 0
//
// Score matching with these statistics gives the sample mean and the inverse of
// the (1/N) sample covariance (the Gaussian MLE; Hyvärinen 2005, Sec. 3).
//
// API
//   models::gaussian_statistics<T> s{D};            D >= 1, else hosm::error
//   s.dim(), s.size(); value / derivatives / base (see expfam_statistics.hpp)
//   host helpers (Eigen):
//     s.parameters(mu, P) -> theta (K)              P symmetric D x D
//     s.precision(theta)  -> P (D x D, symmetric)
//     s.mean(theta)       -> mu = P^{-1} eta        (P must be positive definite,
//                                                   else hosm::error)
#pragma once
#include <Eigen/Dense>

#include <hosm/config.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/types.hpp>

namespace hosm::models {

template <class T>
struct gaussian_statistics {
    using value_type = T;

    index_t D = 1;

    gaussian_statistics() = default;
    explicit gaussian_statistics(index_t dim) : D(dim) {
        hosm::detail::check_at_least("models::gaussian_statistics", "dim", dim, 1);
    }

    HOSM_HOST_DEVICE index_t dim() const { return D; }
    HOSM_HOST_DEVICE index_t size() const { return D + D * (D + 1) / 2; }

    HOSM_HOST_DEVICE void value(const T* x, T* t) const {
        for (index_t i = 0; i < D; ++i) t[i] = x[i];
        index_t k = D;
        for (index_t j = 0; j < D; ++j)
            for (index_t i = j; i < D; ++i) t[k++] = i == j ? -x[i] * x[i] / T(2) : -x[i] * x[j];
    }

    HOSM_HOST_DEVICE void derivatives(const T* x, T* grad, T* lap) const {
        const index_t K = size();
        for (index_t n = 0; n < K * D; ++n) grad[n] = T(0);
        for (index_t i = 0; i < D; ++i) {
            grad[i + K * i] = T(1);
            lap[i] = T(0);
        }
        index_t k = D;
        for (index_t j = 0; j < D; ++j)
            for (index_t i = j; i < D; ++i, ++k) {
                if (i == j) {
                    grad[k + K * i] = -x[i];
                    lap[k] = T(-1);
                } else {
                    grad[k + K * i] = -x[j];
                    grad[k + K * j] = -x[i];
                    lap[k] = T(0);
                }
            }
    }

    HOSM_HOST_DEVICE T base(const T*, T* grad_a, T* lap_a) const {
        for (index_t i = 0; i < D; ++i) grad_a[i] = T(0);
        *lap_a = T(0);
        return T(0);
    }

    // ---- host helpers ----

    /// theta for N(mu, P^{-1}): (P mu, lower triangle of P).
    vector<T> parameters(const vector<T>& mu, const matrix<T>& P) const {
        constexpr const char* where = "models::gaussian_statistics::parameters";
        hosm::detail::check_size(where, "mu", static_cast<index_t>(mu.size()), D);
        hosm::detail::check_size(where, "P.rows", static_cast<index_t>(P.rows()), D);
        hosm::detail::check_size(where, "P.cols", static_cast<index_t>(P.cols()), D);
        vector<T> theta(size());
        theta.head(D) = P * mu;
        index_t k = D;
        for (index_t j = 0; j < D; ++j)
            for (index_t i = j; i < D; ++i) theta[k++] = P(i, j);
        return theta;
    }

    /// The symmetric matrix P packed in theta.
    matrix<T> precision(const vector<T>& theta) const {
        hosm::detail::check_size("models::gaussian_statistics::precision", "theta",
                                 static_cast<index_t>(theta.size()), size());
        matrix<T> P(D, D);
        index_t k = D;
        for (index_t j = 0; j < D; ++j)
            for (index_t i = j; i < D; ++i) {
                P(i, j) = theta[k];
                P(j, i) = theta[k++];
            }
        return P;
    }

    /// mu = P^{-1} eta; P must be positive definite.
    vector<T> mean(const vector<T>& theta) const {
        const matrix<T> P = precision(theta);
        Eigen::LLT<matrix<T>> llt(P);
        if (llt.info() != Eigen::Success)
            hosm::detail::fail("models::gaussian_statistics::mean",
                               "argument 'theta' has a precision that is not positive definite");
        return llt.solve(theta.head(D));
    }
};

}  // namespace hosm::models
